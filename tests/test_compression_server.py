"""Response compression on the wire: ``requests`` (which decodes) and raw sockets (which see
the coded bytes), each "never" case, q-values, streamed pieces flushed one by one, and
``StaticFiles``/``outside serve`` sending precompressed siblings."""
from __future__ import annotations

import gzip
import json
import zlib

import pytest
import requests

from servers import Wire, start_app, start_server

try:
    import brotli
except ImportError:
    brotli = None

pytestmark = pytest.mark.timeout(60)
needs_brotli = pytest.mark.skipif(brotli is None, reason="brotli is not installed")
TEXT = "".join(f"line {n}: the quick brown fox jumps over the lazy dog\n" for n in range(200)).encode()


@pytest.fixture(scope="module")
def static_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("precompressed")
    (folder / "app.js").write_bytes(b"console.log('original');\n" * 100)
    (folder / "app.js.gz").write_bytes(b"GZ-SIBLING")  # the server must send them as they are
    (folder / "app.js.br").write_bytes(b"BR-SIBLING")
    (folder / "only-gz.css").write_bytes(b"body{}\n" * 300)
    (folder / "only-gz.css.gz").write_bytes(gzip.compress(b"body{}\n" * 300))
    (folder / "plain.txt").write_bytes(b"no siblings\n" * 200)
    (folder / "index.html").write_bytes(b"<h1>index</h1>" * 100)
    (folder / "index.html.gz").write_bytes(gzip.compress(b"<h1>index</h1>" * 100))
    return folder


@pytest.fixture(scope="module")
def server(static_dir):
    with start_app("compression", env={"STATIC_DIR": str(static_dir)}) as running:
        yield running


def get(server, target, accept=None, method="GET"):
    """The raw response (body still coded) to ``target``."""
    with Wire(server.address) as wire:
        extra = f"Accept-Encoding: {accept}\r\n" if accept is not None else ""
        wire.send(f"{method} {target} HTTP/1.1\r\nHost: t\r\n{extra}Connection: close\r\n\r\n".encode())
        return wire.read_response(head_request=method == "HEAD")


@pytest.mark.parametrize("target, original", [
    ("/text", TEXT), ("/bytes", TEXT), ("/svg", TEXT),
    ("/json", json.dumps({"items": [TEXT[:100].decode()] * 50}).encode()),
    ("/list", TEXT),
])
def test_gzip_on_the_wire(server, target, original):
    response = get(server, target, "gzip, deflate")
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) == len(response.body) < len(original) // 3
    assert gzip.decompress(response.body) == original


@needs_brotli
def test_brotli_preferred_when_equal(server):
    response = get(server, "/text", "gzip, br")
    assert response.headers["content-encoding"] == "br"
    assert brotli.decompress(response.body) == TEXT
    assert get(server, "/text", "gzip, br;q=0.5").headers["content-encoding"] == "gzip"


def test_requests_decodes_it(server):
    response = requests.get(server.url + "/text", timeout=10)  # sends gzip, deflate(, br)
    assert response.headers["Content-Encoding"] in ("gzip", "br")
    assert response.content == TEXT


def test_content_type_defaults_survive(server):
    assert get(server, "/text", "gzip").headers["content-type"] == "text/plain; charset=utf-8"
    assert get(server, "/json", "gzip").headers["content-type"] == "application/json"


@pytest.mark.parametrize("accept", [None, "", "gzip;q=0", "identity", "*;q=0", "deflate",
                                    "gzip;q=0.5, identity"])
def test_refused_or_not_asked_for_identity_with_vary(server, accept):
    response = get(server, "/text", accept)
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.body == TEXT


def test_wildcard_is_honoured(server):
    response = get(server, "/text", "*")
    assert response.headers["content-encoding"] in ("gzip", "br")
    assert get(server, "/text", "br;q=0, *;q=0.5").headers["content-encoding"] == "gzip"


