"""Blocking handlers, many clients, max_workers backpressure, no leaked descriptors."""
from __future__ import annotations

import concurrent.futures
import os
import socket
import time

import pytest
import requests

from servers import Wire, open_fds, start_app

APP = "sleepy"  # tests/apps/sleepy.py


@pytest.fixture(scope="module")
def server():
    with start_app(APP, {"max_workers": 8}) as running:
        yield running


def test_a_sleeping_handler_does_not_delay_other_clients(server):
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        slow = pool.submit(requests.get, server.url + "/sleep?s=2", timeout=10)
        time.sleep(0.2)
        started = time.monotonic()
        for _ in range(20):
            assert requests.get(server.url + "/", timeout=10).text == "hello"
        assert time.monotonic() - started < 1.5
        assert slow.result().text == "slept"


def test_200_concurrent_clients_are_all_answered(server):
    def client(index: int) -> str:
        with Wire(server.address) as wire:
            for _ in range(3):
                wire.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                assert wire.read_response().body == b"hello"
            return "ok"

    with concurrent.futures.ThreadPoolExecutor(200) as pool:
        assert list(pool.map(client, range(200))) == ["ok"] * 200


def test_connections_beyond_max_workers_wait_instead_of_being_dropped():
    with start_app(APP, {"max_workers": 2}) as running:
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            started = time.monotonic()
            futures = [pool.submit(requests.get, running.url + "/sleep?s=0.5", timeout=20)
                       for _ in range(6)]
            assert [f.result().text for f in futures] == ["slept"] * 6
            # two at a time: three rounds of half a second
            assert time.monotonic() - started >= 1.4


def test_no_descriptor_leaks_after_10000_requests(server):
    before = open_fds(server.pid)

    def batch(index: int) -> None:
        with Wire(server.address) as wire:  # 100 connections of 100 pipelined requests
            wire.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n" * 100)
            for _ in range(100):
                assert wire.read_response().status == 200

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        list(pool.map(batch, range(100)))
    for _ in range(50):  # and 50 short-lived connections with one request each
        requests.get(server.url + "/", headers={"Connection": "close"}, timeout=10)
    deadline = time.monotonic() + 5
    while open_fds(server.pid) > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert open_fds(server.pid) <= before


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_requests_pipelined_behind_a_blocking_handler_wait_without_spinning(server):
    with Wire(server.address) as wire:
        wire.send(b"GET /sleep?s=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(0.1)  # the handler is running; more arrives on its connection
        before = cpu_seconds(server.pid)
        wire.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert requests.get(server.url + "/", timeout=5).text == "hello"  # others still served
        time.sleep(0.7)
        assert cpu_seconds(server.pid) - before < 0.3  # the loop did not spin on the busy socket
        assert wire.read_response().body == b"slept"
        assert wire.read_response().body == b"hello"


def test_blocking_handlers_started_in_a_burst_all_run_at_once(server):
    # Each blocking handler must hand the loop to a new thread, however fast they come.
    with concurrent.futures.ThreadPoolExecutor(7) as pool:
        started = time.monotonic()
        futures = [pool.submit(requests.get, server.url + "/sleep?s=2", timeout=10) for _ in range(7)]
        assert [future.result().text for future in futures] == ["slept"] * 7
        assert time.monotonic() - started < 3.5  # one handler waiting for another: >= 4 s


def test_running_out_of_descriptors_pauses_accepting_without_spinning():
    with start_app(APP, {"accept_timeout": 0.2}, env={"MAX_OPEN_FILES": "64"}) as server:
        crowd = []
        try:
            for _ in range(100):  # more than the server can hold; the kernel queues the rest
                crowd.append(socket.create_connection(server.address, timeout=5))
            time.sleep(0.3)
            before = cpu_seconds(server.pid)
            time.sleep(1.0)
            assert cpu_seconds(server.pid) - before < 0.5  # paused, not spinning on accept
        finally:
            for sock in crowd:
                sock.close()
        time.sleep(0.5)
        assert requests.get(server.url + "/", timeout=10).text == "hello"
        assert "accept failed" in server.log()
