"""The WebSocket adapters of the server: the sans-I/O core (``outside.websocket``) run
over a connection's socket, in one of two shapes.

- ``blocking``: ``WebSocketConnection``, a thread-safe connection whose handler thread
  reads with a blocking ``recv()`` (the 1.5.x API handlers receive);
- ``event``: ``EventDrivenSession``, the same connection read by the worker's event loop,
  which hands each message to the route's ``on_message``;
- ``upgrade``: ``serve_websocket``, where an accepted upgrade leaves the HTTP engine;
- ``transport``: the small interfaces the adapters need of the byte stream.
"""
from __future__ import annotations

from .blocking import WebSocketConnection
from .event import EventDrivenSession
from .upgrade import serve_websocket

__all__ = ["EventDrivenSession", "WebSocketConnection", "serve_websocket"]
