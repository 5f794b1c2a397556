"""One worker process: an event loop whose thread runs handlers inline and hands the
loop to another thread when a handler blocks (leader/follower with a watchdog).

The leader thread owns the selector: it accepts, reads, parses and serves each ready
connection itself, with no thread switch per request (the fast path). A watchdog looks
every ``WATCH_INTERVAL`` seconds; when the leader has been serving the same connection
since its last look, it promotes a follower thread (or starts one) to lead the loop
from the next ready connection on, so a blocking handler never delays other clients.
The old leader finishes its connection, hands it back to the loop and waits as a
follower. At most ``max_workers`` threads exist, so at most ``max_workers`` handlers
run at once; when all of them block, the loop waits (connections queue in the kernel,
they are not dropped) until one finishes. A thread that goes on to run a blocking
WebSocket handler leaves that count (``release_thread``) for the connection's life:
open WebSockets are bounded by ``max_websockets`` instead.

Only the leader reads the ready queue; any thread may (un)register a connection under
``_selector_lock``. The selector watches ``Watched`` objects (``outside.server.host``):
an HTTP ``Connection``, or the session an upgrade put in its place (``replace``). Each
sits in a ``_Slot`` holding the worker's bookkeeping for it, and is served by one
thread at a time (``_Slot.busy``). The worker is the connections' ``Host``.
"""
from __future__ import annotations

import logging
import os
import selectors
import socket
import ssl
import threading
import time
from collections import deque
from typing import Any, Callable, Optional

from . import slow_readers
from .connection import STOP_GRACE, Connection
from .host import Watched
from .settings import Settings

logger = logging.getLogger("outside")

WATCH_INTERVAL = 0.005  # seconds a handler may block before the loop moves on without it
ACCEPT_PAUSE = 0.5      # seconds without accepting after accept() failed (e.g. no descriptors)
ACCEPT_BATCH = 512      # most accepts per turn: empties a burst's queue, yet the loop moves on
_ACCEPT = object()      # selector marks for the listening socket and the wake-up pipe
_WAKE = object()


class _Slot:
    """The worker's bookkeeping for one watched socket."""

    __slots__ = ("busy", "gone", "registered", "sock", "watched")

    def __init__(self, watched: Watched) -> None:
        self.watched = watched
        self.sock = watched.sock
        self.busy = False        # owned by a thread (the loop must not touch it)
        self.registered = False  # in the selector
        self.gone = False        # forgotten: never register it again