@pytest.mark.parametrize("target, vary", [
    ("/small", None),             # under 1 KiB: never coded, so nothing varies
    ("/png", None),               # not a compressible type
    ("/partial", None),           # 206: the range is of the identity body
    ("/encoded", None),           # already coded by the handler
    ("/no-transform", None),
    ("/no-compress", None),       # Response(..., compress=False)
    ("/file", None),              # FilePath: sendfile, never coded on the fly
])
def test_never_compressed(server, target, vary):
    plain = get(server, target)
    coded = get(server, target, "gzip, br")
    assert coded.body == plain.body
    assert coded.headers.get("content-encoding") == plain.headers.get("content-encoding")
    assert coded.headers.get("vary") == vary
    if target == "/encoded":
        assert gzip.decompress(coded.body) == TEXT


def test_head_has_the_get_headers_and_no_body(server):
    get_response = get(server, "/text", "gzip")
    head_response = get(server, "/text", "gzip", method="HEAD")
    assert head_response.body == b""
    for name in ("content-encoding", "content-length", "vary", "content-type"):
        assert head_response.headers[name] == get_response.headers[name]
    with Wire(server.address) as wire:  # nothing follows the head
        wire.send(b"HEAD /text HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n"
                  b"GET /small HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        assert wire.read_response(head_request=True).status == 200
        assert wire.read_response().body == TEXT[:1023]


def test_etag_is_suffixed_and_vary_merged(server):
    assert get(server, "/etag", "gzip").headers["etag"] == '"v1-gzip"'
    assert get(server, "/etag").headers["etag"] == '"v1"'
    assert get(server, "/vary", "gzip").headers["vary"] == "Cookie, Accept-Encoding"
    assert get(server, "/vary").headers["vary"] == "Cookie, Accept-Encoding"


def test_streamed_pieces_arrive_flushed(server):
    """The first compressed chunk decodes to the first piece while the handler still
    waits to send the second."""
    with Wire(server.address) as wire:
        wire.send(b"GET /stream HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n")
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += wire.file.readline()
        assert b"Content-Encoding: gzip" in head and b"Transfer-Encoding: chunked" in head
        assert b"Content-Length" not in head
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        size = int(wire.file.readline(), 16)
        first = decoder.decompress(wire.file.read(size))
        wire.file.readline()
        assert first == TEXT[:1500]
        assert requests.get(server.url + "/release", timeout=10).text == "released"
        rest = b""
        while True:
            size = int(wire.file.readline(), 16)
            if size == 0:
                break
            rest += decoder.decompress(wire.file.read(size))
            wire.file.readline()
        assert first + rest == TEXT and decoder.eof


def test_streamed_body_through_requests(server):
    requests.get(server.url + "/release", timeout=10)  # the handler need not wait
    assert requests.get(server.url + "/stream", timeout=15).content == TEXT


@pytest.mark.parametrize("accept, encoding, body", [
    ("gzip, br", "br", b"BR-SIBLING"),
    ("gzip", "gzip", b"GZ-SIBLING"),
    ("br;q=0.5, gzip", "gzip", b"GZ-SIBLING"),
    ("gzip;q=0, br;q=0", None, b"console.log('original');\n" * 100),
    (None, None, b"console.log('original');\n" * 100),
])
def test_precompressed_siblings(server, accept, encoding, body):
    response = get(server, "/static/app.js", accept)
    assert response.body == body
    assert response.headers.get("content-encoding") == encoding
    assert response.headers["content-type"].startswith(("application/javascript", "text/javascript"))
    assert response.headers["vary"] == "Accept-Encoding"


def test_sibling_of_an_index_and_requests_decoding(server):
    assert requests.get(server.url + "/static/only-gz.css", timeout=10).content == b"body{}\n" * 300
    response = get(server, "/static/", "gzip")
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"].startswith("text/html")
    assert gzip.decompress(response.body) == b"<h1>index</h1>" * 100
    plain = get(server, "/static/plain.txt", "gzip")
    assert "content-encoding" not in plain.headers and "vary" not in plain.headers


def test_outside_serve_sends_siblings(static_dir):
    with start_server(f"""
from outside.cli import main
main(["serve", {str(static_dir)!r}, "--port", "0"])
""") as served:
        response = get(served, "/app.js", "gzip")
        assert response.body == b"GZ-SIBLING"
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["content-type"].startswith(("application/javascript", "text/javascript"))


def test_the_switch_turns_it_off():
    with start_app("compression", config={"compression": False}) as running:
        response = get(running, "/text", "gzip, br")
        assert "content-encoding" not in response.headers and "vary" not in response.headers
        assert response.body == TEXT


