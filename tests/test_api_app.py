"""The application: routing, error handlers, ``ScheduledResponse``, ``pre_send``, redirects."""
from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pytest

from outside import OutsideHTTP, OutsideHTTP_Redirect, Request, Response, ScheduledResponse
from outside.app import DefaultErrorHandler
from outside.http.events import RequestHead
from outside.response import render
from outside.routing import PrefixRouter
from outside.status import STATUS_DESCRIPTIONS


def make_request(target="/", method="GET", headers=(), upgrade=False):
    head = RequestHead(method, target, "HTTP/1.1", [("Host", "example.com"), *headers], keep_alive=True,
                       upgrade=upgrade, expect_continue=False, chunked=False, content_length=None)
    return Request.from_head(head, ("127.0.0.1", 40000), b"")


def text_of(name):
    return lambda request: Response(200, {}, name)


@pytest.fixture
def app():
    return OutsideHTTP(("127.0.0.1", 0))


def test_first_program_from_the_readme(app):
    def hello_world(request):
        return Response(status_code=200, headers={"Content-Type": "text/plain"}, content="Hello, World!")
    app.set_route("/hello", hello_world)
    request = make_request("/hello")
    rendered = render(app.dispatch(request), request, True, app.config)
    assert rendered.head.startswith(b"HTTP/1.1 200 OK\r\n") and rendered.body == b"Hello, World!"


def test_attributes_and_config(app):
    assert app.config["host"] == ("127.0.0.1", 0)
    for key in ("backlog_length", "max_workers", "process_timeout", "termination_timeout", "recv_size",
                "send_size", "keep_alive", "max_socket_reuse", "ssl_enabled", "ssl_keyfile", "ssl_certfile",
                "accept_timeout", "max_body_size_mb", "allow_range_from_mb", "big_definition_mb",
                "big_send_limit_mb", "post_callback", "pre_send", "server_cleanup"):
        assert key in app.config
    assert app._routes == {} and app._active_requests == [] and app._terminate_process is False
    assert set(app._error_routes) == set(STATUS_DESCRIPTIONS)


@pytest.mark.parametrize("path, expected", [
    ("/api/users", "api"), ("/api", "api"), ("/apiary", "api"), ("/x", "root"), ("/", "root"),
    ("/api/v2/items", "v2"), ("/static/a.css", "static"),
])
def test_longest_prefix_wins(app, path, expected):
    for route, name in [("/", "root"), ("/api", "api"), ("/api/v2", "v2"), ("/static/", "static")]:
        app.set_route(route, text_of(name))
    assert app.dispatch(make_request(path)).content == expected


def test_routes_match_decoded_path(app):
    app.set_route("/café", text_of("café"))
    assert app.dispatch(make_request("/caf%C3%A9/menu")).content == "café"


def test_no_route_is_404(app):
    app.set_route("/api", text_of("api"))
    response = app.dispatch(make_request("/other"))
    assert response.status_code == 404
    assert response.content == "404 Not Found (No further information.)"


def test_remove_and_replace_routes(app):
    app.set_route("/a", text_of("first"))
    app.set_route("/a", text_of("second"))
    assert app.dispatch(make_request("/a")).content == "second"
    app.remove_route("/a")
    assert app._routes == {} and app.dispatch(make_request("/a")).status_code == 404
    with pytest.raises(KeyError):
        app.remove_route("/a")


def test_routes_dict_edited_directly(app):
    app.set_route("/", text_of("root"))
    app._routes["/direct"] = text_of("direct")
    assert app.dispatch(make_request("/direct/x")).content == "direct"
    del app._routes["/direct"]
    assert app.dispatch(make_request("/direct/x")).content == "root"


def test_route_decorator(app):
    @app.route("/d")
    def handler(request):
        return Response(200, {}, request.url)
    assert app.dispatch(make_request("/d")).content == "/d" and handler(make_request()).content == "/"
    assert app.dispatch(make_request("/d/e")).status_code == 404  # a rule, unlike set_route, is not a prefix


def test_prefix_router_directly():
    router = PrefixRouter()
    assert router.match("/anything") is None
    router.add("/a", 1)
    router.add("/a/b", 2)
    assert (router.match("/a/b/c"), router.match("/a/c"), router.match("/b")) == (2, 1, None)
    router.remove("/a/b")
    assert router.match("/a/b/c") == 1 and router.routes == {"/a": 1}


