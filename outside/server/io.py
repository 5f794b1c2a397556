"""Blocking reads and writes with an inactivity timeout over non-blocking sockets.

The event loop keeps every socket non-blocking. A thread that serves a request (reads a
streamed body, writes a large response) uses these helpers instead: each waits for the
socket with ``poll`` and gives up when no progress was made for ``timeout`` seconds, so
a client that stops sending or reading can never hold a thread forever.
"""
from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
from contextlib import AbstractContextManager as ContextManager
from typing import Union

Buffer = Union[bytes, bytearray, memoryview]

# OpenSSL forbids using one SSL object from two threads at once (a WebSocket handler
# reading while another thread sends), and Python releases the GIL inside SSL_read and
# SSL_write: a TLS socket shared by threads takes a lock around each single call. Plain
# sockets need none.
NO_GUARD: ContextManager = contextlib.nullcontext()


class ClientTimeout(TimeoutError):
    """The client made no progress (sent or read nothing) within the timeout."""


def wait_for(sock: socket.socket, writable: bool, timeout: float) -> None:
    """Block until ``sock`` is readable (or writable), or raise ``ClientTimeout``."""
    if hasattr(select, "poll"):  # any descriptor number, unlike select()
        poller = select.poll()
        poller.register(sock.fileno(), (select.POLLOUT if writable else select.POLLIN)
                        | select.POLLERR | select.POLLHUP)
        ready = bool(poller.poll(timeout * 1000))
    else:  # Windows
        readers, writers = ([], [sock]) if writable else ([sock], [])
        ready = any(select.select(readers, writers, [], timeout))
    if not ready:
        raise ClientTimeout(f"no progress within {timeout} s")


def has_input(sock: socket.socket) -> bool:
    """Whether ``sock`` has bytes (or an end of stream) waiting to be read."""
    return _ready_now(sock, False)


def can_write(sock: socket.socket) -> bool:
    """Whether ``sock`` has room for a write now (or has failed: the write then says so)."""
    return _ready_now(sock, True)


def _ready_now(sock: socket.socket, writable: bool) -> bool:
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLOUT if writable else select.POLLIN)
        return bool(poller.poll(0))
    readers, writers = ([], [sock]) if writable else ([sock], [])
    return any(select.select(readers, writers, [], 0))


def send_all(sock: socket.socket, data: Buffer, timeout: float,
             guard: ContextManager = NO_GUARD) -> None:
    """Write all of ``data``; ``timeout`` bounds each wait for the client to read.
    ``guard`` is held around each call into the socket (never around a wait)."""
    try:  # the common case: it all goes out at once
        with guard:
            sent = sock.send(data)
    except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
        sent = 0
    if sent == len(data):
        return
    view = memoryview(data)[sent:]
    while view:
        try:
            with guard:
                sent = sock.send(view)
        except (BlockingIOError, ssl.SSLWantWriteError):
            wait_for(sock, True, timeout)
            continue
        except ssl.SSLWantReadError:
            wait_for(sock, False, timeout)
            continue
        view = view[sent:]


def send_pieces(sock: socket.socket, pieces, timeout: float,
                guard: ContextManager = NO_GUARD) -> None:
    """Write the buffers ``pieces`` in order, gathered by ``sendmsg`` when the socket has
    it (a TLS socket has not: each piece is written in turn)."""
    if isinstance(sock, ssl.SSLSocket) or not hasattr(sock, "sendmsg"):
        for piece in pieces:
            send_all(sock, piece, timeout, guard)
        return
    views = [memoryview(piece) for piece in pieces if len(piece)]
    while views:
        try:
            sent = sock.sendmsg(views)
        except BlockingIOError:
            wait_for(sock, True, timeout)
            continue
        while views and sent >= len(views[0]):  # drop what went out, keep the rest
            sent -= len(views[0])
            views.pop(0)
        if sent:
            views[0] = views[0][sent:]


def receive(sock: socket.socket, size: int, timeout: float) -> bytes:
    """Read up to ``size`` bytes, waiting at most ``timeout`` for some to arrive.

    Returns ``b""`` at the end of the stream.
    """
    while True:
        try:
            return sock.recv(size)
        except (BlockingIOError, ssl.SSLWantReadError):
            wait_for(sock, False, timeout)
        except ssl.SSLWantWriteError:
            wait_for(sock, True, timeout)


class Reader:
    """Blocking reads of one socket by one thread (a WebSocket handler's), cheaper than
    ``receive`` in a loop: when the last read drained the socket it waits first, on a
    poll object made once, instead of paying a failed ``recv`` (an exception) and a new
    poll object on every wait. Each wait is one system call with the GIL released."""

    def __init__(self, sock: socket.socket, guard: ContextManager = NO_GUARD) -> None:
        self._sock = sock
        self._guard = guard
        self._tls = isinstance(sock, ssl.SSLSocket)
        self._poller = None
        if hasattr(select, "poll"):
            self._poller = select.poll()
            self._poller.register(sock.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        self._drained = False  # the last read left nothing behind (probably)

    def recv(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes, waiting at most ``timeout`` for some; ``b""`` at the end."""
        sock = self._sock
        while True:
            if self._drained and not (self._tls and sock.pending()):  # type: ignore[attr-defined]
                if self._poller is None:
                    wait_for(sock, False, timeout)
                elif not self._poller.poll(timeout * 1000):
                    raise ClientTimeout(f"no progress within {timeout} s")
            try:
                with self._guard:
                    data = sock.recv(size)
            except (BlockingIOError, ssl.SSLWantReadError):
                self._drained = True
                continue
            except ssl.SSLWantWriteError:
                wait_for(sock, True, timeout)
                continue
            self._drained = len(data) < size
            return data


def send_file(sock: socket.socket, file, offset: int, count: int, timeout: float,
              chunk_size: int) -> None:
    """Send ``count`` bytes of the open binary ``file`` from ``offset``.

    Plain sockets use ``os.sendfile`` (zero copy); TLS sockets, where the kernel cannot
    encrypt, read and send ``chunk_size`` bytes at a time.
    """
    if not isinstance(sock, ssl.SSLSocket) and hasattr(os, "sendfile"):
        out_fd, in_fd = sock.fileno(), file.fileno()
        while count > 0:
            try:
                sent = os.sendfile(out_fd, in_fd, offset, min(count, 1 << 30))
            except BlockingIOError:
                wait_for(sock, True, timeout)
                continue
            if sent == 0:  # the file is shorter than announced: the framing is broken
                raise EOFError("file shrank while it was being sent")
            offset += sent
            count -= sent
        return
    file.seek(offset)
    while count > 0:
        chunk = file.read(min(count, chunk_size))
        if not chunk:
            raise EOFError("file shrank while it was being sent")
        send_all(sock, chunk, timeout)
        count -= len(chunk)
