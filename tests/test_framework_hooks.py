"""Request hooks, exception error handlers and blueprints."""
from __future__ import annotations

import pytest
import requests

from outside import (
    Blueprint,
    BuildError,
    HandlerSignatureError,
    OutsideHTTP,
    Response,
    RouteConflictError,
    abort,
)

from framework_support import load_app
from servers import start_app


def make_app():
    app = OutsideHTTP(("127.0.0.1", 0))
    events = []
    app.events = events
    return app, events


def test_hooks_run_in_order_around_the_handler():
    app, events = make_app()
    app.before_request(lambda request: events.append("before 1"))
    app.before_request(lambda request: events.append("before 2"))

    @app.after_request
    def first(request, response):
        events.append("after 1")
        response.headers["X-First"] = "1"
        return response

    @app.after_request
    def second(request, response):
        events.append("after 2")
        return Response(201, {"X-Replaced": "yes"}, response.content + " (replaced)")

    app.teardown_request(lambda request, exc: events.append(f"teardown 1 {exc!r}"))
    app.teardown_request(lambda request, exc: events.append(f"teardown 2 {exc!r}"))
    app.route("/")(lambda request: events.append("handler") or Response(200, {}, "body"))
    response = app.test_client().get("/")
    assert events == ["before 1", "before 2", "handler", "after 2", "after 1",
                      "teardown 2 None", "teardown 1 None"]
    assert response.status_code == 201 and response.text == "body (replaced)"
    assert response.headers["X-Replaced"] == "yes" and response.headers["X-First"] == "1"


def test_before_request_can_answer_early():
    app, events = make_app()
    app.before_request(lambda request: Response(401, {}, "log in") if request.url != "/open" else None)
    app.before_request(lambda request: events.append("second before"))
    app.after_request(lambda request, response: events.append("after") or response)

    @app.route("/private")
    def private(request):
        events.append("handler")
        return Response(200, {}, "secret")

    app.route("/open")(lambda request: Response(200, {}, "open"))
    client = app.test_client()
    response = client.get("/private")
    assert (response.status_code, response.text) == (401, "log in")
    assert events == ["after"]  # neither the second hook nor the handler ran
    assert client.get("/open").text == "open"
    # a (status, message) tuple from a hook goes to the error handler
    app.before_request(lambda request: (429, "slow down") if request.url == "/open" else None)
    response = client.get("/open")
    assert response.status_code == 429 and "slow down" in response.text


def test_hooks_also_run_for_404_and_prefix_routes():
    app, events = make_app()
    app.before_request(lambda request: events.append(f"before {request.url}"))
    app.after_request(lambda request, response: events.append(f"after {response.status_code}") or response)
    app.set_route("/legacy", lambda request: Response(200, {}, "old"))
    client = app.test_client()
    assert client.get("/nowhere").status_code == 404
    assert client.get("/legacy/x").text == "old"
    assert events == ["before /nowhere", "after 404", "before /legacy/x", "after 200"]


def test_teardown_gets_the_unhandled_exception_and_always_runs(caplog):
    app, events = make_app()

    @app.teardown_request
    def teardown(request, exc):
        events.append(type(exc).__name__ if exc else None)
        raise RuntimeError("teardown failure is logged, not sent")

    @app.route("/boom")
    def boom(request):
        raise ZeroDivisionError("boom")

    app.route("/abort", endpoint="abort")(lambda request: abort(403))
    app.route("/fine", endpoint="fine")(lambda request: Response(200, {}, "fine"))
    app.errorhandler(LookupError)(lambda request, exc: Response(400, {}, "lookup"))
    app.route("/handled", endpoint="handled")(lambda request: {}["missing"])
    client = app.test_client()
    assert client.get("/boom").status_code == 500
    assert client.get("/abort").status_code == 403
    assert client.get("/fine").status_code == 200
    assert client.get("/handled").text == "lookup"
    assert events == ["ZeroDivisionError", None, None, None]
    assert "teardown failure is logged" in caplog.text


