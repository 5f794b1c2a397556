"""Real outside servers for integration tests: a subprocess on 127.0.0.1, port 0.

    with start_app("hello", config={"max_workers": 4}) as server:
        requests.get(server.url + "/")

``start_app(name)`` runs the app ``tests/apps/<name>.py``: a module with normal imports
that builds ``app = OutsideHTTP(("127.0.0.1", 0))`` and its routes, reading what varies
from environment variables (``env``); the config overrides are applied, then
``app.run()``. ``start_program(name)`` runs a ``tests/apps`` program that starts its
server itself; ``start_server`` runs any program source that serves on 127.0.0.1 port
0. (``start_app`` still takes a snippet of route code run after ``PRELUDE``, for the
tests not yet moved to app files.) The port is read from the server's start-up log
line. The server runs with the same ``OUTSIDE_NO_EXTENSIONS`` as the tests, so one suite
covers both twins. Leaving the ``with`` block stops it by PID (SIGTERM, then SIGKILL,
workers too).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from typing import Any, Dict, List, Mapping, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LISTENING = re.compile(r"Listening on (https?)://([\d.]+):(\d+)")

PRELUDE = """\
import os, sys, time, threading, signal
from outside import *
from outside import FilePath, Request, Response, ResponseCookie
app = OutsideHTTP(("127.0.0.1", 0))
app.config["workers"] = 1
"""


class RunningServer:
    """A server process: ``pid``, ``port``, ``url``; ``log()``, ``stop()``."""

    def __init__(self, process: subprocess.Popen, log_path: str) -> None:
        self.process = process
        self.pid = process.pid
        self._log_path = log_path
        self.scheme = "http"
        self.host = "127.0.0.1"
        self.port = 0

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def address(self):
        return (self.host, self.port)

    def log(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        with open(self._log_path, encoding="utf-8", errors="replace") as file:
            return file.read()

    def wait_for_log(self, pattern: str, timeout: float = 5.0) -> re.Match[str]:
        """Wait until the log matches the regular expression ``pattern``; the match."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(pattern, self.log())
            if match:
                return match
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not in the server log:\n{self.log()}")
            time.sleep(0.02)

    def wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = _LISTENING.search(self.log())
            if match:
                self.scheme, self.host, self.port = match.group(1), match.group(2), int(match.group(3))
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"server did not start within {timeout} s:\n{self.log()}")

    def children(self) -> List[int]:
        """PIDs of the server's child processes (its workers)."""
        try:
            with open(f"/proc/{self.pid}/task/{self.pid}/children") as file:
                return [int(pid) for pid in file.read().split()]
        except OSError:
            return []

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 15.0) -> Optional[int]:
        """Stop the server (and any worker left behind); its exit status."""
        workers = self.children()
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return self.process.returncode

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
        try:
            os.unlink(self._log_path)
        except OSError:
            pass


def start_server(source: str, env: Optional[Mapping[str, str]] = None,
                 startup_timeout: float = 20.0) -> RunningServer:
    """Run the program ``source`` in a new Python process and wait until it listens."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = ROOT + os.pathsep + environment.get("PYTHONPATH", "")
    environment.update(env or {})
    with tempfile.NamedTemporaryFile("wb", prefix="outside-server-", suffix=".log", delete=False) as log:
        process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(source)], cwd=ROOT,
                                   env=environment, stdout=log, stderr=subprocess.STDOUT)
    server = RunningServer(process, log.name)
    server.wait_listening(startup_timeout)
    return server


APPS = os.path.join(ROOT, "tests", "apps")
_APP_NAME = re.compile(r"^[A-Za-z_]\w*$")


def app_path(name: str) -> str:
    """The file of the test app ``name`` (``tests/apps/<name>.py``)."""
    path = os.path.join(APPS, name + ".py")
    if not os.path.exists(path):
        raise FileNotFoundError(f"no test app {path}")
    return path


def start_program(name: str, env: Optional[Mapping[str, str]] = None) -> RunningServer:
    """Run the program ``tests/apps/<name>.py`` (one that starts its server itself, on
    127.0.0.1 port 0) and wait until it listens."""
    return start_server(f"import runpy\nrunpy.run_path({app_path(name)!r}, run_name='__main__')\n", env=env)


def start_app(code: str = "", config: Optional[Dict[str, Any]] = None,
              env: Optional[Mapping[str, str]] = None) -> RunningServer:
    """Serve an app with ``config`` overrides (``workers`` is 1 unless set).

    ``code`` is either the name of a program in ``tests/apps/`` (a module that builds
    ``app = OutsideHTTP(("127.0.0.1", 0))`` and its routes) or a snippet of route code
    run after ``PRELUDE``.
    """
    settings = "".join(f"app.config[{key!r}] = {value!r}\n" for key, value in (config or {}).items())
    if _APP_NAME.match(code):
        program = (f"import runpy\napp = runpy.run_path({app_path(code)!r}, run_name='test_app')['app']\n"
                   f"app.config['workers'] = 1\n")
    else:
        program = PRELUDE + textwrap.dedent(code) + "\n"
    return start_server(program + settings + "app.run()\n", env=env)


def open_fds(pid: int) -> int:
    """How many file descriptors the process ``pid`` holds."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_for_fds(pid: int, expected: int, timeout: float = 8.0) -> int:
    """Descriptors of ``pid`` once they are back to ``expected`` (or when time is up)."""
    deadline = time.monotonic() + timeout
    while open_fds(pid) > expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return open_fds(pid)


def rss_kib(pid: int) -> int:
    """The resident memory of ``pid`` in KiB."""
    with open(f"/proc/{pid}/status") as file:
        for line in file:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class WireResponse:
    """One response read off a raw socket."""

    def __init__(self, status: int, reason: str, headers: Dict[str, str], body: bytes, raw_head: bytes):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-case names
        self.body = body
        self.raw_head = raw_head

    def __repr__(self) -> str:
        return f"WireResponse({self.status}, {self.headers}, {self.body[:60]!r})"


class Wire:
    """A raw client connection for wire-level tests: send bytes, read responses one by one."""

    def __init__(self, address, timeout: float = 10.0) -> None:
        import socket
        self.sock = socket.create_connection(address, timeout=timeout)
        self.file = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_response(self, head_request: bool = False) -> WireResponse:
        """The next response (``head_request``: it answers a HEAD, so it has no body)."""
        status_line = self.file.readline()
        if not status_line:
            raise EOFError("the server closed the connection")
        lines = [status_line]
        headers: Dict[str, str] = {}
        while True:
            line = self.file.readline()
            lines.append(line)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        version, status, reason = status_line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        code = int(status)
        if head_request or code < 200 or code in (204, 304):
            body = b""
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._read_chunked()
        elif "content-length" in headers:
            body = self.file.read(int(headers["content-length"]))
        else:
            body = self.file.read()
        return WireResponse(code, reason, headers, body, b"".join(lines))

    def _read_chunked(self) -> bytes:
        pieces = []
        while True:
            size = int(self.file.readline().split(b";")[0], 16)
            if size == 0:
                while self.file.readline() not in (b"\r\n", b""):
                    pass
                return b"".join(pieces)
            pieces.append(self.file.read(size))
            self.file.readline()

    def closed_by_server(self, timeout: float = 5.0) -> bool:
        """True when the server has closed the connection (reading gives EOF or a reset)."""
        self.sock.settimeout(timeout)
        try:
            return self.file.read(1) == b""
        except ConnectionResetError:
            return True
        except OSError:
            return False

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