class Worker:
    """Serves ``app`` on ``listener`` until ``stop()``; ``run()`` blocks until then."""

    def __init__(self, app: Any, listener: socket.socket, settings: Settings,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.app = app
        self.settings = settings
        self.listener = listener
        self.ssl_context = ssl_context
        self.access_log = bool(app.config.get("access_log")) and \
            logging.getLogger("outside.access").isEnabledFor(logging.INFO)
        self.access_log_format = settings.access_log_format
        self.stopping = False
        self.keep_alive = True  # False once stopping or retiring (see Host.keep_alive)
        self._slots: dict[Watched, _Slot] = {}  # everything open, by what is watched
        self._selector = selectors.DefaultSelector()
        self._selector_lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._ready: deque[Any] = deque()
        self._returned: deque[_Slot] = deque()
        # leadership, all under _lock
        self._lock = threading.Lock()
        self._promotion = threading.Condition(self._lock)
        self._token = 0           # the current leader's generation
        self._handoff: int | None = None  # a token waiting for an idle follower
        self._threads = 0         # threads of the pool (not those released to a WebSocket)
        self._idle_followers = 0
        self._local = threading.local()  # per thread: ``token`` led with, ``released``
        self.websockets = 0       # open WebSocket connections (under _lock)
        # the current leader's progress: _job counts what it served, _serving says it is
        # inside a connection now (only the current leader sets it; cleared under _lock)
        self._job = 0
        self._serving = False
        self._done = threading.Event()
        self._stop_requested_at = 0.0
        self._stop_deadline = 0.0
        self._next_sweep = 0.0
        self._accepting = False       # the listener is in the selector
        self._stop_callbacks: set[Callable[[], None]] = set()  # long-lived work to end on stop
        self._resume_accept_at = 0.0  # accepting is paused until then (0: not paused)
        # recycling: the supervisor sets on_retire; it is called once, at the limit
        self.on_retire: Optional[Callable[[], None]] = None
        self._requests_left = settings.requests_budget() or -1  # -1: no limit
        self._memory_limit = int(settings.max_worker_memory_mb * 1024 * 1024)
        # metrics: set by the server when config["metrics"] is on (a WorkerMetrics)
        self.metrics: Any = None
        self.metrics_page: Optional[Callable[[], str]] = None  # set to serve them on this port

    # -- public --------------------------------------------------------------------

    def run(self) -> None:
        """Serve until ``stop()`` and the graceful drain are over."""
        self.listener.setblocking(False)
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._set_accepting(True)
        self._selector.register(self._wake_r, selectors.EVENT_READ, _WAKE)
        self._next_sweep = time.monotonic() + self.settings.sweep_interval
        self._start_thread(self._token)
        threading.Thread(target=self._watch, name="outside-watchdog", daemon=True).start()
        if self.metrics is not None:
            self.metrics.start(self)
        while not self._done.wait(0.5):  # short waits keep signal handlers responsive
            if self._stop_requested_at and time.monotonic() > \
                    self._stop_requested_at + self.settings.termination_timeout + 1:
                break  # every thread is stuck in a handler: stop without the loop
        self._done.set()
        with self._lock:
            self._promotion.notify_all()
        for slot in list(self._slots.values()):
            slot.watched.ended()
        if self.metrics is not None:
            self.metrics.stop()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def stop(self) -> None:
        """Stop accepting, finish what is in flight (``termination_timeout``), return from run()."""
        if not self.stopping:
            self._stop_requested_at = time.monotonic()
            self.stopping = True
            self.keep_alive = False
        self._wake()

    def dispatch(self, request: Any) -> Any:
        """The app's answer to ``request``; a 500 if even the error handling failed."""
        if self._requests_left > 0:
            self._requests_left -= 1  # races between threads only shift the limit a little
            if self._requests_left == 0:
                self.retire("served its max_requests")
        if self.metrics_page is not None and request.url == self.settings.metrics_path:
            from .metrics import response_for
            return response_for(self.metrics_page())
        try:
            return self.app.dispatch(request)
        except Exception as exc:
            logger.exception("unhandled error serving %s %s", request.method, request.target)
            return self.app.error_response(500, request, type(exc).__name__)

    def load(self) -> dict:
        """Gauges for the metrics: what this worker holds now."""
        slots = list(self._slots.values())
        idle = self._idle_followers
        busy = max(0, self._threads - idle - (0 if self._serving else 1))
        return {"in_flight": sum(1 for slot in slots if slot.busy and isinstance(slot.watched, Connection)),
                "connections": len(slots), "websockets": self.websockets,
                "threads_busy": busy, "threads_idle": self._threads - busy,
                "threads_max": self.settings.max_workers}

    def retire(self, why: str) -> None:
        """Ask the supervisor for a successor (once); this worker then stops gracefully."""
        callback, self.on_retire = self.on_retire, None
        if callback is not None:
            logger.info("worker %s: %s", os.getpid(), why)
            # no new work while the successor starts: the other workers (or the listen
            # queue, for the successor) take new connections, and each kept-alive one
            # closes after its answer in flight
            self.keep_alive = False
            self._set_accepting(False)
            callback()

    def post_callback(self, request: Any, response: Any) -> None:
        """Run the config's ``post_callback`` (a failure is logged, not raised)."""
        callback = self.settings.post_callback
        if callback is None:
            return
        try:
            callback(request, response)
        except Exception:
            logger.exception("post_callback failed")

    def on_stop(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` once when a graceful stop begins (in its own thread, so it
        may block); returns a function that cancels it."""
        self._stop_callbacks.add(callback)
        return lambda: self._stop_callbacks.discard(callback)

    def forget(self, watched: Watched) -> None:
        """Stop watching ``watched`` (it is closing its socket); idempotent."""
        with self._selector_lock:
            slot = self._slots.pop(watched, None)
            if slot is not None:
                slot.gone = True
                self._unregister(slot)

    def replace(self, old: Watched, new: Watched) -> None:
        """Watch ``new`` in place of ``old`` (an upgrade); the thread that owns ``old``
        owns ``new`` until it hands it back."""
        with self._selector_lock:
            slot = self._slots.pop(old, None)
            if slot is None:  # already forgotten: its socket is closed
                return
            slot.watched = new
            self._slots[new] = slot
            if new.sock is not slot.sock:
                self._unregister(slot)
                slot.sock = new.sock

    def _unwatch(self, slot: _Slot) -> None:
        """Take ``slot`` out of the selector if it is in it."""
        with self._selector_lock:
            self._unregister(slot)

    def _unregister(self, slot: _Slot) -> None:
        """Under ``_selector_lock``."""
        if slot.registered:
            self._selector.unregister(slot.sock)
            slot.registered = False

    # -- the loop ------------------------------------------------------------------

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:  # full (a wake-up is pending anyway) or closed
            pass

    def _start_thread(self, token: int) -> bool:
        """Start a pool thread leading with ``token``; False if the system refused one."""
        try:
            threading.Thread(target=self._lead, args=(token,), name="outside-worker",
                             daemon=True).start()
        except RuntimeError as exc:  # "can't start new thread": out of memory or a limit
            logger.error("cannot start a worker thread: %s", exc)
            return False
        self._threads += 1
        return True

    def _lead(self, token: int) -> None:
        """Run the loop while this thread is the leader; follow when demoted."""
        ready = self._ready
        local = self._local
        local.token, local.released = token, False
        while not self._done.is_set():
            try:
                if not ready:
                    self._poll()
                    continue
                item = ready.popleft()
                if item is _ACCEPT:
                    self._accept()
                elif item is _WAKE:
                    self._on_wake()
                elif not item.gone and not self._serve(item, token):
                    if local.released and not self._rejoin():
                        return
                    token = local.token = self._follow()
                    if token < 0:
                        return
            except Exception:  # a bug here must not leave the worker without a loop
                logger.exception("internal error in the event loop")

    def open_websocket(self) -> bool:
        """Count a new WebSocket connection; False when ``max_websockets`` are open."""
        with self._lock:
            if self.websockets >= self.settings.max_websockets:
                return False
            self.websockets += 1
            return True

    def close_websocket(self) -> None:
        with self._lock:
            self.websockets -= 1

    def release_thread(self) -> bool:
        """Take the calling thread (inside a handler) out of the pool for a long-lived
        job (a blocking WebSocket handler), and hand the loop on now if it led it.

        False, with nothing changed, when no thread could be started to lead instead.
        """
        local = self._local
        with self._lock:
            if local.token == self._token and self._serving and not self._promote():
                return False
            self._threads -= 1
            local.released = True
        return True

    def _promote(self) -> bool:
        """Under ``_lock``: make another thread lead the loop (the current leader is
        busy serving); False, with nothing changed, if no thread could be had."""
        self._token += 1
        self._serving = False  # cleared before the new leader can start serving
        if self._idle_followers:
            self._handoff = self._token
            self._promotion.notify()
            return True
        if self._start_thread(self._token):
            return True
        self._token -= 1
        self._serving = True
        return False

    def _rejoin(self) -> bool:
        """A released thread is back: rejoin the pool if it has room, else end."""
        self._local.released = False
        with self._lock:
            if self._threads >= self.settings.max_workers:
                return False
            self._threads += 1
            return True

    def _poll(self) -> None:
        now = time.monotonic()
        if self._resume_accept_at and now >= self._resume_accept_at and not self.stopping:
            self._resume_accept_at = 0.0
            self._set_accepting(True)
        timeout = max(0.0, self._next_sweep - now)
        if self.stopping:
            timeout = min(timeout, 0.05)
        if self._resume_accept_at:
            timeout = min(timeout, max(0.0, self._resume_accept_at - now))
        self._ready.extend([key.data for key, _ in self._selector.select(timeout)])
        now = time.monotonic()
        if now >= self._next_sweep:
            self._sweep(now)
        if self._stop_deadline and (not self._slots or now >= self._stop_deadline):
            self._done.set()

    def _serve(self, slot: _Slot, token: int) -> bool:
        """Serve one ready connection inline; False if this thread lost the lead meanwhile."""
        if slot.busy:  # another thread owns it: stop watching until it is handed back
            self._unwatch(slot)
            return True
        slot.busy = True
        self._job += 1
        self._serving = True
        watched = slot.watched
        try:
            watched.on_readable()
        except Exception:
            logger.exception("internal error on %r", watched)
            if isinstance(watched, Connection):
                watched.answer_server_error()
            else:
                watched.ended()
        with self._lock:
            demoted = token != self._token
            if not demoted:  # a demoted thread must not speak for the new leader
                self._serving = False
        slot.busy = False
        if demoted:
            self._returned.append(slot)
            self._wake()
        return not demoted

    def _follow(self) -> int:
        """Wait to be promoted; the new token, or -1 when the worker is done."""
        with self._lock:
            self._idle_followers += 1
            while self._handoff is None and not self._done.is_set():
                self._promotion.wait()
            self._idle_followers -= 1
            token, self._handoff = self._handoff, None
        return -1 if token is None else token

    def _watch(self) -> None:
        """Promote a new leader when the current one is stuck serving one connection."""
        seen = -1
        while not self._done.is_set():
            time.sleep(WATCH_INTERVAL)
            job = self._job
            if not (self._serving and job == seen):
                seen = job if self._serving else -1
                continue
            with self._lock:
                if not (self._serving and self._job == job):
                    continue
                if not self._idle_followers and self._threads >= self.settings.max_workers:
                    if self.metrics is not None:
                        self.metrics.blocked += WATCH_INTERVAL
                    continue  # every thread is in a handler: the loop waits (backpressure)
                self._promote()  # when no thread can be had, the loop waits as above
            seen = -1

    def _accept(self) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                sock, address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors or memory: pause instead of spinning
                logger.error("accept failed (%s): not accepting for %.1f s", exc, ACCEPT_PAUSE)
                self._set_accepting(False)
                self._resume_accept_at = time.monotonic() + ACCEPT_PAUSE
                return
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self.ssl_context is not None:
                    sock = self.ssl_context.wrap_socket(sock, server_side=True,
                                                        do_handshake_on_connect=False)
            except OSError:  # the client is already gone
                sock.close()
                continue
            conn = Connection(sock, address, self)
            slot = _Slot(conn)
            self._slots[conn] = slot
            self._register(slot)

    def _set_accepting(self, accepting: bool) -> None:
        with self._selector_lock:
            if accepting and not self._accepting:
                self._selector.register(self.listener, selectors.EVENT_READ, _ACCEPT)
            elif self._accepting and not accepting:
                self._selector.unregister(self.listener)
            self._accepting = accepting

    def _register(self, slot: _Slot) -> None:
        with self._selector_lock:
            if not slot.registered and not slot.gone:
                self._selector.register(slot.sock, selectors.EVENT_READ, slot)
                slot.registered = True

    def _on_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass
        while self._returned:
            self._register(self._returned.popleft())
        if self.stopping and not self._stop_deadline:
            self._begin_stop()

    def _begin_stop(self) -> None:
        self._stop_deadline = time.monotonic() + self.settings.termination_timeout
        self._set_accepting(False)
        self._accept()  # what waits in the queue is served, not reset (a successor may share it)
        self.listener.close()
        grace = time.monotonic() + STOP_GRACE
        for slot in list(self._slots.values()):
            # idle or mid-head: nothing in flight to finish, but a request may be on its
            # way; the sweep closes the connection once it is quiet past the grace. A
            # long-lived session (an event-driven WebSocket) gets its close frame from a
            # stop callback and ends with the peer's answer.
            if not slot.busy and isinstance(slot.watched, Connection):
                slot.watched.deadline = min(slot.watched.deadline, grace)
        self._next_sweep = min(self._next_sweep, grace)
        callbacks, self._stop_callbacks = list(self._stop_callbacks), set()
        if callbacks:
            threading.Thread(target=_call_all, args=(callbacks,), name="outside-stop",
                             daemon=True).start()
        logger.info("stopping: %d request(s) in flight", len(self._slots))

    def _sweep(self, now: float) -> None:
        """Close connections past their deadline (idle, slow head, linger); end requests
        whose handler is stuck."""
        self._next_sweep = now + (0.05 if self.stopping else self.settings.sweep_interval)
        if self._memory_limit and self.on_retire is not None and rss_bytes() > self._memory_limit:
            self.retire(f"uses more than max_worker_memory_mb ({self.settings.max_worker_memory_mb})")
        stuck_since = now - self.settings.process_timeout
        rate, grace = self.settings.min_send_rate, self.settings.min_send_rate_grace
        for slot in list(self._slots.values()):
            watched = slot.watched
            if not slot.busy:
                if watched.expired(now):
                    watched.ended()
            elif isinstance(watched, Connection):
                if 0.0 < watched.handler_since < stuck_since:
                    watched.cut_off_stuck_handler()
                elif rate and watched.writing and slow_readers.too_slow(watched, now, rate, grace):
                    watched.cut_off_slow_reader(rate, grace)


def _call_all(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            logger.exception("stop callback %r failed", callback)


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """This process's resident memory (Linux ``/proc``; 0 where unknown)."""
    try:
        with open("/proc/self/statm", "rb") as file:
            return int(file.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0
