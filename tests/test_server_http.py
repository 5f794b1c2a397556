"""HTTP/1.1 semantics over the wire: keep-alive, pipelining, HEAD, 100-continue, errors."""
from __future__ import annotations

import http.client
import socket
import time

import pytest
import requests

from servers import Wire, start_app, start_server

APP = "http_semantics"  # tests/apps/http_semantics.py
CONFIG = {"max_socket_reuse": 50, "max_body_size_mb": 1, "allow_range_from_mb": 0}


@pytest.fixture(scope="module")
def callback_log(tmp_path_factory):
    return tmp_path_factory.mktemp("http") / "callbacks.log"


@pytest.fixture(scope="module")
def server(callback_log):
    with start_app(APP, CONFIG, env={"CALLBACK_LOG": str(callback_log)}) as running:
        yield running


def get(path: str, extra: str = "", version: str = "HTTP/1.1") -> bytes:
    return f"GET {path} {version}\r\nHost: t\r\n{extra}\r\n".encode()


def test_keep_alive_serves_many_requests_on_one_connection(server):
    with Wire(server.address) as wire:
        for _ in range(5):
            wire.send(get("/"))
            response = wire.read_response()
            assert response.status == 200 and response.body == b"Hello, World!"
            assert "connection" not in response.headers
            assert response.headers["content-length"] == "13"
            assert "date" in response.headers and "server" in response.headers


def test_connection_close_is_honoured(server):
    with Wire(server.address) as wire:
        wire.send(get("/", "Connection: close\r\n"))
        assert wire.read_response().headers["connection"] == "close"
        assert wire.closed_by_server()


def test_http10_closes_unless_keep_alive_is_asked(server):
    with Wire(server.address) as wire:
        wire.send(get("/", version="HTTP/1.0"))
        assert wire.read_response().status == 200
        assert wire.closed_by_server()
    with Wire(server.address) as wire:
        for _ in range(2):
            wire.send(get("/", "Connection: keep-alive\r\n", version="HTTP/1.0"))
            assert wire.read_response().headers["connection"].lower() == "keep-alive"


def test_pipelined_requests_are_answered_in_order(server):
    with Wire(server.address) as wire:
        wire.send(b"".join(
            f"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {len(str(i))}\r\n\r\n{i}".encode()
            for i in range(30)))
        assert [wire.read_response().body for _ in range(30)] == [str(i).encode() for i in range(30)]


def test_max_socket_reuse_closes_after_the_limit(server):
    with Wire(server.address) as wire:
        wire.send(get("/") * 60)
        responses = [wire.read_response() for _ in range(50)]
        assert all(r.status == 200 for r in responses)
        assert responses[-1].headers["connection"] == "close"
        assert "connection" not in responses[-2].headers
        assert wire.closed_by_server()


def test_head_has_the_get_headers_and_no_body(server):
    with Wire(server.address) as wire:
        wire.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n" + get("/"))
        head = wire.read_response(head_request=True)
        assert head.status == 200 and head.headers["content-length"] == "13" and head.body == b""
        assert wire.read_response().body == b"Hello, World!"  # nothing stray in between


def test_expect_continue_is_sent_when_the_handler_reads(server):
    with Wire(server.address) as wire:
        wire.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        interim = wire.read_response()
        assert interim.status == 100
        wire.send(b"hello")
        final = wire.read_response()
        assert final.status == 200 and final.body == b"hello"


def test_expect_continue_is_not_sent_when_the_handler_ignores_the_body(server):
    with Wire(server.address) as wire:
        wire.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        response = wire.read_response()
        assert response.status == 200 and response.body == b"Hello, World!"
        assert response.headers["connection"] == "close"  # the unsent body cannot be skipped


def test_body_over_the_limit_gets_413_before_it_is_sent(server):
    with Wire(server.address) as wire:
        wire.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        response = wire.read_response()
        assert response.status == 413
        assert wire.closed_by_server()


