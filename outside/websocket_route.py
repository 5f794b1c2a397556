"""``WebSocket``: the route target users create, with the options of its connections.

It belongs to the app layer: the handlers it holds run in the server's WebSocket
adapters (``outside.server.websocket``) over the sans-I/O core (``outside.websocket``).
"""
from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Union

from .websocket.handshake import Handshake, accept
from .websocket.protocol import DEFAULT_MAX_SIZE, WebSocketProtocol

ConnectionHandler = Callable[[Any], None]
MessageHandler = Callable[[Any, Union[str, bytes]], None]
ExitHandler = Callable[..., None]


class WebSocket:
    """A route that upgrades requests to WebSocket connections.

        ws = WebSocket()
        ws.on_connection(handler)   # handler(connection), runs for the connection's life
        ws.on_exit(cleanup)         # cleanup() or cleanup(connection), once, whichever side closed
        server.set_route("/ws", ws)

    Or event-driven, with no thread per connection (for many, mostly idle, connections):

        ws.on_message(reply)        # reply(connection, message), for each message
        ws.on_connection(greet)     # optional: greet(connection) once; it must not recv()

    ``on_message`` handlers run on the server's event loop, one message at a time per
    connection, and should return promptly (one that blocks is moved off the loop).

    ``allowed_origins``: None (default) accepts any ``Origin``; a list admits only those
    origins (e.g. ``["https://example.com"]``), the defence against cross-site WebSocket
    hijacking (see ``outside.websocket.handshake``). ``subprotocols``: the subprotocols
    spoken, preferred first. ``max_message_size``: the largest message accepted, in bytes
    after decompression, a security limit (None: unlimited). ``compression``: accept
    permessage-deflate when the client offers it.
    """

    def __init__(self, *, allowed_origins: Iterable[str | None] | None = None,
                 subprotocols: Sequence[str] = (),
                 max_message_size: int | None = DEFAULT_MAX_SIZE,
                 compression: bool = True) -> None:
        self.allowed_origins = None if allowed_origins is None else list(allowed_origins)
        self.subprotocols = list(subprotocols)
        self.max_message_size = max_message_size
        self.compression = compression
        self.connection_handler: ConnectionHandler | None = None
        self.message_handler: MessageHandler | None = None
        self.exit_handler: ExitHandler | None = None
        self._exit_takes_connection = False

    def on_connection(self, handler: ConnectionHandler) -> ConnectionHandler:
        """Set the function run with each new connection (usable as a decorator)."""
        self.connection_handler = handler
        return handler

    def on_message(self, handler: MessageHandler) -> MessageHandler:
        """Set the function run with each whole message, ``handler(connection, message)``
        (``str`` for text, ``bytes`` for binary); usable as a decorator. The route is then
        event-driven: ``on_connection`` runs once at the start and must not ``recv()``."""
        self.message_handler = handler
        return handler

    def on_exit(self, handler: ExitHandler) -> ExitHandler:
        """Set the function run once when a connection ends (usable as a decorator):
        ``handler()`` as in 1.5.x, or ``handler(connection)`` when it takes an argument."""
        self.exit_handler = handler
        self._exit_takes_connection = _takes_one_argument(handler)
        return handler

    def run_exit_handler(self, connection: Any) -> None:
        """Call the exit handler, if any, the way it was written to be called."""
        if self.exit_handler is not None:
            if self._exit_takes_connection:
                self.exit_handler(connection)
            else:
                self.exit_handler()

    def handshake(self, method: str, version: str,
                  headers: Iterable[tuple[str, str]]) -> Handshake:
        """Validate an upgrade request with this route's options (raises HandshakeError)."""
        return accept(method, version, headers, subprotocols=self.subprotocols,
                      allowed_origins=self.allowed_origins, compression=self.compression)

    def protocol(self, handshake: Handshake) -> WebSocketProtocol:
        """The server-side protocol state for a connection accepted by ``handshake``."""
        return WebSocketProtocol(max_size=self.max_message_size, deflate=handshake.deflate)


def _takes_one_argument(handler: Callable[..., Any]) -> bool:
    try:
        inspect.signature(handler).bind(None)
    except (TypeError, ValueError):  # takes none (or has no signature to inspect)
        return False
    return True
