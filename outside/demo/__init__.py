"""The built-in demo (``outside demo``): one page showing the framework in a browser.

Routes: ``/`` (the page), ``/hello/<name>`` (a typed route), ``/api/info`` (JSON the
page fetches), ``/upload`` (a form upload, URL-encoded or multipart) and ``/chat`` (a
WebSocket chat: open the page in two tabs and they talk to each other).
"""
from __future__ import annotations

import os
import platform
import threading
import time
from typing import Any, Tuple

from .. import speedups
from .._version import __version__
from ..app import OutsideHTTP
from ..files import FilePath
from ..request import Request
from ..response import Response
from .chat import ChatRoom
from .forms import describe_form

PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "index.html")
MAX_UPLOAD_MB = 1  # a demo needs no more; the engine answers 413 beyond


def create_app(host: Tuple[str, int] = ("127.0.0.1", 8000)) -> OutsideHTTP:
    """A new demo app listening on ``host`` (the chat reaches every worker process)."""
    app = OutsideHTTP(host)
    app.config["max_body_size_mb"] = MAX_UPLOAD_MB
    room = ChatRoom(app)
    visits = _Counter()

    @app.route("/")
    def page(request: Request) -> Response:
        return Response(200, {"Content-Type": "text/html; charset=utf-8"}, FilePath(PAGE))

    @app.route("/hello/<name>")
    def hello(request: Request, name: str) -> Response:
        return Response(200, {}, f"Hello, {name}! (served by outside)")

    @app.route("/api/info")
    def info(request: Request) -> Response:
        return Response(200, {"Cache-Control": "no-store"}, {
            "framework": "outside",
            "version": __version__,
            "speedups": speedups.ACTIVE,
            "python": platform.python_version(),
            "server_time": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "visits": visits.next(),  # of this worker process
            "worker_pid": os.getpid(),
            "hello_url": app.url_for("hello", name="world"),
        })

    @app.route("/upload", methods=["POST"])
    def upload(request: Request) -> Any:
        return Response(200, {}, describe_form(request))

    @app.websocket("/chat", max_message_size=64 * 1024)
    def chat(connection: Any) -> None:
        room.serve(connection)

    return app


class _Counter:
    """A number that goes up by one per call, from any thread."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._value += 1
            return self._value
