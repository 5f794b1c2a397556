"""``server.test_client()``: the app's own dispatch, error handlers, pre_send and render,
without sockets."""
from __future__ import annotations

import logging

import pytest

from outside import FilePath, OutsideHTTP, Response, ResponseCookie
from outside.testing import TestClient


@pytest.fixture
def app():
    app = OutsideHTTP(("127.0.0.1", 0))

    @app.route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def echo(request):
        return Response(200, {"X-Method": request.method}, {
            "method": request.method, "url": request.url, "query": request.query,
            "body": request.content.decode("utf-8"), "json": request.json(),
            "type": request.headers.get("content-type"), "custom": request.headers.get("X-Custom"),
            "address": list(request.address), "scheme": request.scheme, "host": request.headers.get("Host")})
    return app


def test_methods_query_headers_and_bodies(app):
    client = app.test_client()
    got = client.get("/echo?a=1", query={"b": "x y", "c": ["1", "2"]}, headers={"X-Custom": "yes"}).json()
    assert got["method"] == "GET" and got["query"] == {"a": ["1"], "b": ["x y"], "c": ["1", "2"]}
    assert got["custom"] == "yes" and got["host"] == "localhost" and got["scheme"] == "http"
    assert got["address"] == ["127.0.0.1", 50000]
    form = client.post("/echo", data={"name": "Ada", "lang": "fr"}).json()
    assert form["body"] == "name=Ada&lang=fr" and form["type"] == "application/x-www-form-urlencoded"
    as_json = client.put("/echo", json={"k": [1, None]}).json()
    assert as_json["json"] == {"k": [1, None]} and as_json["type"] == "application/json"
    raw = client.patch("/echo", data=b"\x00\x01", headers=[("Content-Type", "application/octet-stream")])
    assert raw.json()["type"] == "application/octet-stream"
    assert client.delete("/echo").headers["x-method"] == "DELETE"
    assert client.post("/echo", data="é").json()["body"] == "é"


def test_response_fields(app):
    response = app.test_client().get("/echo")
    assert (response.status_code, response.status) == (200, "200 OK")
    assert response.headers["content-type"] == response.headers["Content-Type"] == "application/json"
    assert response.json()["url"] == "/echo" and response.text.startswith("{")
    assert ("Content-Length", str(len(response.content))) in response.header_list
    assert repr(response).startswith("<TestResponse 200 OK")


def test_non_ascii_paths_and_other_charsets():
    app = OutsideHTTP(("127.0.0.1", 0))
    app.set_route("/café", lambda request: Response(200, {"Content-Type": "text/plain; charset=latin-1"},
                                                       request.url.encode("latin-1")))
    client = app.test_client()
    assert client.get("/café/menu").text == "/café/menu"
    assert client.get("/caf%C3%A9/menu").text == "/café/menu"


def test_error_handlers_pre_send_and_failures(app, caplog):
    app.set_route("/fail", lambda request: 1 / 0)
    app.set_route("/bad-header", lambda request: Response(200, {"X-Bad": "a\r\nInjected: 1"}, "x"))
    app.set_errorhandler(404, lambda request, message=None: Response(404, {}, "custom missing"))
    app.config["pre_send"] = lambda response: response.headers.update({"X-Seen": "1"})
    client = app.test_client()
    missing = client.get("/nowhere")
    assert (missing.status_code, missing.text, missing.headers["X-Seen"]) == (404, "custom missing", "1")
    with caplog.at_level(logging.ERROR, logger="outside"):
        failed = client.get("/fail")
        assert failed.status_code == 500 and "ZeroDivisionError" in failed.text
        refused = client.get("/bad-header")  # render refuses it, as the engine would
    assert refused.status_code == 500 and "Injected" not in refused.headers


def test_head_range_and_conditional_requests(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 4)
    app = OutsideHTTP(("127.0.0.1", 0))
    app.config["allow_range_from_mb"] = 0
    app.set_route("/file", lambda request: Response(200, {}, FilePath(str(path))))
    client = app.test_client()
    full = client.get("/file")
    assert full.content == path.read_bytes() and full.headers["Accept-Ranges"] == "bytes"
    head = client.head("/file")
    assert (head.status_code, head.content, head.headers["Content-Length"]) == (200, b"", "1024")
    ranged = client.get("/file", headers={"Range": "bytes=0-9"})
    assert (ranged.status_code, ranged.content) == (206, bytes(range(10)))
    assert ranged.headers["Content-Range"] == "bytes 0-9/1024"
    cached = client.get("/file", headers={"If-None-Match": full.headers["ETag"]})
    assert (cached.status_code, cached.content) == (304, b"")


