"""``EventStream`` on real servers with real clients: raw sockets (HTTP/1.1 chunks and
HTTP/1.0), ``requests`` with ``stream=True``; ids, retry, heartbeats, Last-Event-ID, many
idle streams on two threads, a slow reader dropped, clients leaving, a graceful stop."""
from __future__ import annotations

import json
import re
import signal
import socket
import threading
import time
import zlib

import pytest
import requests

from test_http_sse import parse_stream

from servers import start_app

pytestmark = pytest.mark.timeout(90)


class StreamClient:
    """A raw event-stream client: the response head, then the body as it arrives."""

    def __init__(self, server, path="/events", headers=b"", version=b"HTTP/1.1", rcvbuf=None):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect(server.address)
        self.sock.sendall(b"GET " + path.encode() + b" " + version + b"\r\nHost: t\r\n" + headers + b"\r\n")
        self.raw = b""
        self.body = b""       # the decoded body (chunk framing removed)
        self.ended = False    # the last chunk (or, unchunked, the close) arrived
        self.eof = False
        while b"\r\n\r\n" not in self.raw:
            self._receive()
        self.head, _, self.raw = self.raw.partition(b"\r\n\r\n")
        self.chunked = b"transfer-encoding: chunked" in self.head.lower()
        self._decode()

    def _receive(self):
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
            raise EOFError("the server closed the connection")
        self.raw += data

    def _decode(self):
        if not self.chunked:
            self.body += self.raw
            self.raw = b""
            return
        while True:
            size_line, crlf, rest = self.raw.partition(b"\r\n")
            if not crlf:
                return
            size = int(size_line, 16)
            if len(rest) < size + 2:
                return
            if size == 0:
                self.ended = True
                self.raw = b""
                return
            self.body += rest[:size]
            self.raw = rest[size + 2:]

    def wait_for(self, predicate, timeout=10.0):
        """Read until ``predicate(self.body)`` holds."""
        deadline = time.monotonic() + timeout
        while not predicate(self.body):
            if time.monotonic() > deadline:
                raise AssertionError(f"not received in time: {self.body[-300:]!r}")
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                self._receive()
            except EOFError:
                if not self.chunked:
                    self.ended = True
                raise
            self._decode()

    def events(self):
        return parse_stream(self.body)

    def wait_events(self, count, timeout=10.0):
        self.wait_for(lambda body: len(parse_stream(body)) >= count, timeout)
        return self.events()

    def read_to_end(self, timeout=10.0):
        try:
            self.wait_for(lambda body: False, timeout)
        except EOFError:
            pass
        return self.body

    def close(self):
        self.sock.close()


def count(server):
    return requests.get(server.url + "/count", timeout=10).json()


def wait_count(server, key, value, timeout=10.0):
    deadline = time.monotonic() + timeout
    while count(server)[key] != value:
        if time.monotonic() > deadline:
            raise AssertionError(f"{key} never reached {value}: {count(server)}")
        time.sleep(0.05)


@pytest.fixture
def server():
    with start_app("sse", config={"sse_heartbeat": 3600, "accept_timeout": 0.05}) as running:
        yield running


def test_multi_line_data_ids_and_retry_then_the_last_chunk(server):
    client = StreamClient(server, "/multi")
    assert client.head.startswith(b"HTTP/1.1 200 ")
    head = client.head.lower()
    assert b"content-type: text/event-stream" in head and b"cache-control: no-cache" in head
    assert client.chunked and b"content-length" not in head
    client.read_to_end()
    assert client.ended
    assert client.body == (b"event: multi\nid: 7\nretry: 2500\ndata: line one\ndata: line two\n"
                           b"data: line three\ndata: line four\n\nid: 8\n\n")
    assert client.events() == [{"type": "multi", "data": "line one\nline two\nline three\nline four",
                                "id": "7", "retry": 2500}]


def test_http_1_0_is_delimited_by_the_close(server):
    client = StreamClient(server, "/multi", version=b"HTTP/1.0")
    assert not client.chunked and b"content-length" not in client.head.lower()
    client.read_to_end()
    assert client.eof
    assert client.events()[0]["data"] == "line one\nline two\nline three\nline four"


