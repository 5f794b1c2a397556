"""outside: an HTTP/1.1 and WebSocket server framework, inspired by Flask, needing nothing in front of it.

Every public name is importable from here; ``docs/api.md`` describes each one.

``import outside`` loads the app layer only. The names used by tests, WSGI servers and
TLS set-up (``TestClient``, ``WSGIApplication``, ``TLSConfigError``...) are imported on
first use, so a program that does not need them, or the engine (``outside.server``,
loaded by ``OutsideHTTP.run()``), does not pay for them at start-up.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, List

from ._version import __version__
from .app import OutsideHTTP, OutsideHTTP_Redirect, ScheduledResponse
from .blueprints import Blueprint
from .cookies import ResponseCookie
from .files import FilePath
from .forms import MissingField, MultiDict, MultipartError, UploadedFile, secure_filename
from .headers import get_insensitive_header
from .helpers import HTTPError, abort, redirect, send_file
from .proxy import ProxyConfigError
from .request import Request
from .response import Response, ResponseError
from .routing import BuildError, HandlerSignatureError, RouteConflictError, RuleError
from .sessions import Session, flash, get_flashed_messages
from .sse import EventStream
from .static import StaticFiles
from .status import get_description
from .websocket.errors import ConnectionEnded
from .websocket_route import WebSocket

if TYPE_CHECKING:
    from .server.tls import TLSConfigError
    from .server.websocket.blocking import WebSocketConnection
    from .testing import TestClient, TestResponse
    from .wsgi import WSGIApplication, to_wsgi

# name -> the module that defines it, imported by ``__getattr__`` on first access
_LAZY = {
    "TLSConfigError": ".server.tls",
    "WebSocketConnection": ".server.websocket.blocking",
    "TestClient": ".testing",
    "TestResponse": ".testing",
    "WSGIApplication": ".wsgi",
    "to_wsgi": ".wsgi",
}

__all__ = [
    # the 1.5.x API
    "FilePath", "OutsideHTTP", "OutsideHTTP_Redirect", "Request", "Response", "ResponseCookie",
    "ScheduledResponse", "WebSocket", "WebSocketConnection", "get_description",
    "get_insensitive_header",
    # added since
    "BuildError", "ConnectionEnded", "EventStream", "HandlerSignatureError", "ProxyConfigError", "ResponseError",
    "RouteConflictError", "RuleError", "StaticFiles", "TLSConfigError", "TestClient",
    "TestResponse", "WSGIApplication", "__version__", "to_wsgi",
    # sessions, hooks, blueprints, helpers
    "Blueprint", "HTTPError", "Session", "abort", "flash", "get_flashed_messages", "redirect",
    "send_file",
    # forms and uploads
    "MissingField", "MultiDict", "MultipartError", "UploadedFile", "secure_filename",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'outside' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later accesses skip this function
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_LAZY))
