"""PEP 3333 under a real outside server (tests/apps/wsgi_pep3333.py): the environ, checked
by ``wsgiref.validate`` and key by key; how each body shape goes on the wire; the error
paths; ``wsgi.file_wrapper``; ``close()`` on every iterable; HTTPS. Plus the mount's
building blocks, called directly."""
from __future__ import annotations

import io
import json
import ssl

import pytest
import requests

from outside import OutsideHTTP
from outside.request import Request
from outside.wsgi import _ENVIRON_KEYS, _MAX_CACHED, FileWrapper, WSGIMount, _environ_key, _Streamed

from servers import Wire, start_app


@pytest.fixture(scope="module")
def server():
    with start_app("wsgi_pep3333") as running:
        yield running


def exchange(server, request: bytes, head_request: bool = False):
    with Wire(server.address) as wire:
        wire.send(request)
        return wire.read_response(head_request)


def environ_of(server, request: bytes) -> dict:
    response = exchange(server, request)
    assert response.status == 200, response
    return json.loads(response.body)


def closed(server) -> list:
    return requests.get(server.url + "/closed", timeout=10).json()


# --- the environ ----------------------------------------------------------------------

@pytest.mark.parametrize("request_bytes, body", [
    (b"GET /v/x HTTP/1.1\r\nHost: h\r\n\r\n", ""),
    (b"POST /v/x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello", "hello"),
    (b"POST /v/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", "abcde"),
])
def test_validator_accepts_the_environ_and_the_exchange(server, request_bytes, body):
    environ = environ_of(server, request_bytes)
    assert environ["body"] == body and environ["PATH_INFO"] == "/x" and environ["SCRIPT_NAME"] == "/v"
    assert "AssertionError" not in server.log() and "garbage collected" not in server.log()


def test_validator_accepts_head(server):
    response = exchange(server, b"HEAD /v/ HTTP/1.1\r\nHost: h\r\n\r\n", head_request=True)
    assert response.status == 200 and int(response.headers["content-length"]) > 0
    assert "AssertionError" not in server.log() and "garbage collected" not in server.log()


def test_environ_keys(server):
    environ = environ_of(server, b"PUT /m/caf%C3%A9/a%2Fb?x=1&y=%20 HTTP/1.1\r\nHost: example.org:8080\r\n"
                                 b"Content-Type: text/plain\r\nContent-Length: 3\r\nAccept: a\r\n"
                                 b"accept: b\r\nCookie: c=1\r\nCookie: d=2\r\nX-Custom: v\r\n\r\nabc")
    assert environ["REQUEST_METHOD"] == "PUT" and environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/m", "/caf\u00c3\u00a9/a/b")
    assert environ["QUERY_STRING"] == "x=1&y=%20"
    assert (environ["CONTENT_TYPE"], environ["CONTENT_LENGTH"]) == ("text/plain", "3")
    assert "HTTP_CONTENT_TYPE" not in environ and "HTTP_CONTENT_LENGTH" not in environ
    assert environ["HTTP_ACCEPT"] == "a, b" and environ["HTTP_COOKIE"] == "c=1; d=2"
    assert environ["HTTP_X_CUSTOM"] == "v" and environ["HTTP_HOST"] == "example.org:8080"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("example.org", "8080")
    assert environ["REMOTE_ADDR"] == "127.0.0.1" and int(environ["REMOTE_PORT"]) > 0
    assert environ["wsgi.url_scheme"] == "http" and environ["wsgi.version"] == [1, 0]
    assert environ["wsgi.input_terminated"] is True and environ["wsgi.run_once"] is False
    assert environ["body"] == "abc"


def test_environ_without_host_or_body(server):
    environ = environ_of(server, b"GET /m HTTP/1.0\r\n\r\n")
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"], environ["QUERY_STRING"]) == ("/m", "", "")
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.0" and "HTTP_HOST" not in environ
    assert environ["SERVER_NAME"] and environ["SERVER_PORT"].isdigit()  # the app's configured address
    assert "CONTENT_LENGTH" not in environ and environ["body"] == ""


def test_environs_are_not_shared_between_requests(server):
    first = environ_of(server, b"GET /m/a?q=1 HTTP/1.1\r\nHost: h\r\nX-Only-Here: 1\r\n\r\n")
    second = environ_of(server, b"GET /m/b HTTP/1.1\r\nHost: h\r\n\r\n")
    assert first["HTTP_X_ONLY_HERE"] == "1" and "HTTP_X_ONLY_HERE" not in second
    assert (second["PATH_INFO"], second["QUERY_STRING"]) == ("/b", "")


