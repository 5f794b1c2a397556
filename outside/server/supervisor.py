"""The supervisor: runs ``workers`` processes on one port, replaces the ones that die
or retire, reloads them on SIGHUP, and stops them all gracefully.

The supervisor owns the listening sockets: with ``SO_REUSEPORT`` one per worker slot
(the kernel spreads new connections evenly across them; one shared socket lets the
busiest process take them all), else one shared by every worker. A worker inherits its
slot's socket when it is forked, so a worker that is replaced hands its socket, accept
queue included, to its successor: the socket never closes and no connection waiting
in it is lost.

Signals (POSIX):

- SIGTERM, SIGINT: graceful stop of every worker (``termination_timeout``).
- SIGHUP: zero-downtime reload. The app is loaded again (``outside run module:app``
  re-imports it), with its config and TLS certificates; a new worker is started for
  every slot, and once it serves, the old one drains. If loading fails, the old
  workers keep serving and the reason is logged.
- SIGTTIN / SIGTTOU: one worker more / less.

A worker that reaches ``max_requests`` (plus jitter) or ``max_worker_memory_mb``
asks to retire over a pipe; the supervisor starts its successor on the same socket,
then stops it gracefully.
"""
from __future__ import annotations

import logging
import os
import select
import signal
import socket
import ssl
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from ..pubsub import hub
from . import sockets
from .pubsub_relay import Relay, configure_worker
from .settings import Settings
from .tls import server_context
from .worker import Worker

logger = logging.getLogger("outside")

RESTART_PAUSE = 1.0   # seconds between restarts when workers keep dying at once
READY_TIMEOUT = 30.0  # seconds a new worker gets to report that it serves
_SIGNALS = ("SIGHUP", "SIGTTIN", "SIGTTOU")


class _Child:
    """What the supervisor knows of one worker process."""

    __slots__ = ("cell", "draining", "ready", "relay", "replaces", "slot", "started")

    def __init__(self, slot: int, replaces: Optional[int], cell: int) -> None:
        self.slot = slot
        self.cell = cell           # its metrics cell (0: metrics off)
        self.ready = False         # it reported that it serves
        self.draining = False      # told to stop (replaced, removed, or the server stops)
        self.replaces = replaces   # the pid it takes over from, stopped once this one is ready
        self.started = time.monotonic()
        self.relay = -1            # its key in the pub/sub relay (-1: none)


