"""Slow and idle clients are cut off without holding a thread."""
from __future__ import annotations

import socket
import time

import pytest
import requests

from servers import Wire, start_app

APP = "slow_clients"  # tests/apps/slow_clients.py
CONFIG = {"header_timeout": 1, "keep_alive_timeout": 1, "process_timeout": 1,
          "accept_timeout": 0.2, "max_workers": 4}


@pytest.fixture(scope="module")
def server():
    with start_app(APP, CONFIG) as running:
        yield running


def test_slowloris_is_cut_off_after_header_timeout(server):
    with Wire(server.address) as wire:
        started = time.monotonic()
        wire.send(b"GET / HTTP/1.1\r\n")
        closed = False
        for _ in range(40):  # one header byte every 0.1 s: always "progress", never a head
            try:
                wire.send(b"X")
            except OSError:
                closed = True
                break
            time.sleep(0.1)
        assert closed or wire.closed_by_server(timeout=3)
        assert time.monotonic() - started < 3.5


def test_idle_keep_alive_connection_is_closed(server):
    with Wire(server.address) as wire:
        wire.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert wire.read_response().status == 200
        started = time.monotonic()
        assert wire.closed_by_server(timeout=5)
        assert 0.5 < time.monotonic() - started < 3


def test_a_client_that_stops_sending_its_body_is_cut_off(server):
    with Wire(server.address) as wire:
        wire.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
        started = time.monotonic()
        assert wire.closed_by_server(timeout=5)
        assert time.monotonic() - started < 3


def test_a_client_that_stops_reading_is_cut_off_and_others_are_served(server):
    stalled = socket.create_connection(server.address)
    try:
        stalled.sendall(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(0.3)
        assert requests.get(server.url + "/", timeout=5).text == "hello"  # not blocked
        time.sleep(2.0)  # past process_timeout with nothing read
        stalled.settimeout(5)
        received, started = 0, time.monotonic()
        try:
            while time.monotonic() - started < 5:
                chunk = stalled.recv(1 << 20)
                if not chunk:
                    break
                received += len(chunk)
        except ConnectionResetError:
            pass
        assert received < 50_000_000  # the response was abandoned, not completed
        assert time.monotonic() - started < 5
    finally:
        stalled.close()
    assert requests.get(server.url + "/", timeout=5).text == "hello"


def test_reader_waits_times_out_and_sees_the_end_of_the_stream():
    from outside.server.io import ClientTimeout, Reader
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.setblocking(False)
        reader = Reader(ours)
        theirs.sendall(b"x" * 10)
        assert reader.recv(4, 1.0) == b"xxxx"  # a full read: the next one reads at once
        assert reader.recv(100, 1.0) == b"x" * 6
        started = time.monotonic()
        with pytest.raises(ClientTimeout):
            reader.recv(100, 0.2)
        assert 0.15 < time.monotonic() - started < 2.0
        theirs.sendall(b"late")
        assert reader.recv(100, 1.0) == b"late"
        theirs.close()
        assert reader.recv(100, 1.0) == b""
