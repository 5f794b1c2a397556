"""Flask-style rules: converters, methods (405, HEAD, OPTIONS), ordering, url_for,
WebSocket rules, error handlers and the errors raised at registration."""
from __future__ import annotations

import uuid

import pytest
import requests
import websocket as websocket_client

from outside import OutsideHTTP, Response
from outside.routing import HandlerSignatureError, check_handler
from outside.rules import BuildError, RouteConflictError, Rule, RuleError

from servers import start_app, start_server


@pytest.fixture
def app():
    return OutsideHTTP(("127.0.0.1", 0))


def echo_values(request, **values):
    return Response(200, {}, {name: repr(value) for name, value in values.items()})


@pytest.mark.parametrize("rule, path, expected", [
    ("/users/<user_id>", "/users/ada", {"user_id": "'ada'"}),
    ("/users/<str:user_id>", "/users/caf%C3%A9", {"user_id": "'café'"}),
    ("/users/<int:user_id>", "/users/42", {"user_id": "42"}),
    ("/price/<float:amount>", "/price/3.25", {"amount": "3.25"}),
    ("/files/<path:name>", "/files/a/b/c.txt", {"name": "'a/b/c.txt'"}),
    ("/items/<uuid:item>", "/items/12345678-1234-5678-1234-567812345678",
     {"item": "UUID('12345678-1234-5678-1234-567812345678')"}),
    ("/<int:year>/<int:month>/<slug>", "/2024/05/hello", {"year": "2024", "month": "5", "slug": "'hello'"}),
])
def test_converters_give_typed_values(app, rule, path, expected):
    app.add_url_rule(rule, echo_values)
    response = app.test_client().get(path)
    assert response.status_code == 200 and response.json() == expected


@pytest.mark.parametrize("rule, path", [
    ("/users/<user_id>", "/users/a/b"),       # str stops at a slash
    ("/users/<user_id>", "/users/"),          # and is never empty
    ("/users/<int:user_id>", "/users/4x"),
    ("/users/<int:user_id>", "/users/-4"),
    ("/users/<int:user_id>", "/users/٤"),     # Arabic-Indic digit: ASCII only
    ("/price/<float:amount>", "/price/3"),    # Werkzeug's float needs the dot
    ("/items/<uuid:item>", "/items/not-a-uuid"),
    ("/files/<path:name>", "/files/"),
    ("/exact", "/exact/more"),                # a rule is not a prefix
])
def test_values_that_do_not_fit_are_404(app, rule, path):
    app.add_url_rule(rule, echo_values)
    assert app.test_client().get(path).status_code == 404


def test_static_beats_typed_beats_str_beats_path(app):
    for rule, name in [("/u/<path:rest>", "path"), ("/u/<name>", "str"), ("/u/<int:n>", "int"), ("/u/new", "static")]:
        app.add_url_rule(rule, lambda request, _name=name, **values: Response(200, {}, _name), endpoint=name)
    client = app.test_client()
    paths = ("/u/new", "/u/7", "/u/bob", "/u/a/b")
    assert [client.get(path).text for path in paths] == ["static", "int", "str", "path"]


def test_path_followed_by_static(app):
    app.add_url_rule("/files/<path:name>", lambda request, name: Response(200, {}, "view " + name), endpoint="view")
    app.add_url_rule("/files/<path:name>/edit", lambda request, name: Response(200, {}, "edit " + name),
                     endpoint="edit")
    client = app.test_client()
    assert client.get("/files/a/b/edit").text == "edit a/b" and client.get("/files/a/b").text == "view a/b"


def test_methods_405_with_allow_head_and_options(app):
    @app.route("/items/<int:item_id>", methods=["GET", "post"])
    def item(request, item_id):
        return Response(200, {"X-Method": request.method}, f"item {item_id}")

    @app.route("/items/<int:item_id>", methods=["DELETE"])
    def delete_item(request, item_id):
        return Response(204, {}, b"")

    client = app.test_client()
    assert client.get("/items/1").text == "item 1"
    assert client.post("/items/1").headers["X-Method"] == "POST"
    assert client.delete("/items/1").status_code == 204
    head = client.head("/items/1")
    assert (head.status_code, head.content, head.headers["Content-Length"]) == (200, b"", "6")
    wrong = client.put("/items/1")
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "DELETE, GET, HEAD, OPTIONS, POST"
    assert wrong.text.startswith("405 Method Not Allowed")
    options = client.options("/items/1")
    assert (options.status_code, options.headers["Allow"], options.content) == \
        (200, "DELETE, GET, HEAD, OPTIONS, POST", b"")


def test_custom_405_handler_keeps_allow(app):
    app.add_url_rule("/only-post", lambda request: Response(200, {}, "ok"), methods=["POST"], endpoint="only")

    @app.errorhandler(405)
    def not_allowed(request, message=None):
        return Response(405, {}, {"error": message})

    response = app.test_client().get("/only-post")
    assert response.headers["Allow"] == "OPTIONS, POST" and "POST" in response.json()["error"]


