"""outside: an HTTP/1.1 and WebSocket server framework, inspired by Flask, needing nothing in front of it.

Every public name is importable from here; ``docs/api.md`` describes each one.
"""
from __future__ import annotations

from ._version import __version__
from .app import OutsideHTTP, OutsideHTTP_Redirect, ScheduledResponse
from .cookies import ResponseCookie
from .files import FilePath
from .headers import get_insensitive_header
from .proxy import ProxyConfigError
from .request import Request
from .response import Response, ResponseError
from .routing import HandlerSignatureError
from .rules import BuildError, RouteConflictError, RuleError
from .server.tls import TLSConfigError
from .server.websocket.blocking import WebSocketConnection
from .static import StaticFiles
from .status import get_description
from .testing import TestClient, TestResponse
from .websocket.errors import ConnectionEnded
from .websocket_route import WebSocket
from .wsgi import WSGIApplication, to_wsgi

__all__ = [
    # the 1.5.x API
    "FilePath", "OutsideHTTP", "OutsideHTTP_Redirect", "Request", "Response", "ResponseCookie",
    "ScheduledResponse", "WebSocket", "WebSocketConnection", "get_description",
    "get_insensitive_header",
    # added since
    "BuildError", "ConnectionEnded", "HandlerSignatureError", "ProxyConfigError", "ResponseError",
    "RouteConflictError", "RuleError", "StaticFiles", "TLSConfigError", "TestClient",
    "TestResponse", "WSGIApplication", "__version__", "to_wsgi",
]
