"""The server's opening handshake (RFC 6455 section 4.2), independent of any server.

``accept(method, version, headers, ...)`` takes the request as its method, its HTTP
version and a list of (name, value) header pairs, and returns the 101 response headers
with what was agreed, or raises ``HandshakeError`` with the status to answer:

- 400 for a request that is not a valid WebSocket upgrade;
- 426 (with ``Sec-WebSocket-Version: 13``) for another protocol version;
- 403 for an ``Origin`` outside ``allowed_origins``.

The origin check is the defence against cross-site WebSocket hijacking: browsers send
cookies with a WebSocket handshake from any site, and only the ``Origin`` header, which
a page cannot forge, tells the server which site opened it. It is off by default.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from . import deflate as permessage_deflate

# RFC 6455 section 1.3: appended to the client's key before hashing.
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SUPPORTED_VERSION = "13"

Headers = Iterable[tuple[str, str]]


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for the client's ``Sec-WebSocket-Key``."""
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


class HandshakeError(Exception):
    """The upgrade is refused: answer ``status`` with ``headers`` and close."""

    def __init__(self, status: int, reason: str,
                 headers: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason
        self.headers = list(headers)


@dataclass
class Handshake:
    """An accepted upgrade: the 101 response's headers and what they agreed on."""

    headers: list[tuple[str, str]]
    subprotocol: str | None = None
    deflate: permessage_deflate.DeflateParameters | None = None

    def response_head(self) -> bytes:
        """The whole 101 response (status line, headers, blank line) to write."""
        lines = "".join(f"{name}: {value}\r\n" for name, value in self.headers)
        return f"HTTP/1.1 101 Switching Protocols\r\n{lines}\r\n".encode("latin-1")


def _values(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name]


def _tokens(values: list[str]) -> list[str]:
    """The comma-separated tokens of a header's lines, lowercased."""
    return [token.strip().lower() for value in values for token in value.split(",")
            if token.strip()]


def _version_ok(version: str) -> bool:
    """HTTP/1.1 or later; ``version`` as "HTTP/1.1" or "1.1"."""
    number = version.upper().replace("HTTP/", "", 1).strip()
    major, _, minor = number.partition(".")
    if not major.isdigit() or not (minor or "0").isdigit():
        return False
    return (int(major), int(minor or "0")) >= (1, 1)


def _check_key(values: list[str]) -> str:
    if len(values) != 1:
        raise HandshakeError(400, "exactly one Sec-WebSocket-Key is required")
    key = values[0].strip()
    try:
        decoded = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) != 16:
        raise HandshakeError(400, "Sec-WebSocket-Key is not 16 bytes in base64")
    return key


def accept(method: str, version: str, headers: Headers, *,
           subprotocols: Sequence[str] = (),
           allowed_origins: Iterable[str | None] | None = None,
           compression: bool = True) -> Handshake:
    """Validate an upgrade request and build the 101 response headers.

    ``subprotocols``: the ones this server speaks, preferred first; the first of them
    the client also offers is chosen (none in common: no subprotocol). ``allowed_origins``:
    when given, the ``Origin`` must be one of them (compared case-insensitively; put None
    in the list to admit clients that send no Origin; browsers always send one).
    ``compression``: accept a permessage-deflate offer.
    """
    headers = list(headers)
    if method != "GET":
        raise HandshakeError(400, "a WebSocket handshake is a GET request")
    if not _version_ok(version):
        raise HandshakeError(400, "a WebSocket handshake needs HTTP/1.1 or later")
    if not _values(headers, "host"):
        raise HandshakeError(400, "the Host header is missing")
    if "websocket" not in _tokens(_values(headers, "upgrade")):
        raise HandshakeError(400, "Upgrade: websocket is missing")
    if "upgrade" not in _tokens(_values(headers, "connection")):
        raise HandshakeError(400, "Connection: upgrade is missing")
    version_header = [("Sec-WebSocket-Version", SUPPORTED_VERSION)]
    versions = _values(headers, "sec-websocket-version")
    if not versions:
        raise HandshakeError(400, "Sec-WebSocket-Version is missing", version_header)
    if [value.strip() for value in versions] != [SUPPORTED_VERSION]:
        raise HandshakeError(426, "only WebSocket version 13 is supported", version_header)
    key = _check_key(_values(headers, "sec-websocket-key"))
    if allowed_origins is not None:
        origins = _values(headers, "origin")
        origin = origins[0].strip().lower() if len(origins) == 1 else None
        allowed = {None if item is None else item.lower() for item in allowed_origins}
        if len(origins) > 1 or origin not in allowed:
            raise HandshakeError(403, "this Origin may not open a WebSocket here")

    response = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                ("Sec-WebSocket-Accept", accept_key(key))]
    offered = [token.strip() for value in _values(headers, "sec-websocket-protocol")
               for token in value.split(",")]
    subprotocol = next((name for name in subprotocols if name in offered), None)
    if subprotocol is not None:
        response.append(("Sec-WebSocket-Protocol", subprotocol))
    deflate = None
    if compression:
        deflate = permessage_deflate.negotiate(_values(headers, "sec-websocket-extensions"))
        if deflate is not None:
            response.append(("Sec-WebSocket-Extensions", deflate.response_header()))
    return Handshake(response, subprotocol, deflate)
