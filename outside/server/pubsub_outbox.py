"""Non-blocking writes of published messages to one connection: the ``Outbox``.

A publisher must never wait for a slow subscriber. The hub's fan-out (``outside.pubsub``)
offers each subscriber the frames of a run of messages: what the socket takes goes out
at once, with one non-blocking ``send``; the rest waits in the outbox's buffer (whole
frames only: the buffer always ends on a frame boundary) until this process's
``Flusher`` thread sees the socket writable. Writes happen only while holding the
transport's send lock, taken without waiting: when another thread is in the middle of
a blocking ``send``, that thread writes the queue out before its own data (``write_out``)
or right after it (``drain``). Past ``limit`` queued bytes ``offer`` refuses: the
caller closes the connection. The flusher also delivers what threads outside a turn
publish (``hand``), a burst at a time.
"""
from __future__ import annotations

import logging
import os
import select
import socket
import ssl
import threading
from collections import deque
from typing import Any, Callable, ContextManager, Deque, Dict, Optional, Tuple

from ..pubsub import Published, deliver_runs
from . import io

logger = logging.getLogger("outside")

_WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantWriteError, ssl.SSLWantReadError)


class Outbox:
    """The queued bytes of one socket; ``send_lock`` is its writers' lock."""

    __slots__ = ("_buffer", "_guard", "_lock", "_send_lock", "_sock", "direct", "failed",
                 "is_open", "limit", "open_state", "state_owner")

    def __init__(self, sock: socket.socket, send_lock: threading.Lock,
                 guard: ContextManager = io.NO_GUARD, limit: int = 1024 * 1024) -> None:
        self._sock = sock
        self._send_lock = send_lock
        self._guard = guard
        self._lock = threading.Lock()  # the buffer
        self._buffer = bytearray()
        self.limit = limit
        self.failed = False  # overflowed or the socket failed: takes nothing more
        self.is_open: Callable[[], bool] = _always  # asked under the send lock before a write
        self.state_owner: Any = None  # see open_while
        self.open_state: Any = None
        # the socket if it is plain (not TLS): the compiled fan-out may send(2) on it
        self.direct: Optional[socket.socket] = \
            sock if guard is io.NO_GUARD and not isinstance(sock, ssl.SSLSocket) else None

    def open_while(self, owner: Any, state: Any) -> None:
        """Writes go out while ``owner.state is state`` (a WebSocket protocol's OPEN): the
        ``is_open`` asked before a write, which the compiled fan-out reads without a call."""
        self.state_owner, self.open_state = owner, state
        self.is_open = lambda: owner.state is state

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def offer(self, data: bytes, is_open: Callable[[], bool]) -> bool:
        """Queue ``data`` (one whole frame) and send what the socket takes now; False
        when the outbox overflowed (or failed) and the connection should be closed.
        ``is_open()`` is asked under the send lock: a frame never follows a close."""
        with self._lock:
            if self.failed:
                return False
            if len(self._buffer) + len(data) > self.limit:
                self.failed = True
                return False
            if self._buffer or not self._send_lock.acquire(blocking=False):
                self._buffer += data
                queued = True
            else:
                queued = False
        if queued:
            self.drain()
            return not self.failed
        try:  # the fast path: nothing queued, nobody writing
            if is_open():
                self._write_now(data)
        finally:
            self._send_lock.release()
        self.drain()  # what another offer queued meanwhile
        return not self.failed

    def _write_now(self, data: bytes) -> None:
        """Under the send lock: send what goes at once, queue the rest."""
        try:
            with self._guard:
                sent = self._sock.send(data)
        except _WOULD_BLOCK:
            sent = 0
        except OSError:
            self.failed = True
            return
        if sent < len(data):
            with self._lock:
                self._buffer[:0] = memoryview(data)[sent:]

    def drain(self) -> None:
        """Send what the socket takes of the queue, if no other thread is writing."""
        while self._buffer:
            if not self._send_lock.acquire(blocking=False):
                return  # the thread writing drains after its own write (Transport.send)
            try:
                progressed = self._send_some()
            finally:
                self._send_lock.release()
            if not progressed:
                break
        self._maybe_watch()

    def _send_some(self) -> bool:
        """Under the send lock; whether anything went out."""
        with self._lock:
            if not self._buffer:
                return False
            if not self.is_open():  # closing: nothing may follow the close frame
                self._buffer.clear()
                return False
            try:
                with self._guard:
                    sent = self._sock.send(self._buffer)
            except _WOULD_BLOCK:
                return False
            except OSError:
                self.failed = True
                self._buffer.clear()
                return False
            del self._buffer[:sent]
            return sent > 0

    def sent_part(self, data: bytes, sent: int) -> bool:
        """Under the send lock, after ``sent`` bytes of ``data`` went out (the compiled
        fan-out's direct send): queue the rest in front (a frame is never split by
        another), to be written when the socket is writable; False past the limit."""
        if sent < len(data):
            with self._lock:
                self._buffer[:0] = memoryview(data)[sent:]
                if len(self._buffer) > self.limit:
                    self.failed = True
        return not self.failed

    def write_out(self, timeout: float) -> None:
        """Under the send lock, before a blocking send: the queued frames go first."""
        with self._lock:
            data, self._buffer = bytes(self._buffer), bytearray()
        if data:
            io.send_all(self._sock, data, timeout, self._guard)

    def _maybe_watch(self) -> None:
        if self._buffer and not self.failed:
            flusher().watch(self)

    def fileno(self) -> int:
        return self._sock.fileno()


