"""The TLS context for ``ssl_enabled``: modern defaults, checked at start-up."""
from __future__ import annotations

import ssl
from typing import Any, Mapping


class TLSConfigError(ValueError):
    """The key or certificate named in the config cannot be used."""


def server_context(config: Mapping[str, Any]) -> ssl.SSLContext:
    """An ``SSLContext`` serving TLS 1.2+ with ALPN ``http/1.1`` and no session tickets.

    Raises ``TLSConfigError`` naming the files when they cannot be loaded, so a wrong
    path or a key that does not match its certificate stops the server at start-up
    instead of failing every handshake.
    """
    certfile, keyfile = config["ssl_certfile"], config["ssl_keyfile"]
    # A server context from the start (create_default_context(CLIENT_AUTH) is not one on
    # Python 3.9, where num_tickets below then raises); PROTOCOL_TLS_SERVER brings
    # OpenSSL's secure cipher defaults, and no client certificate is asked for.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    # No TLS 1.3 session tickets. They are the only bytes a server sends between the
    # handshake and its first response, and a client that reads in one thread while
    # another writes its first request (the ``websockets`` sync client does) processes
    # them in SSL_read at the moment SSL_write runs on the same SSL object, which
    # OpenSSL does not allow: 2-3 first requests in 100 never left such a client.
    # The cost: TLS 1.3 clients cannot resume a session and make a full handshake.
    context.num_tickets = 0
    try:
        context.load_cert_chain(certfile, keyfile or None, config.get("ssl_password"))
    except (OSError, ssl.SSLError) as exc:
        raise TLSConfigError(
            f"cannot load the TLS certificate {certfile!r} with key {keyfile!r}: {exc}") from exc
    return context