@pytest.mark.parametrize("code", sorted(STATUS_DESCRIPTIONS))
def test_default_error_handlers(code):
    response = DefaultErrorHandler(code)(make_request(), None)
    assert response.status_code == code
    assert response.content == f"{code} {STATUS_DESCRIPTIONS[code]} (No further information.)"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert DefaultErrorHandler(code)(make_request(), "why").content.endswith("(why)")


def test_tuple_return_calls_error_handler(app):
    app.set_route("/", lambda request: (403, "Members only."))
    response = app.dispatch(make_request())
    assert (response.status_code, response.content) == (403, "403 Forbidden (Members only.)")


def test_custom_error_handler_gets_request_and_message(app):
    seen = []

    def teapot(request, message=None):
        seen.append((request.url, message))
        return Response(418, {"X-Pot": "1"}, "short and stout")
    app.set_errorhandler(418, teapot)
    app.set_route("/", lambda request: (418, "brew"))
    response = app.dispatch(make_request("/tea"))
    assert (response.status_code, response.content, seen) == (418, "short and stout", [("/tea", "brew")])
    app.remove_errorhandler(418)
    assert app.dispatch(make_request("/tea")).content == "418 I'm a teapot (brew)"


def test_custom_404(app):
    app.set_errorhandler(404, lambda request, message=None: Response(404, {}, f"no {request.url}"))
    assert app.dispatch(make_request("/missing")).content == "no /missing"


def test_handler_for_code_outside_table(app):
    app.set_errorhandler(599, lambda request, message=None: Response(599, {}, message))
    app.set_route("/", lambda request: (599, "custom"))
    assert app.dispatch(make_request()).content == "custom"
    app.remove_errorhandler(599)
    assert 599 not in app._error_routes and app.dispatch(make_request()).status_code == 500


@pytest.mark.parametrize("handler, exception_name", [
    (lambda request: 1 / 0, "ZeroDivisionError"),
    (lambda request: {}["missing"], "KeyError"),
    (lambda request: None, "TypeError"),
    (lambda request: "a string", "TypeError"),
    (lambda request: Response(200, [("A", "b")], ""), "TypeError"),
    (lambda request: Response("200", {}, ""), "ValueError"),
    (lambda request: (777, "no handler for this"), "LookupError"),
    (lambda request: (404,), "ValueError"),
])
def test_failures_become_500_naming_the_exception(app, caplog, handler, exception_name):
    app.set_route("/", handler)
    with caplog.at_level(logging.ERROR, logger="outside"):
        response = app.dispatch(make_request("/boom"))
    assert response.status_code == 500
    assert response.content.startswith("500 Internal Server Error (") and exception_name in response.content
    record = next(r for r in caplog.records if r.name == "outside")
    assert record.exc_info is not None and record.exc_info[0].__name__ == exception_name


def test_failing_500_handler_falls_back_to_default(app, caplog):
    app.set_errorhandler(500, lambda request, message=None: 1 / 0)
    app.set_route("/", lambda request: [][1])
    with caplog.at_level(logging.ERROR, logger="outside"):
        response = app.dispatch(make_request())
    assert response.status_code == 500 and "IndexError" in response.content
    assert len([r for r in caplog.records if r.exc_info]) == 2


def test_failing_error_handler_becomes_500(app):
    app.set_errorhandler(404, lambda request, message=None: None)
    response = app.dispatch(make_request("/nothing"))
    assert response.status_code == 500 and "TypeError" in response.content


def test_scheduled_response_semantics():
    routes = {code: DefaultErrorHandler(code) for code in STATUS_DESCRIPTIONS}
    request = make_request("/s")
    ok = ScheduledResponse(request, lambda r: Response(200, {}, r.url), routes).run()
    assert ok.content == "/s"
    assert ScheduledResponse(request, lambda r: (401, "who?"), routes).run().content == "401 Unauthorized (who?)"
    failed = ScheduledResponse(request, lambda r: int("x"), routes).run()
    assert failed.status_code == 500 and "ValueError" in failed.content
    assert failed.content != str(ValueError)  # the message names the class, not the exception text
    assert "invalid literal" not in failed.content


def test_handler_exception_text_is_not_leaked(app):
    def leak(request):
        raise RuntimeError("password=hunter2")
    app.set_route("/", leak)
    assert "hunter2" not in app.dispatch(make_request()).content