def _always() -> bool:
    return True


class Flusher:
    """One thread per process: writes queued outboxes when their sockets can take more."""

    def __init__(self) -> None:
        self._waiting: Dict[int, Outbox] = {}
        self._handed: Deque[Tuple[Tuple[Any, ...], Published]] = deque()  # publishes to deliver
        self._woken = False  # a wake-up is on its way for what is handed
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        threading.Thread(target=self._run, name="outside-pubsub-flush", daemon=True).start()

    def hand(self, targets: Tuple[Any, ...], message: Published) -> None:
        """A publish from a thread outside a turn: delivered by this thread soon, with
        the rest of its burst (one wake-up per burst)."""
        self._handed.append((targets, message))
        if not self._woken:
            self._woken = True
            try:
                self._wake_w.send(b"\0")
            except OSError:
                pass

    def watch(self, outbox: Outbox) -> None:
        with self._lock:
            if id(outbox) in self._waiting:
                return
            self._waiting[id(outbox)] = outbox
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass

    def _run(self) -> None:
        while True:
            with self._lock:
                waiting = list(self._waiting.values())
            poller = select.poll()
            poller.register(self._wake_r, select.POLLIN)
            by_fd: Dict[int, Outbox] = {}
            for outbox in waiting:
                fd = outbox.fileno()
                if fd < 0 or outbox.failed or not outbox.pending:
                    self._forget(outbox)
                    continue
                by_fd[fd] = outbox
                poller.register(fd, select.POLLOUT)
            try:
                events = poller.poll(1000)
            except OSError:
                continue
            for fd, _ in events:
                ready = by_fd.get(fd)
                if ready is None:
                    try:
                        while self._wake_r.recv(4096):
                            pass
                    except OSError:
                        pass
                    self._deliver_handed()
                    continue
                ready.drain()
                if not ready.pending or ready.failed:
                    self._forget(ready)

    def _deliver_handed(self) -> None:
        handed = self._handed
        self._woken = False  # a hand from now on sends another wake-up
        burst = []
        while handed:
            burst.append(handed.popleft())
        deliver_runs(burst)

    def _forget(self, outbox: Outbox) -> None:
        with self._lock:
            self._waiting.pop(id(outbox), None)


_flusher: Optional[Flusher] = None
_flusher_pid = 0
_flusher_lock = threading.Lock()


def flusher() -> Flusher:
    """This process's flusher (started on first use, again after a fork)."""
    global _flusher, _flusher_pid
    if _flusher is None or _flusher_pid != os.getpid():
        with _flusher_lock:
            if _flusher is None or _flusher_pid != os.getpid():
                _flusher, _flusher_pid = Flusher(), os.getpid()
    return _flusher


def outbox_for(transport: Any, limit: int) -> Optional[Outbox]:
    """The transport's outbox, made on first use; None for a stream without one."""
    make = getattr(transport, "outbox", None)
    return make(limit) if make is not None else None