@pytest.mark.parametrize("fields, expected", [
    (b"X_Foo: evil\r\nX-Foo: good\r\n", "good"),
    (b"X-Foo: good\r\nX_Foo: evil\r\n", "good"),
    (b"X_Foo: evil\r\n", None),
])
def test_underscore_headers_cannot_pose_as_dashed_ones(server, fields, expected):
    environ = environ_of(server, b"GET /m/ HTTP/1.1\r\nHost: h\r\n" + fields + b"\r\n")
    assert environ.get("HTTP_X_FOO") == expected
    assert "evil" not in json.dumps(environ)


# --- body shapes on the wire --------------------------------------------------------

@pytest.mark.parametrize("shape, body", [
    ("list", b"one,two"), ("tuple", b"tuple"), ("write", b"written then returned"),
    ("closing-list", b"closing list"), ("declared-generator", b"declared!"),
])
def test_bodies_made_in_full_go_with_their_length(server, shape, body):
    response = exchange(server, f"GET /shape/{shape} HTTP/1.1\r\nHost: h\r\n\r\n".encode())
    assert response.status == 200 and response.body == body
    assert response.headers["content-length"] == str(len(body)) and "transfer-encoding" not in response.headers


def test_generator_without_length_is_streamed_chunked(server):
    response = exchange(server, b"GET /shape/generator HTTP/1.1\r\nHost: h\r\n\r\n")
    assert response.body == b"generator" and response.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.headers


def test_empty_and_no_content(server):
    assert exchange(server, b"GET /shape/empty HTTP/1.1\r\nHost: h\r\n\r\n").status == 204


def test_file_wrapper_sends_the_file_and_closes_it(server):
    response = requests.get(server.url + "/shape/file", timeout=10)
    assert response.content == bytes(range(256)) * 1000
    assert "file" in closed(server)
    # sent as a file span (sendfile): its length is known up front, nothing is chunked
    assert response.headers["Content-Length"] == "256000"
    assert "Transfer-Encoding" not in response.headers


def test_every_iterable_is_closed(server):
    before = len(closed(server))
    for shape in ("closing-list", "generator", "declared-generator"):
        requests.get(server.url + "/shape/" + shape, timeout=10)
    exchange(server, b"HEAD /shape/declared-generator HTTP/1.1\r\nHost: h\r\n\r\n", head_request=True)
    seen = closed(server)[before:]
    assert {"closing-list", "generator"} <= set(seen) and seen.count("declared-generator") == 2


# --- error paths ----------------------------------------------------------------------

@pytest.mark.parametrize("case", ["raise-before", "raise-after", "twice", "status-word", "status-long",
                                  "status-short", "status-bytes", "status-nospace", "no-start", "str-body"])
def test_broken_applications_get_a_500(server, case):
    with Wire(server.address) as wire:
        wire.send(f"GET /broken/{case} HTTP/1.1\r\nHost: h\r\n\r\n".encode())
        assert wire.read_response().status == 500
        wire.send(b"GET /shape/list HTTP/1.1\r\nHost: h\r\n\r\n")  # the connection still serves
        assert wire.read_response().body == b"one,two"


def test_header_with_crlf_is_refused_not_sent(server):
    response = exchange(server, b"GET /broken/crlf HTTP/1.1\r\nHost: h\r\n\r\n")
    assert response.status == 500
    assert b"stolen" not in response.raw_head and b"X-Injected" not in response.raw_head


def test_failure_while_streaming_cuts_the_connection(server):
    with Wire(server.address) as wire:
        wire.send(b"GET /broken/raise-in-body HTTP/1.1\r\nHost: h\r\n\r\n")
        with pytest.raises((ValueError, EOFError, ConnectionError)):
            wire.read_response()  # chunked, cut before its last chunk
    assert "raise-in-body" in closed(server)


def test_exc_info_after_the_head_reraises_and_cuts_the_connection(server):
    with Wire(server.address) as wire:
        wire.send(b"GET /broken/exc-info-late HTTP/1.1\r\nHost: h\r\n\r\n")
        head = wire.file.readline()
        assert head.startswith(b"HTTP/1.1 200")
        data = b""
        try:
            while True:  # to the end: the server closes (with a reset)
                piece = wire.file.read1(65536)
                if not piece:
                    break
                data += piece
        except ConnectionResetError:
            pass
    assert b"x" * 1000 in data and b"never" not in data and not data.endswith(b"0\r\n\r\n")
    assert "KeyError" in server.log()


# --- HTTPS ----------------------------------------------------------------------------

