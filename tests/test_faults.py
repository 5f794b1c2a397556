"""Faults: clients that vanish mid-exchange, stop reading, workers killed or stopped under
load, a handler that never returns, files that change while they are sent.

After each fault the server must still answer and its descriptors return to baseline.
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import struct
import threading
import time

import pytest
import requests

from servers import Wire, open_fds, start_app, wait_for_fds

pytestmark = pytest.mark.timeout(60)

BIG = 8 * 1024 * 1024

APP = "faults"  # tests/apps/faults.py
RESET = struct.pack("ii", 1, 0)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="module")
def server(files):
    config = {"process_timeout": 2, "header_timeout": 2, "accept_timeout": 0.2, "termination_timeout": 1}
    with start_app(APP, config, env={"FILES": str(files)}) as running:
        requests.get(running.url + "/", timeout=5)
        yield running


def assert_recovered(server, baseline: int) -> None:
    assert requests.get(server.url + "/", timeout=5).text == "hello"
    assert wait_for_fds(server.pid, baseline) <= baseline


def reset(sock: socket.socket) -> None:
    """Close with an RST instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET)
    sock.close()


# -- clients that vanish ------------------------------------------------------------

@pytest.mark.parametrize("sent", [
    b"GET / HTTP/1.1\r\nHost: t\r\nX-Partial: ",
    b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\n" + b"u" * 300000,
    b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n" + b"u" * 2000,
], ids=["mid-request", "mid-upload", "mid-chunked-upload"])
def test_reset_while_sending(server, sent):
    baseline = open_fds(server.pid)
    sock = socket.create_connection(server.address)
    sock.sendall(sent)
    time.sleep(0.2)
    reset(sock)
    assert_recovered(server, baseline)


@pytest.mark.parametrize("path", ["/memory", "/file"])
def test_reset_mid_download(server, path):
    baseline = open_fds(server.pid)
    sock = socket.create_connection(server.address)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    received = 0
    while received < 1024 * 1024:
        received += len(sock.recv(65536))
    reset(sock)
    assert_recovered(server, baseline)


def test_a_client_that_stops_reading_is_cut_off(server):
    baseline = open_fds(server.pid)
    sock = socket.create_connection(server.address)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.sendall(b"GET /file HTTP/1.1\r\nHost: t\r\n\r\n")
    sock.recv(1024)
    time.sleep(3.5)  # process_timeout is 2 s: the server gives up on it meanwhile
    assert requests.get(server.url + "/", timeout=5).text == "hello"  # served all along
    received = 0
    sock.settimeout(5)
    with pytest.raises(ConnectionResetError):
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            received += len(chunk)
    sock.close()
    assert received < BIG
    assert_recovered(server, baseline)


# -- a handler that never returns --------------------------------------------------------

def test_a_handler_that_never_returns_loses_its_connection_and_others_are_served(server):
    baseline_threads = len(os.listdir(f"/proc/{server.pid}/task"))
    with Wire(server.address) as stuck:
        stuck.send(b"GET /forever HTTP/1.1\r\nHost: t\r\n\r\n")
        started = time.monotonic()
        for _ in range(5):
            assert requests.get(server.url + "/", timeout=2).text == "hello"
        assert stuck.closed_by_server(timeout=8)  # after process_timeout (2 s) of nothing
        assert 1.5 < time.monotonic() - started < 6
    server.wait_for_log("ran 2 s without returning")
    # The stuck thread is lost to its handler; the rest of the worker serves on.
    assert len(os.listdir(f"/proc/{server.pid}/task")) <= baseline_threads + 2
    assert requests.get(server.url + "/", timeout=2).text == "hello"


# -- files that change while they are sent ------------------------------------------------

