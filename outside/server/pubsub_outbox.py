"""Non-blocking writes of published messages to one connection: the ``Outbox``.

A publisher must never wait for a slow subscriber, so ``queue`` only appends the frame
to the connection's buffer (whole frames only: the buffer always ends on a frame
boundary) and marks the outbox for this process's ``Flusher`` thread, which writes
every marked buffer with one non-blocking ``send`` each: the messages published in a
burst go out in one system call per subscriber, not one per message. What the socket
does not take waits until it is writable. Writes happen only while holding the
transport's send lock, taken without waiting: when another thread is in the middle of
a blocking ``send``, that thread writes the queue out before its own data (``write_out``)
or right after it (``drain``). Past ``limit`` queued bytes ``queue`` refuses: the
caller closes the connection. (``offer`` is the same with an immediate write attempt.)
"""
from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import ssl
import threading
from collections import deque
from typing import Any, Callable, ContextManager, Deque, Dict, Iterator, Optional

from . import io

logger = logging.getLogger("outside")

_WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantWriteError, ssl.SSLWantReadError)


class Outbox:
    """The queued bytes of one socket; ``send_lock`` is its writers' lock."""

    __slots__ = ("_buffer", "_guard", "_lock", "_marked", "_send_lock", "_sock", "failed",
                 "is_open", "limit")

    def __init__(self, sock: socket.socket, send_lock: threading.Lock,
                 guard: ContextManager = io.NO_GUARD, limit: int = 1024 * 1024) -> None:
        self._sock = sock
        self._send_lock = send_lock
        self._guard = guard
        self._lock = threading.Lock()  # the buffer
        self._buffer = bytearray()
        self.limit = limit
        self.failed = False  # overflowed or the socket failed: takes nothing more
        self._marked = False  # waiting in the flusher's list
        self.is_open: Callable[[], bool] = _always  # asked under the send lock before a write

    def queue(self, data: bytes) -> bool:
        """Append ``data`` (one whole frame) for the flusher to write; False when the
        outbox overflowed (or failed) and the connection should be closed."""
        with self._lock:
            if self.failed:
                return False
            if len(self._buffer) + len(data) > self.limit:
                self.failed = True
                return False
            self._buffer += data
            if self._marked:
                return True
            self._marked = True
        turn = getattr(_turn, "outboxes", None)
        if turn is not None:
            turn.append(self)  # written when the thread's turn ends (``batch``)
        else:
            flusher().mark(self)
        return True

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

    def write_out(self, timeout: float) -> None:
        """Under the send lock, before a blocking send: the queued frames go first."""
        with self._lock:
            data, self._buffer = bytes(self._buffer), bytearray()
        if data:
            io.send_all(self._sock, data, timeout, self._guard)

    def flush(self) -> None:
        """The flusher's turn: unmark, write what goes, wait for writability if needed."""
        with self._lock:
            self._marked = False
        self.drain()

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
        self._marked: Deque[Outbox] = deque()  # outboxes with new frames
        self._woken = False  # a wake-up is on its way for what is marked
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        threading.Thread(target=self._run, name="outside-pubsub-flush", daemon=True).start()

    def mark(self, outbox: Outbox) -> None:
        """``outbox`` has new frames: write them soon (one wake-up per burst)."""
        self._marked.append(outbox)
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
                    self._flush_marked()
                    continue
                ready.drain()
                if not ready.pending or ready.failed:
                    self._forget(ready)

    def _flush_marked(self) -> None:
        marked = self._marked
        self._woken = False  # a mark from now on sends another wake-up
        while marked:
            marked.popleft().flush()

    def _forget(self, outbox: Outbox) -> None:
        with self._lock:
            self._waiting.pop(id(outbox), None)


_turn = threading.local()  # ``outboxes``: what the current ``batch`` of this thread marked


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Within the block, published frames are only queued; at its end this thread writes
    each marked outbox once (a burst of messages: one send per subscriber). Used where a
    thread delivers a run of messages: an event-driven WebSocket's ``on_message`` turn,
    the relay's records of one read."""
    if getattr(_turn, "outboxes", None) is not None:  # nested: the outer block writes
        yield
        return
    marked: list = []
    _turn.outboxes = marked
    try:
        yield
    finally:
        _turn.outboxes = None
        for outbox in marked:
            outbox.flush()


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