def test_trailing_slash_redirect_keeps_query(app):
    app.add_url_rule("/docs/", lambda request: Response(200, {}, "docs"), endpoint="docs")
    response = app.test_client().get("/docs?page=2")
    assert (response.status_code, response.headers["Location"]) == (308, "/docs/?page=2")
    assert app.test_client().get("/docs/").text == "docs"


def test_rules_before_prefix_routes_which_keep_their_semantics(app):
    app.set_route("/", lambda request: Response(200, {}, "prefix " + request.url))
    app.add_url_rule("/api/<int:n>", lambda request, n: Response(200, {}, f"rule {n}"), endpoint="api")
    client = app.test_client()
    assert client.get("/api/3").text == "rule 3"
    assert client.get("/api/x").text == "prefix /api/x"     # no rule matches: the prefix route
    assert client.post("/api/3").status_code == 405          # the path is a rule's: its methods apply


def test_view_args_on_the_request(app):
    app.add_url_rule("/v/<int:n>", lambda request, n: Response(200, {}, dict(request.view_args)), endpoint="v")
    assert app.test_client().get("/v/9").json() == {"n": 9}


def test_url_for(app):
    app.add_url_rule("/users/<int:user_id>", echo_values, endpoint="user")
    app.add_url_rule("/files/<path:name>", echo_values, endpoint="file")
    app.add_url_rule("/tags/<tag>", echo_values, endpoint="tag")
    app.add_url_rule("/items/<uuid:item>", echo_values, endpoint="item")
    item = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert app.url_for("user", user_id=7) == "/users/7"
    assert app.url_for("user", user_id=7, tab="a b", page=[1, 2]) == "/users/7?tab=a+b&page=1&page=2"
    assert app.url_for("file", name="dir/my file.txt") == "/files/dir/my%20file.txt"
    assert app.url_for("tag", tag="café") == "/tags/caf%C3%A9"
    assert app.url_for("item", item=item) == f"/items/{item}"
    client = app.test_client()
    assert client.get(app.url_for("tag", tag="café")).json() == {"tag": "'café'"}  # round trip


@pytest.mark.parametrize("endpoint, values, fragment", [
    ("nobody", {}, "no route has the endpoint 'nobody'"),
    ("user", {}, "needs user_id"),
    ("user", {"user_id": "seven"}, "fit its converter"),
    ("user", {"user_id": -1}, "fit its converter"),
    ("tag", {"tag": "a/b"}, "fit its converter"),
])
def test_url_for_errors_say_what_is_wrong(app, endpoint, values, fragment):
    app.add_url_rule("/users/<int:user_id>", echo_values, endpoint="user")
    app.add_url_rule("/tags/<tag>", echo_values, endpoint="tag")
    with pytest.raises(BuildError, match=fragment):
        app.url_for(endpoint, **values)


def test_same_rule_and_method_twice_is_an_error(app):
    app.add_url_rule("/a/<int:x>", echo_values, endpoint="first")
    with pytest.raises(RouteConflictError, match=r"GET /a/<int:y> is already served by 'first'"):
        app.add_url_rule("/a/<int:y>", echo_values, endpoint="second")
    app.add_url_rule("/a/<int:y>", echo_values, methods=["POST"], endpoint="second")  # other method: fine
    app.add_url_rule("/a/<y>", echo_values, endpoint="third")  # other converter: another rule


def test_endpoint_name_taken_by_another_function(app):
    @app.route("/one")
    def page(request):
        return Response(200, {}, "1")
    with pytest.raises(RouteConflictError, match="endpoint='another_name'"):
        @app.route("/two")
        def page(request):  # noqa: F811 - the mistake under test
            return Response(200, {}, "2")
    app.add_url_rule("/one-again", echo_values, endpoint="echo")
    app.add_url_rule("/echo-again", echo_values, endpoint="echo")  # the same function: two URLs


@pytest.mark.parametrize("rule, fragment", [
    ("no-slash", "must be a string starting with '/'"),
    ("/a/<int:id", "unbalanced"),
    ("/a/<bogus:x>", "unknown converter 'bogus'"),
    ("/a/<1x>", "not a valid variable name"),
    ("/a/<x>/<int:x>", "twice"),
])
def test_malformed_rules(app, rule, fragment):
    with pytest.raises(RuleError, match=fragment):
        app.add_url_rule(rule, echo_values)


def test_methods_given_as_a_string(app):
    with pytest.raises(RuleError, match=r"methods=\['POST'\]"):
        app.add_url_rule("/a", echo_values, methods="POST")


@pytest.mark.parametrize("register, fragment", [
    (lambda app: app.add_url_rule("/u/<int:user_id>", lambda request: None, endpoint="e"),
     r"define it as: def <lambda>\(request, user_id\)"),
    (lambda app: app.route("/u/<int:user_id>")(lambda user_id: None), "cannot be called as"),
    (lambda app: app.set_route("/", lambda: None), r"def <lambda>\(request\)"),
    (lambda app: app.set_errorhandler(404, lambda request: None), r"def <lambda>\(request, message\)"),
    (lambda app: app.websocket("/ws/<room>")(lambda connection: None), r"\(connection, room\)"),
])
def test_wrong_handler_signature_is_reported_at_registration(app, register, fragment):
    with pytest.raises(HandlerSignatureError, match=fragment):
        register(app)