@pytest.mark.parametrize("change", ["remove", "truncate"])
def test_a_file_changed_while_sent(server, files, change):
    name = f"{change}.bin"
    path = files / name
    path.write_bytes(b"d" * BIG)
    baseline = open_fds(server.pid)
    sock = socket.create_connection(server.address)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.sendall(f"GET /named?name={name} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: %d" % BIG in head
    if change == "remove":
        path.unlink()  # the open file stays readable: the whole body still arrives
    else:
        os.truncate(path, 1024 * 1024)  # the framing cannot be kept: the connection is cut
    sock.settimeout(10)
    size = len(body)
    try:
        while chunk := sock.recv(1 << 20):
            size += len(chunk)
    except ConnectionResetError:
        pass
    sock.close()
    if change == "remove":
        assert size == BIG
    else:
        assert size < BIG
    assert_recovered(server, baseline)


# -- processes killed or stopped under load ------------------------------------------------

PID_APP = "pid"  # tests/apps/pid.py


class KeepAliveClient(threading.Thread):
    """Requests on one keep-alive connection in a loop; remembers which worker served it,
    and which worker it was on when a request failed."""

    def __init__(self, address, path: str = "/") -> None:
        super().__init__(daemon=True)
        self.address, self.path = address, path
        self.served_by = None
        self.failed_on = []
        self.successes = 0
        self.stop = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection(*self.address, timeout=10)
        while not self.stop.is_set():
            try:
                connection.request("GET", self.path)
                response = connection.getresponse()
                body = response.read()
                if response.status != 200:
                    raise OSError(f"status {response.status}")
                self.served_by = int(body)
                self.successes += 1
            except (OSError, http.client.HTTPException):
                self.failed_on.append(self.served_by)
                connection.close()
                connection = http.client.HTTPConnection(*self.address, timeout=10)
                self.served_by = None
                time.sleep(0.05)
        connection.close()


def test_a_worker_killed_under_load_is_replaced_and_only_its_clients_notice():
    with start_app(PID_APP, {"workers": 2}) as server:
        deadline = time.monotonic() + 10
        while len(server.children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        clients = [KeepAliveClient(server.address, "/?sleep=0.01") for _ in range(8)]
        for client in clients:
            client.start()
        time.sleep(1.5)
        workers = server.children()
        victim = next(client.served_by for client in clients if client.served_by)
        assert victim in workers
        os.kill(victim, signal.SIGKILL)
        time.sleep(2.5)
        for client in clients:
            client.stop.set()
        for client in clients:
            client.join(15)
        replaced = server.children()
        assert victim not in replaced and len(replaced) == 2
        failures = [pid for client in clients for pid in client.failed_on]
        # Only connections held by the killed worker failed, each at most once.
        assert failures and set(failures) <= {victim, None}
        assert all(len(client.failed_on) <= 1 for client in clients)
        assert all(client.successes > 0 for client in clients)
        survivors = {client.served_by for client in clients}
        assert survivors and victim not in survivors
        assert requests.get(server.url + "/", timeout=5).status_code == 200


def test_sigterm_under_load_finishes_in_flight_and_refuses_new_connections():
    with start_app(PID_APP, {"workers": 2, "termination_timeout": 4}) as server:
        deadline = time.monotonic() + 10
        while len(server.children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        results = []

        def slow_request():
            try:
                results.append(requests.get(server.url + "/?sleep=1.5", timeout=10).status_code)
            except requests.RequestException as exc:
                results.append(type(exc).__name__)

        in_flight = [threading.Thread(target=slow_request) for _ in range(6)]
        for thread in in_flight:
            thread.start()
        time.sleep(0.5)  # all six are inside their handlers now
        stopped_at = time.monotonic()
        server.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        refusal = None
        try:  # the listeners are closed: a new connection is refused, not left hanging
            socket.create_connection(server.address, timeout=2).close()
        except ConnectionRefusedError as exc:
            refusal = exc
        assert refusal is not None
        for thread in in_flight:
            thread.join(10)
        assert results == [200] * 6
        server.process.wait(10)
        assert time.monotonic() - stopped_at < 4 + 2
        assert server.process.returncode == 0