def test_chunked_body_growing_past_the_limit_gets_413(server):
    with Wire(server.address) as wire:
        wire.send(b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        piece = b"x" * 65536
        try:
            for _ in range(20):  # 1.25 MiB against a 1 MiB limit
                wire.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        except OSError:
            pass  # the server may stop reading once it has answered
        response = wire.read_response()
        assert response.status == 413
        assert wire.closed_by_server()


def test_chunked_upload_in_tiny_sends_is_streamed_to_the_handler(server):
    import hashlib
    payload = bytes(range(256)) * 200
    with Wire(server.address) as wire:
        wire.send(b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        body = b"".join(b"%x\r\n%s\r\n" % (len(payload[i:i + 700]), payload[i:i + 700])
                        for i in range(0, len(payload), 700)) + b"0\r\n\r\n"
        for i in range(0, len(body), 3):  # 3 bytes per send
            wire.send(body[i:i + 3])
            if i % 3000 == 0:
                time.sleep(0.001)
        response = wire.read_response()
        assert response.body.decode() == f"{len(payload)} {hashlib.sha256(payload).hexdigest()}"
        wire.send(get("/"))  # the connection is still in step
        assert wire.read_response().body == b"Hello, World!"


def test_large_upload_with_requests(server):
    payload = b"x" * 900_000
    response = requests.post(server.url + "/upload", data=payload, timeout=10)
    assert response.status_code == 200 and response.text.startswith("900000 ")


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
    (b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: t\nX: y\r\n\r\n", 400),
    (b"GET / HTTP/1.1\nHost: t\n\n", 400),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: t\r\nX: " + b"a" * 70000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: t\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(101)) + b"\r\n", 431),
    (b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
    (b"FOO / HTTP/1.1\r\nHost: t\r\n\r\n", 501),
    (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
], ids=["cl-and-te", "two-cl", "bad-chunk-size", "space-before-colon", "obs-fold",
        "bare-lf", "bare-lf-request-line", "long-url", "big-header", "too-many-headers",
        "final-coding-not-chunked", "unknown-method", "http2"])
def test_bad_requests_get_their_status_and_the_connection_closes(server, request_bytes, status):
    with Wire(server.address) as wire:
        wire.send(request_bytes)
        response = wire.read_response()
        assert response.status == status
        assert response.headers["connection"] == "close"
        assert wire.closed_by_server()


def test_requests_before_a_bad_one_are_answered_first(server):
    with Wire(server.address) as wire:
        wire.send(get("/") + b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
        assert wire.read_response().status == 200
        assert wire.read_response().status == 400
        assert wire.closed_by_server()


@pytest.mark.parametrize("framing", [
    b"Transfer-Encoding: chunked\t\r\n",               # refused only after the head is complete
    b"Transfer-Encoding: chunked\r\n\r\n5\r\nab\r\nzz\r\n",  # the body breaks in the same read
])
def test_a_request_cut_short_by_an_error_never_reaches_a_handler(server, callback_log, framing):
    path = f"/cut-short-{len(framing)}"
    with Wire(server.address) as wire:
        wire.send(f"POST {path} HTTP/1.1\r\nHost: t\r\n".encode() + framing + b"\r\n")
        assert wire.read_response().status == 400
        assert wire.closed_by_server()
    with Wire(server.address) as wire:  # a later request's callback proves the log is current
        wire.send(get("/after-cut-short"))
        assert wire.read_response().status == 200
    deadline = time.monotonic() + 5
    while "/after-cut-short" not in callback_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "/after-cut-short" in callback_log.read_text()
    assert path not in callback_log.read_text()


def test_handler_exception_gives_500_and_the_server_keeps_serving(server):
    with Wire(server.address) as wire:
        wire.send(get("/raise"))
        response = wire.read_response()
        assert response.status == 500 and b"RuntimeError" in response.body
        wire.send(get("/"))  # same connection, still served
        assert wire.read_response().status == 200
    server.wait_for_log(r"Traceback[\s\S]*handler failed on purpose")  # logged with its traceback


def test_header_injection_is_never_sent(server):
    with Wire(server.address) as wire:
        wire.send(get("/split"))
        response = wire.read_response()
        assert response.status == 500
        assert b"evil" not in response.raw_head


def test_generator_content_is_sent_chunked(server):
    response = requests.get(server.url + "/numbers", timeout=10)
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert response.text == "".join(str(i) for i in range(1000))


def test_generator_content_to_http10_is_delimited_by_the_close(server):
    with Wire(server.address) as wire:
        wire.send(get("/numbers", "Connection: keep-alive\r\n", version="HTTP/1.0"))
        response = wire.read_response()
        assert response.headers["connection"] == "close" and "transfer-encoding" not in response.headers
        assert response.body == "".join(str(i) for i in range(1000)).encode()


def test_a_stream_that_fails_half_way_is_cut_not_completed(server):
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(server.url + "/broken", timeout=10)  # reads the whole body
    server.wait_for_log(r"Traceback[\s\S]*stream broke on purpose")
    assert requests.get(server.url + "/", timeout=10).text == "Hello, World!"


def test_file_ranges_and_conditional_requests(server):
    data = bytes(range(256)) * 40
    whole = requests.get(server.url + "/file", timeout=10)
    assert whole.content == data and whole.headers["Accept-Ranges"] == "bytes"
    part = requests.get(server.url + "/file", headers={"Range": "bytes=10-19"}, timeout=10)
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    suffix = requests.get(server.url + "/file", headers={"Range": "bytes=-5"}, timeout=10)
    assert suffix.status_code == 206 and suffix.content == data[-5:]
    open_ended = requests.get(server.url + "/file", headers={"Range": "bytes=10200-"}, timeout=10)
    assert open_ended.content == data[10200:]
    unsatisfiable = requests.get(server.url + "/file", headers={"Range": "bytes=99999-"}, timeout=10)
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["Content-Range"] == f"bytes */{len(data)}"
    cached = requests.get(server.url + "/file", headers={"If-None-Match": whole.headers["ETag"]}, timeout=10)
    assert cached.status_code == 304 and cached.content == b""
    since = requests.get(server.url + "/file", timeout=10,
                         headers={"If-Modified-Since": whole.headers["Last-Modified"]})
    assert since.status_code == 304


def test_http_client_and_post_callback(server, callback_log):
    connection = http.client.HTTPConnection(*server.address, timeout=10)
    try:
        connection.request("POST", "/echo", body=b"payload")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"payload")
    finally:
        connection.close()
    deadline = time.monotonic() + 5
    while "/echo 200" not in (callback_log.read_text() if callback_log.exists() else ""):
        assert time.monotonic() < deadline, "post_callback was not called"
        time.sleep(0.05)


def test_sockets_have_tcp_nodelay(server):
    # Without TCP_NODELAY a response written in two sends stalls ~40 ms on delayed ACKs:
    # twenty small keep-alive requests then take far longer than a second.
    with Wire(server.address) as wire:
        wire.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        started = time.monotonic()
        for _ in range(20):
            wire.send(get("/file", "Range: bytes=0-0\r\n"))
            assert wire.read_response().status == 206
        assert time.monotonic() - started < 0.8


def test_the_first_seed_program_runs_unchanged(tmp_path):
    program = '''
from outside import OutsideHTTP, Response

server = OutsideHTTP(("127.0.0.1", 8080))

def hello_world(request):
    return Response(status_code=200, headers={"Content-Type": "text/plain"}, content="Hello, World!")

server.set_route("/hello", hello_world)
server.run()
'''
    # Only the port changes (8080 may be taken on a shared machine); the rest is verbatim.
    with start_server(program.replace("8080", "0")) as running:
        response = requests.get(running.url + "/hello", timeout=10)
        assert response.status_code == 200 and response.text == "Hello, World!"
        assert response.headers["Content-Type"] == "text/plain"
        assert running.stop() == 0


def test_upgrade_requests_are_handed_off_with_the_bytes_that_followed(tmp_path):
    upgrade = (b"GET %s HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
               b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    mask = b"\x01\x02\x03\x04"
    frame = b"\x81\x85" + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(b"hello"))
    with start_app(APP, CONFIG, env={"CALLBACK_LOG": str(tmp_path / "log"), "WS_ECHO": "1"}) as running:
        with Wire(running.address) as wire:  # a frame in the same packet as the upgrade
            wire.send(upgrade % b"/ws" + frame)
            response = wire.read_response()
            assert response.status == 101
            echoed = wire.file.read(7)
            assert echoed[0] & 0x0F in (1, 2) and echoed[1:] == b"\x05hello"
        with Wire(running.address) as wire:  # an upgrade to a plain route: answered, then closed
            wire.send(upgrade % b"/")
            assert wire.read_response().body == b"Hello, World!"
            assert wire.closed_by_server()
