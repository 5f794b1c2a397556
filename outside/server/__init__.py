"""The HTTP/1.1 engine: listening sockets, worker processes, event loop, connections.

``Server(app).run()`` serves an ``OutsideHTTP`` app until ``Server.stop()``. Read
``docs/engine.md`` for the design and ``docs/configuration.md`` for the config keys.
"""
from __future__ import annotations

import logging
import os
import signal
import ssl
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Union

from ..pubsub import hub
from . import logs, metrics, sockets
from .pubsub_relay import configure_worker
from .settings import ConfigError, Settings
from .supervisor import Supervisor
from .tls import TLSConfigError, server_context
from .worker import Worker

if TYPE_CHECKING:  # the app imports the engine on demand
    from ..app import BaseApp

logger = logging.getLogger("outside")

__all__ = ["ConfigError", "Server", "TLSConfigError"]

# An app may carry a function that builds it anew (``outside run`` sets it): SIGHUP
# then reloads the code, not only the certificates.
RELOAD_ATTRIBUTE = "_outside_load_again"


class Server:
    """Runs ``app`` with the engine configured by ``app.config``.

    ``workers`` 1 (or a platform without ``fork``) serves in this process; more starts
    a supervisor with that many worker processes sharing the port.
    """

    def __init__(self, app: BaseApp) -> None:
        self.app = app
        self._runner: Optional[Union[Worker, Supervisor]] = None
        self._stop_requested = False

    def run(self) -> None:
        """Serve until ``stop()``; then run ``server_cleanup`` once."""
        config = self.app.config
        logs.configure(config)
        settings = Settings(config)
        if settings.pubsub != "local":
            from .pubsub_redis import check_reachable
            check_reachable(settings.pubsub)
        ssl_context = server_context(config) if settings.ssl_enabled else None
        sockets.raise_descriptor_limit()
        try:
            previous: Dict[int, Any] = {}
            metrics_server: Optional[metrics.MetricsServer] = None
            cells = metrics.Cells() if settings.metrics else None
            if settings.workers > 1 and hasattr(os, "fork"):
                self._runner = Supervisor(self.app, settings, ssl_context,
                                          getattr(self.app, RELOAD_ATTRIBUTE, None), cells)
            else:
                listener = sockets.listen(settings.host, settings.backlog)
                configure_worker(hub, settings)
                self._runner = worker = Worker(self.app, listener, settings, ssl_context)
                if cells is not None:
                    worker.metrics = metrics.WorkerMetrics(cells, cells.take(), self.app)
                    page = metrics.Exposition(cells).page
                    if settings.metrics_port is None:
                        worker.metrics_page = page
                    else:
                        metrics_server = metrics.MetricsServer(
                            (settings.host[0], settings.metrics_port), settings.metrics_path, page)
                        metrics_server.start()
                logger.info("Listening on %s", sockets.url(listener, ssl_context is not None))
                if settings.max_requests or settings.max_worker_memory_mb:
                    logger.warning("max_requests and max_worker_memory_mb need workers >= 2 "
                                   "(a supervisor replaces the worker); ignored")
                previous = _on_sighup(lambda: _reload_in_process(config, ssl_context))
            if self._stop_requested:
                self._runner.stop()
            try:
                self._runner.run()
            finally:
                for signum, handler in previous.items():
                    signal.signal(signum, handler)
                if metrics_server is not None:
                    metrics_server.stop()
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


def _on_sighup(handler: Callable[[], None]) -> Dict[int, Any]:
    """Route SIGHUP to ``handler`` (main thread only); the replaced handler."""
    if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
        return {}
    return {signal.SIGHUP: signal.signal(signal.SIGHUP, lambda *_: handler())}


def _reload_in_process(config: Mapping[str, Any], ssl_context: Optional[ssl.SSLContext]) -> None:
    """SIGHUP with one process: load the TLS files again (new connections use them);
    code is not reloaded in place, that takes ``workers`` >= 2 (see docs/deployment.md)."""
    if ssl_context is None:
        logger.info("SIGHUP: nothing to reload with workers = 1 (code reloads need workers >= 2)")
        return
    try:
        ssl_context.load_cert_chain(config["ssl_certfile"], config["ssl_keyfile"] or None,
                                    config.get("ssl_password"))
    except (OSError, ssl.SSLError) as exc:
        logger.error("SIGHUP: cannot load the TLS certificate again, keeping the old one: %s", exc)
        return
    logger.info("SIGHUP: TLS certificate reloaded (code reloads need workers >= 2)")
