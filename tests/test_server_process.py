"""Worker processes: spread, restarted when killed, stopped gracefully."""
from __future__ import annotations

import concurrent.futures
import os
import signal
import socket
import time

import pytest
import requests

from servers import Wire, start_app, start_program

APP = "workers"  # tests/apps/workers.py


def test_workers_share_the_port_and_a_killed_worker_is_replaced():
    with start_app(APP, {"workers": 2}) as server:
        workers = set(server.children())
        assert len(workers) == 2

        def pid_of_connection(_: int) -> str:
            with Wire(server.address) as wire:
                wire.send(b"GET /pid HTTP/1.1\r\nHost: t\r\n\r\n")
                return wire.read_response().body.decode()

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            seen = set(pool.map(pid_of_connection, range(64)))
        assert seen == {str(pid) for pid in workers}  # both workers take connections

        victim = workers.pop()
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            current = set(server.children())
            if len(current) == 2 and victim not in current:
                break
            time.sleep(0.1)
        assert len(current) == 2 and victim not in current
        for _ in range(20):
            assert requests.get(server.url + "/pid", timeout=10).status_code == 200
        assert "exited" in server.log()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_a_large_download_finish(workers):
    with start_app(APP, {"workers": workers, "termination_timeout": 20}) as server:
        with socket.create_connection(server.address, timeout=10) as sock:
            sock.sendall(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
            head = b""
            while b"\r\n\r\n" not in head:
                head += sock.recv(4096)
            head, _, first = head.partition(b"\r\n\r\n")
            server.send_signal(signal.SIGTERM)
            time.sleep(0.5)  # the server is blocked on a full socket buffer meanwhile
            body = bytearray(first)
            while True:
                chunk = sock.recv(1 << 16)
                if not chunk:
                    break
                body += chunk
        assert b"200 OK" in head and len(body) == 32 << 20
        assert server.process.wait(15) == 0
        assert "cleanup ran" in server.log()
        with pytest.raises(OSError):
            socket.create_connection(server.address, timeout=2).close()


def test_sigterm_finishes_in_flight_requests_and_closes_idle_ones():
    with start_app(APP, {"termination_timeout": 10}) as server:
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            idle = Wire(server.address)
            slow = pool.submit(requests.get, server.url + "/sleep?s=1", timeout=10)
            time.sleep(0.3)
            started = time.monotonic()
            server.send_signal(signal.SIGTERM)
            assert idle.closed_by_server(timeout=5)
            idle.close()
            response = slow.result()
            assert response.text == "slept" and response.headers["Connection"] == "close"
        assert server.process.wait(10) == 0
        assert time.monotonic() - started < 5


def test_termination_timeout_bounds_the_stop():
    with start_app(APP, {"termination_timeout": 1}) as server:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            stuck = pool.submit(requests.get, server.url + "/sleep?s=30", timeout=20)
            time.sleep(0.3)
            started = time.monotonic()
            server.send_signal(signal.SIGINT)
            assert server.process.wait(10) == 0
            assert time.monotonic() - started < 4
            with pytest.raises(requests.ConnectionError):
                stuck.result()


def test_terminate_from_a_handler_thread_stops_the_server():
    with start_program("terminate_from_handler") as server:
        assert requests.get(server.url + "/stop", timeout=10).text == "bye"
        assert server.process.wait(10) == 0
        assert "run returned" in server.log()


def running(pid: int) -> bool:
    """Whether ``pid`` is alive (a zombie waiting to be reaped does not count)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return "zombie" not in status.read()
    except FileNotFoundError:
        return False


def test_workers_stop_when_the_supervisor_is_killed():
    with start_app(APP, {"workers": 2}) as server:
        workers = server.children()
        assert len(workers) == 2
        server.send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(map(running, workers)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(map(running, workers))


@pytest.mark.parametrize("kind", ["blocking", "events"])
def test_open_websockets_are_closed_with_going_away_on_sigterm(kind):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with start_app(APP, {"termination_timeout": 10}, env={"WS_ECHO": kind}) as server:
        with connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=5) as client:
            client.send(b"ping")
            assert client.recv(timeout=5) == b"ping"
            started = time.monotonic()
            server.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                client.recv(timeout=5)
            assert closed.value.rcvd.code == 1001
        assert server.process.wait(10) == 0
        assert time.monotonic() - started < 3  # not the whole termination_timeout
        assert "EXIT ws" in server.log()
