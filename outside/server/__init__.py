"""The HTTP/1.1 engine: listening sockets, worker processes, event loop, connections.

``Server(app).run()`` serves an ``OutsideHTTP`` app until ``Server.stop()``. Read
``docs/engine.md`` for the design and ``docs/configuration.md`` for the config keys.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Optional, Union

from . import logs, sockets
from .settings import Settings
from .supervisor import Supervisor
from .tls import TLSConfigError, server_context
from .worker import Worker

logger = logging.getLogger("outside")

__all__ = ["Server", "TLSConfigError"]


class Server:
    """Runs ``app`` with the engine configured by ``app.config``.

    ``workers`` 1 (or a platform without ``fork``) serves in this process; more starts
    a supervisor with that many worker processes sharing the port.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self._runner: Optional[Union[Worker, Supervisor]] = None
        self._stop_requested = False

    def run(self) -> None:
        """Serve until ``stop()``; then run ``server_cleanup`` once."""
        config = self.app.config
        logs.configure(config)
        settings = Settings(config)
        ssl_context = server_context(config) if settings.ssl_enabled else None
        sockets.raise_descriptor_limit()
        try:
            if settings.workers > 1 and hasattr(os, "fork"):
                self._runner = Supervisor(self.app, settings, ssl_context)
            else:
                listener = sockets.listen(settings.host, settings.backlog)
                self._runner = Worker(self.app, listener, settings, ssl_context)
                logger.info("Listening on %s", sockets.url(listener, ssl_context is not None))
            if self._stop_requested:
                self._runner.stop()
            self._runner.run()
            logger.info("Stopped")
        finally:
            cleanup = config.get("server_cleanup")
            if cleanup is not None:
                cleanup()

    def stop(self) -> None:
        """Stop gracefully: no new connections, in-flight requests finish
        (``termination_timeout``). Safe from signal handlers and other threads."""
        self._stop_requested = True
        if self._runner is not None:
            self._runner.stop()
