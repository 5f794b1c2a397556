"""Sans-I/O WebSocket (RFC 6455): frames, masking, handshake, permessage-deflate, protocol.

``WebSocket`` is the route users create; the rest knows no sockets, so that the server,
a test client and the benchmarks all drive the same code.
"""
from .connection import ConnectionEnded, WebSocketConnection
from .route import WebSocket

__all__ = ["ConnectionEnded", "WebSocket", "WebSocketConnection"]
