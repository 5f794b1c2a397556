"""A stand-in for the worker, to drive ``Connection`` in-process over ``socket.socketpair()``.

``FakeHost`` is a real ``outside.server.host.Host``: a real app dispatches and renders,
the settings come from the app's config; what a worker would do with its selector and
threads is recorded instead (``forgotten``, ``replaced``, ``websockets``...). A
``FakeClock`` stands in for ``time.monotonic`` so deadlines can pass without waiting.
"""
from __future__ import annotations

import re
import socket
import threading
import time
from typing import Any, Callable

from outside import OutsideHTTP
from outside.server.connection import Connection
from outside.server.settings import Settings

WAIT = 5.0  # seconds a test waits for bytes that should come


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeHost:
    """The services a connection asks of its worker, without a worker."""

    def __init__(self, app: OutsideHTTP, **config: Any) -> None:
        app.config.update(config)
        self.app = app
        self.settings = Settings(app.config)
        self.access_log = False
        self.access_log_format = "common"
        self.metrics = None
        self.stopping = False
        self.forgotten: list[Any] = []
        self.replaced: list[tuple[Any, Any]] = []
        self.stop_callbacks: list[Callable[[], None]] = []
        self.websockets = 0
        self.released = 0
        self.posted: list[tuple[Any, Any]] = []

    @property
    def keep_alive(self) -> bool:
        return not self.stopping

    def dispatch(self, request: Any) -> Any:
        return self.app.dispatch(request)

    def post_callback(self, request: Any, response: Any) -> None:
        self.posted.append((request, response))

    def on_stop(self, callback: Callable[[], None]) -> Callable[[], None]:
        self.stop_callbacks.append(callback)
        return lambda: self.stop_callbacks.remove(callback)

    def forget(self, watched: Any) -> None:
        self.forgotten.append(watched)

    def replace(self, old: Any, new: Any) -> None:
        self.replaced.append((old, new))

    def open_websocket(self) -> bool:
        self.websockets += 1
        return True

    def close_websocket(self) -> None:
        self.websockets -= 1

    def release_thread(self) -> bool:
        self.released += 1
        return True


def connect(host: FakeHost, clock: FakeClock | None = None) -> tuple[Connection, socket.socket]:
    """A connection on one end of a socket pair, and the client's end."""
    server_end, client = socket.socketpair()
    server_end.setblocking(False)
    client.settimeout(WAIT)
    return Connection(server_end, ("127.0.0.1", 40000), host, clock or FakeClock()), client


def received(client: socket.socket) -> bytes:
    """Everything the client can read now (the connection answers synchronously)."""
    client.setblocking(False)
    chunks = []
    try:
        while True:
            chunk = client.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except BlockingIOError:
        pass
    finally:
        client.settimeout(WAIT)
    return b"".join(chunks)


def at_eof(client: socket.socket) -> bool:
    """Whether the server end has finished writing (shut down or closed)."""
    client.settimeout(WAIT)
    try:
        return client.recv(1) == b""
    except ConnectionResetError:
        return True


_STATUS = re.compile(rb"HTTP/1\.1 (\d{3}) [^\r\n]*\r\n")


def parse_responses(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Split ``data`` into responses framed by Content-Length (what the tests' app sends)."""
    responses = []
    position = 0
    while position < len(data):
        match = _STATUS.match(data, position)
        assert match, f"no status line at {position}: {data[position:position + 80]!r}"
        end = data.index(b"\r\n\r\n", position)
        headers: dict[str, str] = {}
        for line in data[match.end():end].split(b"\r\n"):
            if line:
                name, _, value = line.partition(b":")
                headers[name.decode().lower()] = value.decode().strip()
        length = int(headers.get("content-length", "0"))
        body = data[end + 4:end + 4 + length]
        assert len(body) == length, "a response was cut short"
        responses.append((int(match.group(1)), headers, body))
        position = end + 4 + length
    return responses


def wait_for(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


class Reader:
    """Reads the client's end on a thread (for answers larger than the socket buffers)."""

    def __init__(self, client: socket.socket) -> None:
        self._client = client
        self._chunks: list[bytes] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                chunk = self._client.recv(65536)
                if not chunk:
                    return
                self._chunks.append(chunk)
        except OSError:  # timed out (WAIT) or closed: the test's assertions tell
            return

    def all(self) -> bytes:
        """Everything read until the server's end closed (or WAIT passed)."""
        self._thread.join(WAIT)
        return b"".join(self._chunks)