def test_pre_send_may_change_or_replace(app):
    app.set_route("/", text_of("body"))
    app.config["pre_send"] = lambda response: response.headers.update({"X-Seen": "1"})
    assert app.dispatch(make_request()).headers == {"X-Seen": "1"}
    app.config["pre_send"] = lambda response: Response(202, {}, "replaced")
    assert app.dispatch(make_request()).content == "replaced"
    assert app.dispatch(make_request()).status_code == 202
    assert app.error_response(400, None, "bad").content == "replaced"


def test_pre_send_failure_is_500(app):
    app.set_route("/", text_of("body"))
    app.config["pre_send"] = lambda response: 1 / 0
    response = app.dispatch(make_request())
    assert response.status_code == 500 and "ZeroDivisionError" in response.content


@pytest.mark.parametrize("status", [400, 413, 414, 431, 501, 505])
def test_error_response_without_request(app, status):
    response = app.error_response(status, None, "from the parser")
    assert response.status_code == status and response.content.endswith("(from the parser)")


def test_error_response_handler_sees_blank_request(app):
    app.set_errorhandler(431, lambda request, message=None: Response(431, {}, f"{request.method} {request.url}"))
    assert app.error_response(431, None).content == "GET /"
    assert app.error_response(431, make_request("/x", method="POST")).content == "POST /x"


def test_error_response_for_status_without_handler(app):
    response = app.error_response(599, None)
    assert response.status_code == 599 and response.content == "599 Unknown (No further information.)"


def test_terminate_before_run(app):
    app.terminate()
    assert app._terminate_process is True


def test_websocket_route():
    websocket = pytest.importorskip("outside.websocket")
    if not hasattr(websocket, "WebSocket"):
        pytest.skip("outside.websocket.WebSocket not available yet")
    app = OutsideHTTP(("127.0.0.1", 0))
    target = websocket.WebSocket()
    app.set_route("/ws", target)
    upgrade = make_request("/ws", headers=[("Connection", "Upgrade"), ("Upgrade", "websocket")], upgrade=True)
    assert app.dispatch(upgrade) is target
    plain = app.dispatch(make_request("/ws"))
    assert plain.status_code == 400 and "WebSocket" in plain.content


@pytest.mark.parametrize("destination, target, location", [
    ("https://example.com/", "/", "https://example.com/"),
    ("https://example.com/", "/a/b", "https://example.com/a/b"),
    ("https://example.com/", "/a?b=1&c", "https://example.com/a?b=1&c"),
    ("https://example.com/", "/caf%C3%A9", "https://example.com/caf%C3%A9"),
    ("https://example.com/", "http://example.com/x?y", "https://example.com/x?y"),
    ("https://example.com/", "*", "https://example.com/"),
    ("https://example.com", "/a", "https://example.com/a"),
    ("https://example.com", "/@evil.com/", "https://example.com/@evil.com/"),  # no open redirect
    ("https://example.com/app/", "/x", "https://example.com/app/x"),
    ("https://example.com/app", "/x", "https://example.com/appx"),  # as 1.5.x: a path is kept as given
])
def test_redirect(destination, target, location):
    redirect = OutsideHTTP_Redirect(("127.0.0.1", 0), destination)
    request = make_request(target)
    response = redirect.dispatch(request)
    assert (response.status_code, response.headers) == (301, {"Location": location})
    rendered = render(response, request, True, redirect.config)
    assert f"Location: {location}\r\n".encode() in rendered.head
    assert rendered.head.startswith(b"HTTP/1.1 301 Moved Permanently\r\n")


def test_redirect_error_handlers_and_terminate():
    redirect = OutsideHTTP_Redirect(("127.0.0.1", 0), "https://example.com/")
    assert redirect.error_response(400, None).status_code == 400
    redirect.terminate()
    assert redirect._terminate_process is True


def quiet_app():
    app = OutsideHTTP(("127.0.0.1", 0))
    app.config["workers"] = 1
    app.set_route("/", text_of("hi"))
    return app


def test_run_stops_on_sigterm_and_restores_handlers():
    app = quiet_app()
    before = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        app.run()  # blocks until the signal's terminate()
    finally:
        timer.cancel()
    assert app._terminate_process is True
    assert signal.getsignal(signal.SIGTERM) is before


def test_terminate_from_another_thread():
    app = quiet_app()
    before = signal.getsignal(signal.SIGINT)
    runner = threading.Thread(target=app.run)
    runner.start()
    deadline = time.monotonic() + 10
    while app._server is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    app.terminate()
    runner.join(10)
    assert not runner.is_alive() and app._terminate_process is True
    assert signal.getsignal(signal.SIGINT) is before  # not installed off the main thread