def test_after_request_that_fails_or_returns_nothing_gives_500(caplog):
    app, events = make_app()
    app.after_request(lambda request, response: None)
    app.teardown_request(lambda request, exc: events.append(type(exc).__name__))
    app.route("/")(lambda request: Response(200, {}, "x"))
    response = app.test_client().get("/")
    assert response.status_code == 500 and events == ["TypeError"]
    assert "returned NoneType, not the Response" in caplog.text


def test_exception_handlers_pick_the_most_specific_class():
    class Base(Exception):
        pass

    class Middle(Base):
        pass

    class Leaf(Middle):
        pass

    app, _ = make_app()
    # registered most specific first, so the registration order can not be what decides
    app.errorhandler(Middle)(lambda request, exc: Response(410, {}, f"middle {exc}"))
    app.errorhandler(Base)(lambda request, exc: Response(409, {}, f"base {exc}"))
    app.errorhandler(Exception)(lambda request, exc: Response(503, {}, f"any {type(exc).__name__}"))
    for name, cls in (("base", Base), ("middle", Middle), ("leaf", Leaf), ("other", ValueError)):
        app.add_url_rule(f"/{name}", lambda request, cls=cls: (_ for _ in ()).throw(cls("x")), endpoint=name)
    client = app.test_client()
    assert [(client.get(f"/{name}").status_code, client.get(f"/{name}").text)
            for name in ("base", "middle", "leaf", "other")] == [
        (409, "base x"), (410, "middle x"), (410, "middle x"), (503, "any ValueError")]


def test_status_and_exception_handlers_side_by_side():
    app, _ = make_app()
    app.errorhandler(404)(lambda request, message=None: Response(404, {}, f"custom {message}"))
    app.register_error_handler(KeyError, lambda request, exc: Response(400, {}, f"key {exc}"))
    app.route("/a", endpoint="a")(lambda request: abort(404, "gone"))
    app.route("/b", endpoint="b")(lambda request: {}["k"])
    app.route("/c", endpoint="c")(lambda request: (404, "tuple"))
    client = app.test_client()
    assert client.get("/a").text == "custom gone"
    assert client.get("/b").text == "key 'k'"
    assert client.get("/c").text == "custom tuple"
    assert client.get("/none").text == "custom None"


def test_an_exception_handler_that_fails_gives_the_500_page():
    app, events = make_app()
    app.errorhandler(KeyError)(lambda request, exc: 1 / 0)
    app.teardown_request(lambda request, exc: events.append(type(exc).__name__))
    app.route("/")(lambda request: {}["k"])
    response = app.test_client().get("/")
    assert response.status_code == 500 and "ZeroDivisionError" in response.text and events == ["KeyError"]


def test_registration_errors():
    app, _ = make_app()
    with pytest.raises(TypeError, match="status code or an Exception subclass"):
        app.errorhandler("404")(lambda request, exc: None)
    with pytest.raises(HandlerSignatureError):
        app.before_request(lambda: None)
    with pytest.raises(HandlerSignatureError):
        app.after_request(lambda request: None)
    with pytest.raises(HandlerSignatureError):
        app.errorhandler(KeyError)(lambda: None)
    with pytest.raises(ValueError, match="error status"):
        abort(200)
    with pytest.raises(ValueError):
        Blueprint("a.b")


# --- blueprints ------------------------------------------------------------------------

@pytest.fixture
def client():
    return load_app().test_client()


def test_blueprint_routes_prefixes_and_endpoints(client):
    assert client.get("/api/v1/status").json() == {"ok": True, "url": "/api/v1/status"}
    client.post("/login", data=b"root")
    assert client.get("/admin/users/ada").json() == {"user": "ada", "self": "/admin/users/ada"}
    app = client.app
    assert app.url_for("admin.user", name="a b") == "/admin/users/a%20b"
    assert app.url_for("admin.dashboard") == "/admin/"
    assert app.url_for("api.status", verbose=1) == "/api/v1/status?verbose=1"
    with pytest.raises(BuildError):
        app.url_for("user", name="x")  # the blueprint's endpoint is only "admin.user"