def test_events_reach_an_open_stream_and_last_event_id_on_reconnect(server):
    client = StreamClient(server)
    assert client.wait_events(1) == [{"type": "welcome", "data": "last=None", "id": None, "retry": None}]
    assert requests.get(server.url + "/broadcast?data=a%0Ab&event=tick&id=41", timeout=10).text == "1"
    assert client.wait_events(2)[1] == {"type": "tick", "data": "a\nb", "id": "41", "retry": None}
    client.close()
    again = StreamClient(server, headers=b"Last-Event-ID: 41\r\n")  # what EventSource sends
    assert again.wait_events(1)[0]["data"] == "last=41"
    again.close()


def test_requests_with_stream_true(server):
    with requests.get(server.url + "/events", stream=True, timeout=10,
                      headers={"Accept-Encoding": "identity"}) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        lines = response.iter_lines(chunk_size=1, decode_unicode=True)
        assert next(lines) == "event: welcome"
        assert next(lines) == "data: last=None"
        assert next(lines) == ""
        requests.get(server.url + "/broadcast?data=pushed", timeout=10)
        assert next(lines) == "data: pushed"


def test_gzip_events_arrive_flushed(server):
    client = StreamClient(server, headers=b"Accept-Encoding: gzip\r\n")
    assert b"content-encoding: gzip" in client.head.lower()
    assert b"vary: accept-encoding" in client.head.lower()
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    client.wait_for(lambda body: b"welcome" in decoder.copy().decompress(body))
    requests.get(server.url + "/broadcast?data=zipped&id=3", timeout=10)
    client.wait_for(lambda body: b"zipped" in decoder.copy().decompress(body))
    consumed = len(client.body)
    assert parse_stream(decoder.decompress(client.body))[1]["data"] == "zipped"
    requests.get(server.url + "/close", timeout=10)
    client.read_to_end()
    assert decoder.decompress(client.body[consumed:]) == b""
    assert client.ended and decoder.eof  # the gzip trailer came before the last chunk


def test_heartbeat_comments_on_a_quiet_stream():
    with start_app("sse", config={"sse_heartbeat": 0.2, "accept_timeout": 0.05}) as server:
        client = StreamClient(server)
        client.wait_events(1)
        client.wait_for(lambda body: body.count(b": \n\n") >= 2)
        assert client.events()[0]["type"] == "welcome"  # comments are no events
        assert count(server)["open"] == 1


def test_a_client_that_leaves_is_noticed(server):
    clients = [StreamClient(server) for _ in range(3)]
    for client in clients:
        client.wait_events(1)
    wait_count(server, "open", 3)
    clients[0].close()
    wait_count(server, "closed", 1)
    assert count(server) == {"open": 2, "closed": 1, "closed_flags": 1}
    assert requests.get(server.url + "/broadcast?data=x", timeout=10).text == "2"


def _threads(pid):
    with open(f"/proc/{pid}/status") as file:
        return int(re.search(r"Threads:\s+(\d+)", file.read()).group(1))


def test_two_hundred_idle_streams_on_two_threads():
    with start_app("sse", config={"max_workers": 2, "sse_heartbeat": 3600}) as server:
        clients = [StreamClient(server) for _ in range(200)]
        for client in clients:
            client.wait_events(1)
        assert count(server)["open"] == 200
        assert requests.get(server.url + "/hello", timeout=5).text == "hello"
        assert _threads(server.pid) <= 5  # main, watchdog, two handler threads (+ one spare)
        assert requests.get(server.url + "/broadcast?data=all", timeout=10).text == "200"
        for client in clients:
            assert client.wait_events(2)[1]["data"] == "all"
            client.close()
        wait_count(server, "open", 0)


