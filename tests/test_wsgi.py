"""WSGI both ways: a real Flask app (and PEP 3333 edge cases) mounted in a real outside
server; an outside app under a real gunicorn, under wsgiref with ``wsgiref.validate``."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import wsgiref.simple_server
import wsgiref.validate

import pytest
import requests

from outside import OutsideHTTP
from outside.wsgi import WSGIMount, to_wsgi

from servers import ROOT, start_app, start_server


@pytest.fixture(scope="module")
def flask_server():
    with start_app("wsgi_mounts") as server:
        yield server


def test_flask_app_under_a_prefix(flask_server):
    url = flask_server.url
    assert requests.get(url + "/legacy/", timeout=10).text == "flask index /legacy/items/3"
    assert requests.get(url + "/legacy", timeout=10).status_code in (200, 308)  # Flask's own slash rule
    got = requests.get(url + "/legacy/items/7?q=1", headers={"User-Agent": "tester"}, timeout=10).json()
    assert got["id"] == 7 and got["args"] == {"q": "1"} and got["agent"] == "tester"
    assert got["remote"] == "127.0.0.1" and got["root"] == f"{url}/legacy/"
    assert requests.get(url + "/legacyfoo", timeout=10).text == "outside prefix /legacyfoo"
    assert requests.get(url + "/native/4", timeout=10).text == "native 4"
    assert requests.get(url + "/legacy/nothing", timeout=10).status_code == 404  # Flask's 404


def test_flask_bodies_form_and_json(flask_server):
    form = requests.post(flask_server.url + "/legacy/items/1", data={"a": "b", "c": "é"}, timeout=10).json()
    assert form["method"] == "POST" and form["form"] == {"a": "b", "c": "é"}
    as_json = requests.post(flask_server.url + "/legacy/items/1", json={"k": [1, 2]}, timeout=10).json()
    assert as_json["json"] == {"k": [1, 2]}
    big = os.urandom(300_000)
    assert requests.post(flask_server.url + "/legacy/upload", data=big, timeout=10).json()["size"] == len(big)

    def chunks():
        yield b"abc"
        yield b"d" * 100_000
    chunked = requests.post(flask_server.url + "/legacy/upload", data=chunks(), timeout=10).json()
    assert chunked == {"size": 100_003, "first": "abc"}


def test_flask_cookies_pass_through_unchanged(flask_server):
    session = requests.Session()
    response = session.get(flask_server.url + "/legacy/cookies", timeout=10)
    raw = response.raw.headers.getlist("Set-Cookie")
    assert len(raw) == 2
    assert any(cookie.startswith("seen=yes;") and "HttpOnly" in cookie and "Max-Age=60" in cookie for cookie in raw)
    assert any(cookie.startswith("theme=dark;") and "Expires=" in cookie and "Path=/legacy/" in cookie
               for cookie in raw)
    assert session.get(flask_server.url + "/legacy/items/1", timeout=10).json()["cookie"] == "yes"


def test_flask_streaming_arrives_piece_by_piece(flask_server):
    started = time.monotonic()
    with requests.get(flask_server.url + "/legacy/stream", stream=True, timeout=10) as response:
        pieces = response.iter_content(chunk_size=None)
        first = next(pieces)
        first_at = time.monotonic() - started
        rest = b"".join(pieces)
    assert first.startswith(b"first") and first_at < 1.2
    assert (first + rest) == b"first\nsecond\n" and time.monotonic() - started >= 1.4


def test_flask_exception_is_a_500(flask_server):
    assert requests.get(flask_server.url + "/legacy/boom", timeout=10).status_code == 500


def test_environ_is_complete_and_valid(flask_server):
    # /env is wrapped in wsgiref.validate: a wrong environ or start_response use fails it
    response = requests.post(flask_server.url + "/env/a%2Fb/caf%C3%A9?x=1&y=%20",
                             data=b"payload", headers={"X-Custom": "one", "X_Sneaky": "no",
                                                       "Content-Type": "application/octet-stream"},
                             timeout=10)
    assert response.status_code == 200, response.text
    environ = response.json()
    assert environ["SCRIPT_NAME"] == "/env"
    assert environ["PATH_INFO"] == "/a/b/caf\u00c3\u00a9"  # UTF-8 bytes as latin-1, per PEP 3333
    assert environ["QUERY_STRING"] == "x=1&y=%20"
    assert environ["REQUEST_METHOD"] == "POST" and environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["CONTENT_TYPE"] == "application/octet-stream" and environ["CONTENT_LENGTH"] == "7"
    assert environ["body"] == "payload" and environ["HTTP_X_CUSTOM"] == "one"
    assert not any("SNEAKY" in key for key in environ)  # underscores cannot pose as dashes
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", str(flask_server.port))
    assert environ["REMOTE_ADDR"] == "127.0.0.1" and environ["wsgi.url_scheme"] == "http"
    assert environ["wsgi.multithread"] is True and environ["wsgi.run_once"] is False
    assert "HTTP_CONTENT_TYPE" not in environ and "HTTP_CONTENT_LENGTH" not in environ


def test_repeated_headers_are_joined(flask_server):
    import socket
    with socket.create_connection(flask_server.address, timeout=10) as sock:
        sock.sendall(b"GET /raw/ HTTP/1.1\r\nHost: example.com:8080\r\nAccept: a\r\nAccept: b\r\n"
                     b"Connection: close\r\n\r\n")
        data = b""
        while True:
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
    environ = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert environ["HTTP_ACCEPT"] == "a, b" and environ["PATH_INFO"] == "/"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("example.com", "8080")


# --- PEP 3333 details, through the test client (the same dispatch, no sockets) ------

def mounted(application):
    app = OutsideHTTP(("127.0.0.1", 0))
    app.mount("/m", application)
    return app.test_client()


def test_iterable_is_closed_and_write_works():
    closed = []

    class Body:
        def __iter__(self):
            yield b"b"
            yield b"c"

        def close(self):
            closed.append(True)

    def application(environ, start_response):
        write = start_response("201 Created", [("X-A", "1"), ("x-a", "2")])
        write(b"a")
        return Body()

    response = mounted(application).get("/m/")
    assert (response.status_code, response.content, response.headers["X-A"]) == (201, b"abc", "1, 2")
    assert closed == [True]


def test_lazy_start_response_and_exc_info_before_the_body():
    def application(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("late failure")
        except ValueError:
            start_response("503 Service Unavailable", [("Retry-After", "5")], sys.exc_info())
        yield b"try later"

    response = mounted(application).get("/m/x")
    assert (response.status_code, response.headers["Retry-After"], response.text) == (503, "5", "try later")


def test_exc_info_after_the_head_reraises():
    from outside.request import Request

    def application(environ, start_response):
        start_response("200 OK", [])
        yield b"started"
        try:
            raise KeyError("midway")
        except KeyError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        yield b"never"

    response = WSGIMount(application, "/m")(Request.blank(url="/m/x"))
    pieces = iter(response.content)
    assert next(pieces) == b"started"
    with pytest.raises(KeyError):
        next(pieces)


@pytest.mark.parametrize("application, status", [
    (lambda environ, start_response: [b"no start_response"], 500),
    (lambda environ, start_response: start_response("OK", []) and [], 500),
])
def test_broken_applications_are_500(application, status):
    assert mounted(application).get("/m").status_code == status


def test_head_keeps_the_declared_length():
    def application(environ, start_response):
        body = b"" if environ["REQUEST_METHOD"] == "HEAD" else b"12345"
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [body]

    client = mounted(application)
    head = client.head("/m")
    assert (head.headers["Content-Length"], head.content) == ("5", b"")
    assert client.get("/m").content == b"12345"


def test_mount_errors():
    app = OutsideHTTP(("127.0.0.1", 0))
    app.mount("/m", lambda environ, start_response: [])
    from outside.routing import HandlerSignatureError
    from outside.rules import RouteConflictError
    with pytest.raises(RouteConflictError, match="own prefix"):
        app.mount("/m", lambda environ, start_response: [])
    with pytest.raises(HandlerSignatureError, match=r"def <lambda>\(environ, start_response\)"):
        app.mount("/n", lambda request: None)
    with pytest.raises(ValueError, match="must start with '/'"):
        app.mount("n", lambda environ, start_response: [])


# --- outside as a WSGI application --------------------------------------------------

OUTSIDE_MODULE = '''
import os, time
from outside import OutsideHTTP, Response, ResponseCookie, FilePath

server = OutsideHTTP(("127.0.0.1", 0))
HERE = os.path.dirname(os.path.abspath(__file__))

@server.route("/hello/<name>", methods=["GET", "POST"])
def hello(request, name):
    return Response(200, {"X-Pid": str(os.getpid())}, {"hello": name, "body": request.content.decode(),
                                                      "scheme": request.scheme, "address": request.address[0],
                                                      "query": request.params})

@server.route("/cookie")
def cookie(request):
    return Response(200, {}, "cookie for " + request.cookies.get("in", "nobody"),
                    cookies={"out": ResponseCookie("v", http_only=True, path="/")})

@server.route("/file")
def file(request):
    return Response(200, {}, FilePath(os.path.join(HERE, "data.bin")))

@server.route("/stream")
def stream(request):
    def pieces():
        yield b"one,"
        yield b"two"
    return Response(200, {}, pieces())

def legacy(request):
    return Response(200, {}, "prefix " + request.url)
server.set_route("/old", legacy)
server.config["allow_range_from_mb"] = 0
application = server.wsgi_app
'''


@pytest.fixture
def outside_module(tmp_path):
    (tmp_path / "outside_wsgi_module.py").write_text(OUTSIDE_MODULE)
    (tmp_path / "data.bin").write_bytes(bytes(range(256)) * 40)
    return tmp_path


def check_outside_app(url, data):
    got = requests.post(url + "/hello/ada?x=1", data=b"body!", timeout=10).json()
    assert got == {"hello": "ada", "body": "body!", "scheme": "http", "address": "127.0.0.1", "query": {"x": "1"}}
    wrong = requests.delete(url + "/hello/ada", timeout=10)
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    head = requests.head(url + "/hello/ada", timeout=10)
    assert head.status_code == 200 and head.content == b"" and int(head.headers["Content-Length"]) > 0
    cookie = requests.get(url + "/cookie", cookies={"in": "me"}, timeout=10)
    assert cookie.text == "cookie for me" and cookie.headers["Set-Cookie"] == "out=v; HttpOnly; Path=/"
    ranged = requests.get(url + "/file", headers={"Range": "bytes=10-19"}, timeout=10)
    assert ranged.status_code == 206 and ranged.content == data[10:20]
    assert requests.get(url + "/file", timeout=10).content == data
    assert requests.get(url + "/stream", timeout=10).content == b"one,two"
    assert requests.get(url + "/old/path", timeout=10).text == "prefix /old/path"
    assert requests.get(url + "/nothing", timeout=10).status_code == 404


def test_outside_app_under_gunicorn(outside_module):
    if shutil.which("gunicorn") is None:
        pytest.skip("gunicorn is not installed")
    log_path = outside_module / "gunicorn.log"
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{outside_module}")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "--workers", "2",
             "--threads", "2", "outside_wsgi_module:application"],
            cwd=outside_module, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log_path.read_text())
            if match:
                break
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        url = f"http://127.0.0.1:{match.group(1)}"
        check_outside_app(url, (outside_module / "data.bin").read_bytes())
        assert requests.get(url + "/hello/x", timeout=10).headers["Server"] == "gunicorn"  # not doubled
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def test_outside_app_under_wsgiref_validate(outside_module):
    sys.path.insert(0, str(outside_module))
    try:
        import outside_wsgi_module
    finally:
        sys.path.remove(str(outside_module))
    wrapped = wsgiref.validate.validator(outside_wsgi_module.application)

    class Quiet(wsgiref.simple_server.WSGIRequestHandler):
        def log_message(self, *args):
            pass

    httpd = wsgiref.simple_server.make_server("127.0.0.1", 0, wrapped, handler_class=Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        check_outside_app(f"http://127.0.0.1:{httpd.server_port}", (outside_module / "data.bin").read_bytes())
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_to_wsgi_websocket_route_is_501():
    app = OutsideHTTP(("127.0.0.1", 0))

    @app.websocket("/ws")
    def chat(connection):
        pass

    client = app.test_client()
    upgrade = client.get("/ws", headers={"Connection": "Upgrade", "Upgrade": "websocket"})
    assert upgrade.status_code == 501 and "WSGI" in upgrade.text
    assert to_wsgi(app).server is app and app.wsgi_app is app.wsgi_app


def test_example_wsgi_mount():
    source = "import runpy, sys; sys.argv = ['wsgi_mount.py', '0']; " \
             "runpy.run_path('examples/wsgi_mount.py', run_name='__main__')"
    with start_server(source) as server:
        assert requests.get(server.url + "/", timeout=10).status_code == 200
        assert requests.get(server.url + "/legacy/", timeout=10).status_code == 200


def test_iterable_closed_when_the_client_leaves(tmp_path):
    marker = tmp_path / "closed"
    with start_app("wsgi_endless", env={"MARKER": str(marker)}) as server:
        with requests.get(server.url + "/endless", stream=True, timeout=10) as response:
            assert len(next(response.iter_content(1024))) > 0
        deadline = time.monotonic() + 10
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists()


@pytest.mark.parametrize("protocol", ["HTTP/1.1", "HTTP/1.0"])
def test_to_wsgi_hands_over_the_head_without_hop_by_hop_fields(protocol):
    """The WSGI server frames the body and writes Date/Server and Connection itself."""
    import wsgiref.util

    from outside import Response

    def pieces():
        yield b"a"
        yield b"bc"

    app = OutsideHTTP(("127.0.0.1", 0))
    app.set_route("/stream", lambda request: Response(200, {"X-A": "1", "Connection": "close"}, pieces()))
    app.set_route("/text", lambda request: Response(201, {}, "hi"))
    started = []

    def start_response(status, headers, exc_info=None):
        started.append((status, headers))
        return lambda data: None

    for path, status, fields, body in [
        ("/stream", "200 OK", [("X-A", "1"), ("Vary", "Accept-Encoding"), ("Content-Type", "text/plain")],
         b"abc"),  # a stream of text may be compressed: Vary
        ("/text", "201 Created", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "2")], b"hi"),
    ]:
        environ = {"PATH_INFO": path, "SERVER_PROTOCOL": protocol}
        wsgiref.util.setup_testing_defaults(environ)
        result = to_wsgi(app)(environ, start_response)
        try:
            assert b"".join(result) == body  # unframed: no chunk sizes
        finally:
            result.close()
        assert started.pop() == (status, fields)