def test_streamed_content_is_collected_and_closed():
    closed = []

    def pieces():
        try:
            yield b"a"
            yield "b"
        finally:
            closed.append(True)

    app = OutsideHTTP(("127.0.0.1", 0))
    app.set_route("/", lambda request: Response(200, {}, pieces()))
    response = app.test_client().get("/")
    assert response.content == b"ab" and closed == [True]


def test_cookies_are_kept_and_expired():
    app = OutsideHTTP(("127.0.0.1", 0))

    @app.route("/login")
    def login(request):
        return Response(200, {}, "in", cookies={"session": ResponseCookie("s1", http_only=True, path="/"),
                                                "theme": "dark"})

    @app.route("/logout")
    def logout(request):
        return Response(200, {}, "out", cookies={"session": ResponseCookie("", max_age=0)})

    @app.route("/who")
    def who(request):
        return Response(200, {}, dict(request.cookies))

    client = app.test_client()
    login_response = client.get("/login")
    assert login_response.cookies == {"session": "s1", "theme": "dark"}
    assert client.get("/who").json() == {"session": "s1", "theme": "dark"}
    client.get("/logout")
    assert client.get("/who").json() == {"theme": "dark"}
    assert client.get("/who", headers={"Cookie": "mine=1"}).json() == {"mine": "1"}  # explicit wins
    fresh = app.test_client(use_cookies=False)
    fresh.get("/login")
    assert fresh.get("/who").json() == {}


def test_post_callback_runs_after_the_body(app):
    seen = []
    app.config["post_callback"] = lambda request, response: seen.append((request.url, response.status_code))
    app.test_client().get("/echo")
    assert seen == [("/echo", 200)]


def test_client_options_and_proxies(app):
    app.config["forwarded_allow_ips"] = ["10.0.0.0/8"]
    proxied = TestClient(app, address=("10.1.2.3", 4000), scheme="http", host="example.com:8080")
    got = proxied.get("/echo", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}).json()
    assert got["address"] == ["203.0.113.9", 0] and got["scheme"] == "https" and got["host"] == "example.com:8080"
    direct = app.test_client(address=("192.0.2.1", 5000))
    got = direct.get("/echo", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}).json()
    assert got["address"] == ["192.0.2.1", 5000] and got["scheme"] == "http"


def test_mounted_wsgi_app_through_the_client():
    def hello(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}|{environ['QUERY_STRING']}".encode()]

    app = OutsideHTTP(("127.0.0.1", 0))
    app.mount("/w", hello)
    assert app.test_client().get("/w/x/y", query={"q": "1"}).text == "/w|/x/y|q=1"


def test_the_client_sees_the_http11_head_the_server_sends():
    def stream(request):
        yield b"ab"
        yield "c"

    app = OutsideHTTP(("127.0.0.1", 0))
    app.set_route("/text", lambda request: Response(200, {"X-A": "1"}, "hi"))
    app.set_route("/stream", lambda request: Response(200, {}, stream(request)))
    app.set_route("/closing", lambda request: Response(200, {"Connection": "close"}, b""))
    app.set_route("/empty", lambda request: Response(204, {}, "dropped"))
    client = app.test_client()

    text = client.get("/text")
    names = [name for name, _ in text.header_list]
    assert names == ["Date", "Server", "X-A", "Content-Type", "Content-Length"]
    assert text.headers["Server"] == "outside" and text.headers["Content-Length"] == "2"
    assert (text.head.version, text.head.framing, text.head.keep_alive) == ("HTTP/1.1", "fixed", True)

    streamed = client.get("/stream")  # chunked on the wire; the content arrives unframed
    assert streamed.headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in streamed.headers
    assert streamed.content == b"abc" and streamed.head.framing == "chunked"

    closing = client.get("/closing")
    assert closing.headers["Connection"] == "close" and closing.head.keep_alive is False
    assert "Connection" not in text.headers  # HTTP/1.1 keeps the connection without saying so

    empty = client.get("/empty")
    assert [name for name, _ in empty.header_list] == ["Date", "Server"] and empty.content == b""

    head = client.head("/stream")
    assert head.headers["Transfer-Encoding"] == "chunked" and head.content == b"" and not head.head.sends_body