def test_a_slow_reader_is_dropped_while_the_others_go_on():
    with start_app("sse", config={"sse_max_buffer": 256 * 1024, "sse_heartbeat": 3600}) as server:
        slow = StreamClient(server, rcvbuf=4096)
        fast = StreamClient(server)
        fast.wait_events(1)
        wait_count(server, "open", 2)
        reader = threading.Thread(target=fast.read_to_end, args=(60,), daemon=True)
        reader.start()
        sent = 0
        for _ in range(80):  # 64 KiB of events a round until the slow one's queue overflows
            sent += int(requests.get(server.url + "/big?kib=64", timeout=30).text)
            if count(server)["closed"]:
                break
            time.sleep(0.02)
        state = count(server)
        assert state == {"open": 1, "closed": 1, "closed_flags": 1}
        assert sent < 2 * 64 * 80  # sends to the dropped stream returned False
        requests.get(server.url + "/broadcast?data=still-here", timeout=10)
        deadline = time.monotonic() + 10
        while b"still-here" not in fast.body and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b"still-here" in fast.body
        with pytest.raises((ConnectionError, EOFError, OSError)):  # the slow one was reset
            slow.sock.settimeout(5)
            while slow.sock.recv(1 << 20):
                pass
            raise EOFError


def test_sigterm_closes_every_stream_cleanly():
    with start_app("sse", config={"termination_timeout": 20}) as server:
        clients = [StreamClient(server) for _ in range(5)]
        for client in clients:
            client.wait_events(1)
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        for client in clients:
            client.read_to_end(timeout=10)
            assert client.ended  # the last chunk: a clean end, not a cut
        assert server.process.wait(15) == 0
        assert time.monotonic() - started < 8  # not the 20 s termination_timeout
        assert "Traceback" not in server.log()


def test_json_count_route_is_json(server):
    assert json.loads(requests.get(server.url + "/count", timeout=5).text)["open"] == 0


def test_over_tls_with_large_events(tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    paths = {name: str(tmp_path / f"{name}.pem") for name in ("ca", "key", "cert")}
    ca.cert_pem.write_to_path(paths["ca"])
    cert.private_key_pem.write_to_path(paths["key"])
    with open(paths["cert"], "wb") as chain:
        for pem in cert.cert_chain_pems:
            chain.write(pem.bytes())
    config = {"ssl_enabled": True, "ssl_keyfile": paths["key"], "ssl_certfile": paths["cert"],
              "sse_max_buffer": 64 * 1024 * 1024}
    with start_app("sse", config=config) as server:
        with requests.get(server.url + "/events", stream=True, timeout=20, verify=paths["ca"]) as response:
            lines = response.iter_lines(decode_unicode=True)
            assert next(lines) == "event: welcome"
            assert next(lines) == "data: last=None"
            assert requests.get(server.url + "/big?kib=512", timeout=30, verify=paths["ca"]).text == "512"
            received = 0
            for line in lines:
                if line.startswith("data: "):
                    assert line == "data: " + "y" * 1023
                    received += 1
                    if received == 512:
                        break
            assert received == 512
            requests.get(server.url + "/close", timeout=10, verify=paths["ca"])
            assert list(lines) == [""]  # the stream ends cleanly (the last chunk)


def _exchange(server, request: bytes) -> bytes:
    """Send ``request`` on a new connection; everything the server sends until it closes."""
    with socket.create_connection(server.address, timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while True:
            piece = sock.recv(65536)
            if not piece:
                return data
            data += piece


def test_head_gets_the_head_only_and_the_stream_ends(server):
    data = _exchange(server, b"HEAD /events HTTP/1.1\r\nHost: t\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head and body == b""
    wait_count(server, "closed", 1)  # on_close ran: the stream is over


def test_a_stream_returned_twice_serves_only_the_first(server):
    first = StreamClient(server, "/twice")
    data = _exchange(server, b"GET /twice HTTP/1.1\r\nHost: t\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 500")
    assert "returned twice" in server.log()
    assert requests.get(server.url + "/hello", timeout=5).text == "hello"
    first.close()


@pytest.mark.parametrize("path", ["/bad-header", "/bad-headers"])
def test_an_invalid_stream_response_gets_a_500(server, path):
    response = requests.get(server.url + path, timeout=10)
    assert response.status_code == 500
    assert requests.get(server.url + "/hello", timeout=5).text == "hello"
