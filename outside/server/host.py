"""What a connection may ask of the worker that runs it, and what the worker watches.

``Connection`` and ``Transport`` hold a ``Host`` (the ``Worker`` in a server, a small
fake in tests) and call only its members: neither reaches through another object to
the worker. The worker's selector watches ``Watched`` objects: an HTTP ``Connection``
until an upgrade replaces it (``Host.replace``) with a long-lived session, such as an
event-driven WebSocket, that the loop then drives the same way.
"""
from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol

from .settings import Settings

if TYPE_CHECKING:  # the app layer imports the engine lazily, the engine only names it
    from ..app import BaseApp
    from ..request import Request
    from ..response import Response
    from .metrics import WorkerMetrics


class Watched(Protocol):
    """An object the worker's event loop reads when its socket is readable.

    The loop calls ``on_readable`` from the one thread that owns the object at that
    moment, ``expired(now)`` on its sweeps (only while no thread owns it), and
    ``ended()`` when it drops the object (expired, or the worker is shutting down):
    ``ended`` closes the socket, releases what the object holds and is idempotent.
    """

    @property
    def sock(self) -> socket.socket: ...

    def on_readable(self) -> None: ...

    def expired(self, now: float) -> bool: ...

    def ended(self) -> None: ...


class Host(Protocol):
    """The services of a worker process, as a connection and its transport see them."""

    settings: Settings
    app: BaseApp        # renders responses and makes error responses
    access_log: bool    # whether to write an access line per response
    access_log_format: str  # "common", "combined" or "json"
    metrics: Optional[WorkerMetrics]  # the worker's metrics counters, or None when off

    @property
    def keep_alive(self) -> bool:
        """Answers may keep their connection open: False once a stop or a retirement
        (``max_requests``, memory) began, so clients move to the other workers."""
        ...

    @property
    def stopping(self) -> bool:
        """A graceful stop has begun: answer what is in flight with ``Connection: close``."""
        ...

    def dispatch(self, request: Request) -> Any:
        """The app's answer to ``request``: a ``Response``, or the route of an upgrade
        (never raises)."""
        ...

    def post_callback(self, request: Request, response: Response) -> None:
        """Run the config's ``post_callback`` (never raises)."""
        ...

    def on_stop(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` once when a graceful stop begins; returns its cancel function."""
        ...

    def forget(self, watched: Watched) -> None:
        """Stop watching ``watched`` (it is closing its socket); idempotent."""
        ...

    def replace(self, old: Watched, new: Watched) -> None:
        """Watch ``new`` instead of ``old`` (an upgrade); the thread that owns ``old``
        owns ``new`` until it hands it back to the loop."""
        ...

    def open_websocket(self) -> bool:
        """Count one more open WebSocket; False at ``max_websockets``."""
        ...

    def close_websocket(self) -> None:
        """A WebSocket counted by ``open_websocket`` is over."""
        ...

    def release_thread(self) -> bool:
        """Take the calling thread out of the pool of handler threads (a long-lived
        blocking job); False if the worker cannot spare it."""
        ...