def test_blueprint_hooks_run_only_for_its_routes(client):
    client.post("/events/clear")
    client.get("/api/v1/status")
    response = client.get("/admin/")  # not logged in: the blueprint's hook redirects
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert response.headers["X-Admin-After"] == "yes" and response.headers["X-App-After"] == "yes"
    assert "X-Admin-After" not in client.get("/api/v1/status").headers
    events = client.get("/events").json()["events"]
    assert events[:-1] == [
        "app.after 200", "app.teardown None",  # the end of /events/clear
        "app.before /api/v1/status", "app.after 200", "app.teardown None",
        "app.before /admin/", "admin.before /admin/", "admin.after 303", "app.after 303",
        "admin.teardown None", "app.teardown None",
        "app.before /api/v1/status", "app.after 200", "app.teardown None"]


def test_blueprint_error_handlers_come_first_for_its_routes(client):
    client.post("/login", data=b"root")
    assert (client.get("/fail/payment").status_code, client.get("/fail/app").status_code) == (402, 409)
    assert client.get("/admin/fail/payment").text == "admin error handler: PaymentError"
    assert client.get("/admin/fail/app").text == "admin error handler: AppError"
    assert client.get("/admin/fail/other").text == "admin 404: no such admin page"
    assert client.get("/admin/no-such-route").text == "custom 404: /admin/no-such-route"


def test_blueprint_registration_rules():
    bp = Blueprint("shop", url_prefix="/shop")
    bp.route("/")(lambda request: Response(200, {}, "shop"))
    app, _ = make_app()
    app.register_blueprint(bp)
    bp.route("/late", endpoint="late")(lambda request: Response(200, {}, request.url_for(".late")))
    client = app.test_client()
    assert client.get("/shop/").text == "shop"
    assert client.get("/shop").status_code == 308  # the trailing-slash redirect of rules
    assert client.get("/shop/late").text == "/shop/late"
    with pytest.raises(ValueError, match="already registered"):
        app.register_blueprint(bp)
    with pytest.raises(ValueError, match="another blueprint"):
        app.register_blueprint(Blueprint("shop"))
    other, _ = make_app()
    other.register_blueprint(bp, url_prefix="/store")
    assert other.test_client().get("/store/late").text == "/store/late"
    with pytest.raises(RouteConflictError):  # a blueprint's rules conflict like the app's
        app.add_url_rule("/shop/", lambda request: None, endpoint="clash")


def test_blueprints_on_a_real_server():
    import websocket  # websocket-client

    with start_app("blueprint_chat") as server:
        response = requests.get(server.url + "/chat/", headers={"Host": "chat.example:8080"}, timeout=10)
        assert response.text == "http://chat.example:8080/chat/main"
        connection = websocket.create_connection(f"ws://127.0.0.1:{server.port}/chat/main", timeout=10)
        try:
            connection.send("hello")
            assert connection.recv() == "main: hello"
        finally:
            connection.close()


def test_hooks_order_on_a_real_server():
    with start_app("framework") as server, requests.Session() as browser:
        assert browser.post(server.url + "/events/clear", timeout=10).text == "cleared"
        assert browser.get(server.url + "/blocked", timeout=10).status_code == 403
        assert browser.get(server.url + "/fail/key", timeout=10).status_code == 500
        browser.post(server.url + "/login", data=b"root", timeout=10)
        assert browser.get(server.url + "/admin/fail/app", timeout=10).status_code == 418
        events = browser.get(server.url + "/events", timeout=10).json()["events"]
    assert events[:-1] == [
        "app.after 200", "app.teardown None",
        "app.before /blocked", "app.after 403", "app.teardown None",
        "app.before /fail/key", "app.after 500", "app.teardown KeyError",
        "app.before /login", "app.after 303", "app.teardown None",
        "app.before /", "app.after 200", "app.teardown None",  # requests follows the redirect
        "app.before /admin/fail/app", "admin.before /admin/fail/app", "admin.after 418", "app.after 418",
        "admin.teardown None", "app.teardown None"]