class Supervisor:
    """Starts and watches the worker processes (POSIX ``fork``).

    ``load_app``, when given, builds the app anew for a reload (SIGHUP); without it a
    reload restarts the workers with the same app, re-reading the TLS files.
    """

    def __init__(self, app: Any, settings: Settings, ssl_context: Optional[ssl.SSLContext],
                 load_app: Optional[Callable[[], Any]] = None, cells: Any = None) -> None:
        self.app = app
        self.settings = settings
        self.ssl_context = ssl_context
        self.load_app = load_app
        self.stopping = False
        self.cells = cells  # metrics.Cells when config["metrics"] is on
        self._retired: Dict[str, Any] = {}  # the counters of workers that have exited
        self._events = {"starts": 0, "exits": 0, "restarts": 0}
        self._metrics_server: Any = None
        self._children: Dict[int, _Child] = {}
        self._wanted = settings.workers  # how many slots should serve (SIGTTIN/SIGTTOU)
        self._pending: List[str] = []    # signals to act on, in order
        self._last_restart = 0.0
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._control_r, self._control_w = os.pipe()  # workers: "ready" and "retire" lines
        os.set_blocking(self._control_r, False)
        self._control_buffer = b""
        self._shared = not sockets.REUSE_PORT
        self._sockets: Dict[int, socket.socket] = {}
        if self._shared:
            self._socket = sockets.listen(settings.host, settings.backlog)
        else:
            self._socket = self._slot_socket(0, settings.host)
        self.address = self._socket.getsockname()[:2]
        # pub/sub between the workers of this machine (config["pubsub"] == "local")
        self._relay = Relay() if settings.pubsub == "local" else None

    # -- signals -------------------------------------------------------------------

    def stop(self) -> None:
        """Begin a graceful stop (safe in a signal handler)."""
        self.stopping = True
        self._wake()

    def request(self, name: str) -> None:
        """Queue ``"SIGHUP"``, ``"SIGTTIN"`` or ``"SIGTTOU"`` (safe in a signal handler)."""
        self._pending.append(name)
        self._wake()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"\0")
        except OSError:
            pass

    def _install_signals(self) -> Dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}
        for name in _SIGNALS:
            signum = getattr(signal, name, None)
            if signum is not None:
                previous[signum] = signal.signal(signum, self._signal_handler(name))
        return previous

    def _signal_handler(self, name: str) -> Callable[[int, Any], None]:
        return lambda signum, frame: self.request(name)

    # -- the loop ------------------------------------------------------------------

    def run(self) -> None:
        previous = self._install_signals()
        try:
            self._run()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _event(self, name: str) -> None:
        self._events[name] += 1
        self._publish()

    def _publish(self) -> None:
        if self.cells is not None:
            from .metrics import publish_supervisor
            publish_supervisor(self.cells, self._retired, self._events)

    def _start_metrics(self) -> None:
        if self.cells is None or self.settings.metrics_port is None:
            return
        from .metrics import Exposition, MetricsServer
        self._metrics_server = MetricsServer((self.address[0], self.settings.metrics_port),
                                             self.settings.metrics_path, Exposition(self.cells).page)
        self._metrics_server.start()

    def _run(self) -> None:
        self._start_metrics()
        for slot in range(self._wanted):
            self._spawn(slot)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline and not self.stopping and \
                not all(child.ready for child in self._children.values()):
            self._wait(0.5)
            self._read_control()
            self._reap_and_restart()
        started = sum(child.ready for child in self._children.values())
        logger.info("Listening on %s (%d worker processes)",
                    sockets.url(self._socket, self.ssl_context is not None), started)
        while not self.stopping:
            self._wait(0.5)
            self._read_control()
            self._reap_and_restart()
            while self._pending and not self.stopping:
                self._act(self._pending.pop(0))
            self._keep_count()
        # a stop refuses new connections at once: the workers close their copies as
        # their stop begins (after taking what waits in the queue)
        for sock in {id(s): s for s in [self._socket, *self._sockets.values()]}.values():
            sock.close()
        self._stop_workers()
        if self._metrics_server is not None:
            self._metrics_server.stop()
        if self._relay is not None:
            self._relay.stop()
        for fd in (self._wake_r, self._wake_w, self._control_r, self._control_w):
            os.close(fd)

    def _wait(self, timeout: float) -> None:
        ready = select.select([self._wake_r, self._control_r], [], [], timeout)[0]
        if self._wake_r in ready:
            try:
                os.read(self._wake_r, 4096)
            except OSError:
                pass

    def _read_control(self) -> None:
        """Act on the workers' lines: ``ready PID`` and ``retire PID``."""
        try:
            while True:
                data = os.read(self._control_r, 4096)
                if not data:
                    break
                self._control_buffer += data
        except BlockingIOError:
            pass
        *lines, self._control_buffer = self._control_buffer.split(b"\n")
        for line in lines:
            word, _, number = line.decode("ascii", "replace").partition(" ")
            pid = int(number) if number.isdigit() else -1
            child = self._children.get(pid)
            if child is None:
                continue
            if word == "ready":
                self._on_ready(pid, child)
            elif word == "retire" and not child.draining and not self.stopping:
                self._replace(pid, child, "it retires")

    def _on_ready(self, pid: int, child: _Child) -> None:
        child.ready = True
        old = self._children.get(child.replaces) if child.replaces else None
        if old is not None and not old.draining:
            self._drain(child.replaces, old)  # type: ignore[arg-type]

    def _replace(self, pid: int, child: _Child, why: str) -> None:
        """Start a successor on ``child``'s slot; ``child`` drains once it serves."""
        if any(other.replaces == pid for other in self._children.values()):
            return  # one is already on its way
        logger.info("worker %d: %s; starting its successor", pid, why)
        self._spawn(child.slot, replaces=pid)
        self._event("restarts")

    def _drain(self, pid: int, child: _Child) -> None:
        child.draining = True
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def _reap_and_restart(self) -> None:
        for pid, status in self._reap():
            child = self._children.pop(pid)
            self._forget_cell(child)
            self._event("exits")
            if child.draining or self.stopping:
                continue
            successor = next((p for p, c in self._children.items() if c.replaces == pid), None)
            if successor is not None:  # the successor takes over the slot now
                self._children[successor].replaces = None
                continue
            if child.replaces is not None and child.replaces in self._children:
                logger.error("worker %d exited (status %d) before serving: worker %d keeps serving",
                             pid, status, child.replaces)
                continue
            if child.slot >= self._wanted:
                continue
            logger.error("worker %d exited (status %d): starting another", pid, status)
            pause = self._last_restart + RESTART_PAUSE - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self._last_restart = time.monotonic()
            self._spawn(child.slot)
            self._event("restarts")

    def _forget_cell(self, child: _Child) -> None:
        """Keep what an exited worker counted (counters never go down); free its cell
        (and its pub/sub relay socket)."""
        if self._relay is not None and child.relay >= 0:
            self._relay.close(child.relay)
            child.relay = -1
        if self.cells is not None and child.cell:
            from .metrics import merge
            merge(self._retired, self.cells.release(child.cell), counters_only=True)
            child.cell = 0

    def _reap(self) -> Iterator[Tuple[int, int]]:
        while self._children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self._children:
                yield pid, status

    # -- reload, more and fewer workers ----------------------------------------------

    def _act(self, name: str) -> None:
        if name == "SIGHUP":
            self._reload()
        elif name == "SIGTTIN":
            self._wanted += 1
            logger.info("SIGTTIN: %d worker processes", self._wanted)
        elif name == "SIGTTOU" and self._wanted > 1:
            self._wanted -= 1
            logger.info("SIGTTOU: %d worker processes", self._wanted)

    def _serving(self) -> Dict[int, Tuple[int, _Child]]:
        """slot -> (pid, child) of the newest worker of each slot that is not draining."""
        slots: Dict[int, Tuple[int, _Child]] = {}
        for pid, child in self._children.items():
            if not child.draining and (child.slot not in slots or child.replaces == slots[child.slot][0]):
                slots[child.slot] = (pid, child)
        return slots

    def _keep_count(self) -> None:
        """Start or drain workers until ``_wanted`` slots serve."""
        serving = self._serving()
        for slot in range(self._wanted):
            if slot not in serving:
                self._spawn(slot)
        for slot in serving:
            if slot >= self._wanted:
                for other_pid, other in list(self._children.items()):
                    if other.slot == slot and not other.draining:
                        self._drain(other_pid, other)
                sock = self._sockets.pop(slot, None)
                if sock is not None and sock is not self._socket:
                    sock.close()  # the worker drains what is queued in it, then closes its copy

    def _reload(self) -> None:
        """Load the app again and replace every worker by one running it."""
        logger.info("SIGHUP: reloading")
        try:
            app = self.load_app() if self.load_app is not None else self.app
            settings = Settings(app.config)
            ssl_context = server_context(app.config) if settings.ssl_enabled else None
        except BaseException as exc:  # whatever the new code raises, the old one serves on
            logger.error("reload failed, the running workers keep serving: %s: %s",
                         type(exc).__name__, exc, exc_info=exc)
            return
        if tuple(settings.host) != tuple(self.settings.host) and settings.host[1] != 0:
            logger.warning("reload: a new host or port needs a restart; keeping %s:%s", *self.address)
        self.app, self.settings, self.ssl_context = app, settings, ssl_context
        for pid, child in self._serving().values():
            self._replace(pid, child, "reloading")

    # -- processes -------------------------------------------------------------------

    def _slot_socket(self, slot: int, address: Any = None) -> socket.socket:
        if self._shared:
            return self._socket
        sock = self._sockets.get(slot)
        if sock is None:
            sock = sockets.listen(address or self.address, self.settings.backlog, reuse_port=True)
            self._sockets[slot] = sock
        return sock

    def _stop_workers(self) -> None:
        for pid, child in self._children.items():
            self._drain(pid, child)
        deadline = time.monotonic() + self.settings.termination_timeout + 2
        while self._children and time.monotonic() < deadline:
            for pid, _ in self._reap():
                self._forget_cell(self._children.pop(pid))
            time.sleep(0.05)
        for pid in self._children:  # past the deadline: in-flight work is abandoned
            logger.error("worker %d did not stop in time: killing it", pid)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        self._children.clear()

    def _spawn(self, slot: int, replaces: Optional[int] = None) -> None:
        listener = self._slot_socket(slot)
        cell = self.cells.take() if self.cells is not None else 0
        relay_key, relay_end = self._relay.open() if self._relay is not None else (-1, None)
        pid = os.fork()
        if pid:
            self._children[pid] = child = _Child(slot, replaces, cell)
            child.relay = relay_key
            if relay_end is not None:
                relay_end.close()
            self._event("starts")
            return
        status = 1
        try:
            self._run_worker(listener, cell, relay_end)
            status = 0
        except BaseException:
            logger.exception("worker %d failed", os.getpid())
        finally:
            os._exit(status)

    def _run_worker(self, listener: socket.socket, cell: int, relay_end: Any = None) -> None:
        """The body of a worker process (after fork)."""
        for name in _SIGNALS:  # the supervisor's handlers mean nothing here
            signum = getattr(signal, name, None)
            if signum is not None:
                signal.signal(signum, signal.SIG_IGN if name == "SIGHUP" else signal.SIG_DFL)
        os.close(self._wake_r)
        os.close(self._wake_w)
        os.close(self._control_r)
        for sock in self._sockets.values():
            if sock is not listener:
                sock.close()
        if self._relay is not None:
            self._relay.in_child()
        configure_worker(hub, self.settings, relay_end)
        control = self._control_w
        pid = os.getpid()
        worker = Worker(self.app, listener, self.settings, self.ssl_context)
        worker.on_retire = lambda: _tell(control, f"retire {pid}")
        if self._metrics_server is not None:
            self._metrics_server.close()  # the supervisor serves the page, not this process
        if self.cells is not None:
            from .metrics import Exposition, WorkerMetrics
            worker.metrics = WorkerMetrics(self.cells, cell, self.app)
            if self.settings.metrics_port is None:
                worker.metrics_page = Exposition(self.cells).page
        signal.signal(signal.SIGTERM, lambda *_: worker.stop())
        signal.signal(signal.SIGINT, lambda *_: worker.stop())
        threading.Thread(target=_stop_when_orphaned, args=(worker, os.getppid()),
                         name="outside-orphan-check", daemon=True).start()
        _tell(control, f"ready {pid}")
        worker.run()


def _tell(fd: int, line: str) -> None:
    """One line to the supervisor (shorter than PIPE_BUF: written at once)."""
    try:
        os.write(fd, line.encode("ascii") + b"\n")
    except OSError:
        pass


def _stop_when_orphaned(worker: Worker, supervisor_pid: int) -> None:
    """Stop the worker if the supervisor dies without stopping it (e.g. SIGKILL)."""
    while os.getppid() == supervisor_pid:
        time.sleep(1.0)
    logger.error("the supervisor is gone: stopping worker %d", os.getpid())
    worker.stop()