def test_signature_check_accepts_flexible_and_unreadable_callables():
    check_handler(lambda request, **values: None, "route handler", ["request"], ["a", "b"])
    check_handler(lambda *args, **kwargs: None, "route handler", ["request"], ["a"])
    check_handler(print, "route handler", ["request"])  # a built-in without a signature
    with pytest.raises(TypeError, match="must be callable"):
        check_handler("not a function", "route handler", ["request"])


def test_rule_object_directly():
    rule = Rule("/a/<int:x>/<path:rest>", ["get"], "e", None)
    assert rule.methods == {"GET"} and rule.variables == {"x": "int", "rest": "path"}
    assert rule.match("/a/1/b/c") == {"x": 1, "rest": "b/c"} and rule.match("/a/b/c") is None
    assert rule.build({"x": 1, "rest": "b c/d"}) == "/a/1/b%20c/d"
    assert rule.allows("HEAD") and not rule.allows("POST")


def test_rules_over_a_real_server():
    with start_app("rules") as server:
        assert requests.get(server.url + "/users/5", timeout=10).json() == \
            {"id": 5, "method": "GET", "link": "/users/6"}
        assert requests.post(server.url + "/users/5", timeout=10).json()["method"] == "POST"
        wrong = requests.delete(server.url + "/users/5", timeout=10)
        assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
        head = requests.head(server.url + "/users/5", timeout=10)
        assert head.status_code == 200 and int(head.headers["Content-Length"]) > 0
        assert requests.get(server.url + "/nowhere", timeout=10).text == "custom 404 for /nowhere"
        plain = requests.get(server.url + "/rooms/blue", timeout=10)
        assert plain.status_code == 400
        connection = websocket_client.create_connection(f"ws://127.0.0.1:{server.port}/rooms/blue", timeout=10)
        try:
            assert connection.recv() == b"joined blue"
            connection.send("hello")
            assert connection.recv() in (b"hello", "hello")
        finally:
            connection.close()


def test_event_driven_websocket_as_a_rule_target():
    with start_app("rule_chat") as server:
        assert requests.get(server.url + "/link", timeout=10).text == "/chat/red"
        assert requests.get(server.url + "/chat/red", timeout=10).status_code == 400
        connection = websocket_client.create_connection(f"ws://127.0.0.1:{server.port}/chat/red", timeout=10)
        try:
            connection.send("hello")
            assert connection.recv() == "red: hello"
        finally:
            connection.close()


def test_a_websocket_rule_target_needs_an_endpoint():
    from outside import WebSocket
    with pytest.raises(TypeError, match="endpoint"):
        OutsideHTTP(("127.0.0.1", 0)).add_url_rule("/ws/<room>", WebSocket())


def test_example_flask_style():
    source = "import runpy, sys; sys.argv = ['flask_style.py', '0']; " \
             "runpy.run_path('examples/flask_style.py', run_name='__main__')"
    with start_server(source) as server:
        assert requests.get(server.url + "/notes", timeout=10).json() == {"notes": []}
        created = requests.post(server.url + "/notes", json={"text": "buy milk"}, timeout=10)
        assert created.status_code == 201 and created.headers["Location"] == "/notes/1"
        assert requests.get(server.url + "/notes/1", timeout=10).json() == {"id": 1, "text": "buy milk"}
        assert requests.put(server.url + "/notes/1", timeout=10).headers["Allow"] == "DELETE, GET, HEAD, OPTIONS"
        assert requests.post(server.url + "/notes", json={}, timeout=10).status_code == 400
        assert requests.delete(server.url + "/notes/1", timeout=10).status_code == 204
        assert requests.get(server.url + "/notes/1", timeout=10).json() == {"error": "There is no note 1."}
        connection = websocket_client.create_connection(f"ws://127.0.0.1:{server.port}/echo/ada", timeout=10)
        try:
            assert b"Hello ada" in connection.recv()
            connection.send_binary(b"ping")
            assert connection.recv() == b"ping"
        finally:
            connection.close()


def test_static_rule_for_other_methods_leaves_the_path_to_variable_rules(app):
    # A static rule is answered by one lookup; when it does not serve the method, the
    # other rules still get the path (and 405/Allow still lists every method).
    app.add_url_rule("/users/new", lambda request: Response(200, {}, "create"), methods=["POST"],
                     endpoint="create")
    app.add_url_rule("/users/<name>", lambda request, name: Response(200, {}, f"user {name}"),
                     endpoint="user")
    client = app.test_client()
    assert client.post("/users/new").text == "create"
    assert client.get("/users/new").text == "user new"
    response = client.delete("/users/new")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
