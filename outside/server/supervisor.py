"""The supervisor: runs ``workers`` processes on one port, restarts the ones that die,
and stops them all gracefully.

With ``SO_REUSEPORT`` each worker listens on its own socket and the kernel spreads
new connections evenly across them (one shared socket lets the busiest process take
them all). Without it, the workers share the supervisor's listening socket.
"""
from __future__ import annotations

import logging
import os
import select
import signal
import ssl
import threading
import time
from typing import Any, Dict, Optional

from . import sockets
from .settings import Settings
from .worker import Worker

logger = logging.getLogger("outside")

RESTART_PAUSE = 1.0   # seconds between restarts when workers keep dying at once


class Supervisor:
    """Starts and watches the worker processes (POSIX ``fork``)."""

    def __init__(self, app: Any, settings: Settings, ssl_context: Optional[ssl.SSLContext]) -> None:
        self.app = app
        self.settings = settings
        self.ssl_context = ssl_context
        self.stopping = False
        self._workers: Dict[int, int] = {}  # pid -> slot
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        if sockets.REUSE_PORT:
            self._socket = sockets.reserve_port(settings.host)
            self._shared = False
        else:
            self._socket = sockets.listen(settings.host, settings.backlog)
            self._shared = True
        self.address = self._socket.getsockname()[:2]

    def stop(self) -> None:
        """Begin a graceful stop (safe in a signal handler)."""
        self.stopping = True
        try:
            os.write(self._wake_w, b"\0")
        except OSError:
            pass

    def run(self) -> None:
        ready_r, ready_w = os.pipe()
        for slot in range(self.settings.workers):
            self._spawn(slot, ready_w)
        os.close(ready_w)
        started = 0
        while started < self.settings.workers and select.select([ready_r], [], [], 10)[0]:
            if not os.read(ready_r, 1):
                break
            started += 1
        os.close(ready_r)
        logger.info("Listening on %s (%d worker processes)",
                    sockets.url(self._socket, self.ssl_context is not None), started)
        last_restart = 0.0
        while not self.stopping:
            select.select([self._wake_r], [], [], 0.5)
            for pid, status in self._reap():
                slot = self._workers.pop(pid)
                if self.stopping:
                    continue
                logger.error("worker %d exited (status %d): starting another", pid, status)
                pause = last_restart + RESTART_PAUSE - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                last_restart = time.monotonic()
                self._spawn(slot, None)
        self._stop_workers()
        self._socket.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _reap(self):
        while self._workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self._workers:
                yield pid, status

    def _stop_workers(self) -> None:
        for pid in self._workers:
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.settings.termination_timeout + 2
        while self._workers and time.monotonic() < deadline:
            for pid, _ in self._reap():
                del self._workers[pid]
            time.sleep(0.05)
        for pid in self._workers:  # past the deadline: in-flight work is abandoned
            logger.error("worker %d did not stop in time: killing it", pid)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        self._workers.clear()

    def _spawn(self, slot: int, ready_w: Optional[int]) -> None:
        pid = os.fork()
        if pid:
            self._workers[pid] = slot
            return
        status = 1
        try:
            self._run_worker(ready_w)
            status = 0
        except BaseException:
            logger.exception("worker %d failed", os.getpid())
        finally:
            os._exit(status)

    def _run_worker(self, ready_w: Optional[int]) -> None:
        """The body of a worker process (after fork)."""
        os.close(self._wake_r)
        os.close(self._wake_w)
        if self._shared:
            listener = self._socket
        else:
            self._socket.close()
            listener = sockets.listen(self.address, self.settings.backlog, reuse_port=True)
        worker = Worker(self.app, listener, self.settings, self.ssl_context)
        signal.signal(signal.SIGTERM, lambda *_: worker.stop())
        signal.signal(signal.SIGINT, lambda *_: worker.stop())
        threading.Thread(target=_stop_when_orphaned, args=(worker, os.getppid()),
                         name="outside-orphan-check", daemon=True).start()
        if ready_w is not None:
            os.write(ready_w, b"\0")
            os.close(ready_w)
        worker.run()


def _stop_when_orphaned(worker: Worker, supervisor_pid: int) -> None:
    """Stop the worker if the supervisor dies without stopping it (e.g. SIGKILL)."""
    while os.getppid() == supervisor_pid:
        time.sleep(1.0)
    logger.error("the supervisor is gone: stopping worker %d", os.getpid())
    worker.stop()