def test_https_scheme_and_port(tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    key_path, cert_path, ca_path = tmp_path / "key.pem", tmp_path / "cert.pem", tmp_path / "ca.pem"
    cert.private_key_pem.write_to_path(str(key_path))
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    ca.cert_pem.write_to_path(str(ca_path))
    config = {"ssl_enabled": True, "ssl_keyfile": str(key_path), "ssl_certfile": str(cert_path)}
    with start_app("wsgi_pep3333", config) as running:
        assert running.scheme == "https"
        url = f"https://127.0.0.1:{running.port}"
        environ = requests.get(url + "/v/", verify=str(ca_path), timeout=10).json()
        assert environ["wsgi.url_scheme"] == "https"
        assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", str(running.port))
        context = ssl.create_default_context(cafile=str(ca_path))
        import http.client
        connection = http.client.HTTPSConnection("127.0.0.1", running.port, context=context, timeout=10)
        connection.putrequest("GET", "/m/", skip_host=True)
        connection.putheader("Host", "secure.example")
        connection.endheaders()
        environ = json.loads(connection.getresponse().read())
        connection.close()
        assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("secure.example", "443")


# --- building blocks ------------------------------------------------------------------

def request(target: str, headers=(("Host", "h"),), body: bytes = b"") -> Request:
    from outside.http.events import RequestHead
    head = RequestHead("GET", target, "HTTP/1.1", list(headers), keep_alive=True, upgrade=False,
                       expect_continue=False, chunked=False, content_length=len(body) or None)
    return Request.from_head(head, ("127.0.0.1", 4000), body)


def test_a_body_produced_in_full_becomes_bytes_and_a_stream_stays_a_stream():
    pulled = []

    def pieces(declared, items):
        def application(environ, start_response):
            start_response("200 OK", [("Content-Length", declared)] if declared else [])
            for item in items:
                pulled.append(item)
                yield item
        return application

    assert WSGIMount(lambda e, s: s("200 OK", []) and [] or [b"a", b"b"])(request("/")).content == b"ab"
    assert WSGIMount(pieces("2", [b"ab"]))(request("/")).content == b"ab"
    streamed = WSGIMount(pieces("4", [b"ab", b"cd"]))(request("/")).content
    assert isinstance(streamed, _Streamed) and pulled == [b"ab", b"ab"]  # not pulled ahead of the client
    assert b"".join(streamed) == b"abcd"
    pulled.clear()
    streamed = WSGIMount(pieces(None, [b"ab", b"cd"]))(request("/")).content
    assert isinstance(streamed, _Streamed) and pulled == [b"ab"]


def test_no_body_input_is_fresh_and_empty():
    mount = WSGIMount(lambda environ, start_response: [], "")
    first, second = mount.environ(request("/")), mount.environ(request("/"))
    assert first["wsgi.input"] is not second["wsgi.input"]
    assert first["wsgi.input"].read() == b"" and first["wsgi.input"].readline() == b""
    assert mount.environ(request("/", body=b"data"))["wsgi.input"].read() == b"data"


def test_the_template_follows_the_config():
    app = OutsideHTTP(("127.0.0.1", 0))
    app.config["workers"] = 1
    mount = WSGIMount(lambda environ, start_response: [], "", app.config)
    assert mount.environ(request("/"))["wsgi.multiprocess"] is False
    app.config["workers"] = 3
    app.config["host"] = ("example.net", 8443)
    environ = mount.environ(request("/", headers=()))
    assert environ["wsgi.multiprocess"] is True
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("example.net", "8443")


def test_header_key_cache_is_bounded():
    for index in range(_MAX_CACHED + 50):
        assert _environ_key(f"X-Name-{index}") == f"HTTP_X_NAME_{index}"
    assert len(_ENVIRON_KEYS) <= _MAX_CACHED
    assert (_environ_key("content-type"), _environ_key("Content-Length"), _environ_key("X_A")) == \
        ("CONTENT_TYPE", "CONTENT_LENGTH", "")


def test_file_wrapper_reads_in_blocks_and_closes(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    file = open(path, "rb")  # noqa: SIM115 - closing it is what the wrapper must do
    wrapper = FileWrapper(file, 4)
    assert list(wrapper) == [b"0123", b"4567", b"89"]
    wrapper.close()
    assert file.closed


def test_file_wrapper_span_is_what_is_left_of_a_regular_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    with open(path, "rb") as file:
        file.seek(3)
        span = FileWrapper(file).span(None)
        assert (span.path, span.offset, span.count) == (str(path), 3, 7)
        assert FileWrapper(file).span(5).count == 5
        assert FileWrapper(file).span(8) is None  # shorter than declared: streamed, and reported there
    assert FileWrapper(io.BytesIO(b"abc")).span(None) is None  # no file on disk


def test_file_wrapper_span_refuses_a_file_its_name_no_longer_names(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    with open(path, "rb") as file:
        path.unlink()
        path.write_bytes(b"new content")  # another file under the same name
        assert FileWrapper(file).span(None) is None
