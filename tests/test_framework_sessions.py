"""Signed-cookie sessions and flashed messages: in-process (TestClient) and on a real server."""
from __future__ import annotations

import logging
import time

import pytest
import requests

from outside import OutsideHTTP, Response, flash, get_flashed_messages

from framework_support import (
    load_app,
    make_certificates,
    read_session_cookie,
    session_cookie,
    set_cookie_lines,
)
from servers import start_app

ATTRIBUTES = "; Max-Age=2678400; HttpOnly; Path=/; SameSite=Lax"


@pytest.fixture
def client():
    return load_app().test_client()


def cookie_value(line: str) -> str:
    assert line.startswith("session=")
    return line[len("session="):].split(";")[0]


def test_login_sets_a_signed_cookie_read_back_on_the_next_request(client):
    response = client.post("/login", data=b"ada")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    [line] = set_cookie_lines(response.header_list)
    assert line.endswith(ATTRIBUTES) and "Secure" not in line
    assert read_session_cookie(cookie_value(line)) == {
        "_flashes": [["message", "Welcome, ada!"], ["warning", "Mind the <gap>"]], "user": "ada"}
    assert response.headers["Vary"] == "Cookie"
    assert client.get("/whoami").json() == {"user": "ada"}


def test_a_cookie_made_by_the_documented_format_is_accepted(client):
    headers = {"Cookie": "session=" + session_cookie({"user": "eve"})}
    assert client.get("/whoami", headers=headers).json() == {"user": "eve"}


@pytest.mark.parametrize("part", [0, 1, 2])
def test_a_flipped_byte_anywhere_gives_an_empty_session(client, part):
    value = session_cookie({"user": "eve"})
    pieces = value.split(".")
    piece = pieces[part]
    index = len(piece) // 2
    pieces[part] = piece[:index] + ("A" if piece[index] != "A" else "B") + piece[index + 1:]
    if part == 1:  # the timestamp stays digits
        pieces[1] = str(int(value.split(".")[1]) - 1)
    response = client.get("/whoami", headers={"Cookie": "session=" + ".".join(pieces)})
    assert response.status_code == 200 and response.json() == {"user": None}


@pytest.mark.parametrize("value", ["", "garbage", "a.b.c", "...", "a.b", "e30.notdigits.xx", "e30.1.!!!!",
                                   "W10." + "9" * 30 + ".AAAA", "é.1.é", "x" * 3000])
def test_garbage_cookies_give_an_empty_session_never_an_error(client, value):
    response = client.get("/whoami", headers={"Cookie": "session=" + value})
    assert response.status_code == 200 and response.json() == {"user": None}


def test_a_signed_payload_that_is_not_an_object_gives_an_empty_session(client):
    for payload in ([1, 2], "text", 5):
        cookie = session_cookie(payload)
        assert client.get("/whoami", headers={"Cookie": "session=" + cookie}).json() == {"user": None}


def test_expired_cookies_are_refused():
    client = load_app(APP_SESSION_MAX_AGE="5").test_client()
    old = session_cookie({"user": "eve"}, timestamp=time.time() - 10)
    recent = session_cookie({"user": "eve"}, timestamp=time.time() - 1)
    assert client.get("/whoami", headers={"Cookie": "session=" + old}).json() == {"user": None}
    assert client.get("/whoami", headers={"Cookie": "session=" + recent}).json() == {"user": "eve"}


def test_rotation_accepts_fallback_keys_and_signs_with_the_current_one():
    client = load_app(APP_SECRET_KEY="new-key", APP_FALLBACK_KEYS="old-key,older-key").test_client()
    for key in ("old-key", "older-key", "new-key"):
        headers = {"Cookie": "session=" + session_cookie({"user": key}, secret=key)}
        assert client.get("/whoami", headers=headers).json() == {"user": key}
    forged = {"Cookie": "session=" + session_cookie({"user": "x"}, secret="unknown-key")}
    assert client.get("/whoami", headers=forged).json() == {"user": None}
    response = client.get("/count", headers={"Cookie": "session=" + session_cookie({"count": 4}, secret="old-key")})
    assert response.json() == {"count": 5}
    [line] = set_cookie_lines(response.header_list)
    assert read_session_cookie(cookie_value(line), secret="new-key") == {"count": 5}


def test_no_set_cookie_when_the_session_is_unchanged(client):
    client.post("/login", data=b"ada")
    client.get("/messages")  # takes the flashes out: a change
    for path in ("/whoami", "/read-only", "/"):
        response = client.get(path)
        assert response.status_code == 200 and set_cookie_lines(response.header_list) == []
        assert response.headers["Vary"] == "Cookie"
    response = client.get("/nosession")
    assert set_cookie_lines(response.header_list) == [] and "Vary" not in response.headers


def test_clearing_the_session_sends_a_deleting_cookie(client):
    client.post("/login", data=b"ada")
    response = client.post("/logout")
    assert set_cookie_lines(response.header_list) == ["session=; Max-Age=0; HttpOnly; Path=/; SameSite=Lax"]
    assert client.get("/whoami").json() == {"user": None}
    # an empty session that stays empty sends nothing
    assert set_cookie_lines(client.post("/logout").header_list) == []


def test_changes_inside_nested_values_are_saved():
    app = OutsideHTTP(("127.0.0.1", 0))
    app.config["secret_key"] = "current-key"

    @app.route("/add/<item>")
    def add(request, item):
        request.session.setdefault("cart", []).append(item)
        return Response(200, {}, {"cart": request.session["cart"]})

    client = app.test_client()
    client.get("/add/apple")
    response = client.get("/add/pear")
    assert response.json() == {"cart": ["apple", "pear"]}
    [line] = set_cookie_lines(response.header_list)
    assert read_session_cookie(cookie_value(line)) == {"cart": ["apple", "pear"]}


def test_secure_over_https_and_behind_a_trusted_proxy():
    app = load_app()
    for client, headers in ((app.test_client(scheme="https"), {}),
                            (app.test_client(), {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.1"})):
        [line] = set_cookie_lines(client.post("/login", data=b"ada", headers=headers).header_list)
        assert line.endswith("; Max-Age=2678400; HttpOnly; Secure; Path=/; SameSite=Lax")
    untrusted = app.test_client(address=("192.0.2.9", 4000))
    [line] = set_cookie_lines(untrusted.post("/login", data=b"ada", headers={"X-Forwarded-Proto": "https"}).header_list)
    assert "Secure" not in line


def test_a_session_without_secret_key_is_a_clear_error_and_lazy(caplog):
    app = OutsideHTTP(("127.0.0.1", 0))
    app.route("/uses")(lambda request: Response(200, {}, str(request.session)))
    app.route("/ignores", endpoint="ignores")(lambda request: Response(200, {}, "fine"))
    client = app.test_client()
    headers = {"Cookie": "session=garbage"}
    assert client.get("/ignores", headers=headers).text == "fine"  # nothing read before first use
    with caplog.at_level(logging.ERROR, logger="outside"):
        assert client.get("/uses", headers=headers).status_code == 500
    assert "config['secret_key']" in caplog.text and "RuntimeError" in caplog.text


def test_flashed_messages_are_read_once(client):
    client.post("/login", data=b"ada")
    assert client.get("/messages").json() == {
        "all": [["message", "Welcome, ada!"], ["warning", "Mind the <gap>"]],
        "warnings": ["Mind the <gap>"]}
    assert client.get("/messages").json() == {"all": [], "warnings": []}


def test_flash_helpers_on_their_own():
    app = OutsideHTTP(("127.0.0.1", 0))
    app.config["secret_key"] = "k"

    @app.route("/f")
    def f(request):
        flash(request, "a")
        flash(request, "b", "error")
        return Response(200, {}, {"plain": get_flashed_messages(request),
                                  "errors": get_flashed_messages(request, True, ["error"])})

    assert app.test_client().get("/f").json() == {"plain": ["a", "b"], "errors": [["error", "b"]]}


# --- on a real server ---------------------------------------------------------------

@pytest.fixture(scope="module")
def server():
    with start_app("framework") as running:
        yield running


def test_session_round_trip_on_a_real_server(server):
    with requests.Session() as browser:
        response = browser.post(server.url + "/login", data=b"ada", allow_redirects=False, timeout=10)
        assert response.status_code == 303 and response.headers["Location"] == "/"
        assert response.headers["Set-Cookie"].endswith(ATTRIBUTES)
        assert browser.get(server.url + "/whoami", timeout=10).json() == {"user": "ada"}
        unchanged = browser.get(server.url + "/read-only", timeout=10)
        assert "Set-Cookie" not in unchanged.headers and unchanged.json()["user"] == "ada"
        tampered = browser.cookies["session"].replace(".", ".1", 1)
        response = requests.get(server.url + "/whoami", cookies={"session": tampered}, timeout=10)
        assert response.status_code == 200 and response.json() == {"user": None}


def test_secure_cookie_over_tls(tmp_path):
    certificates = make_certificates(tmp_path)
    config = {"ssl_enabled": True, "ssl_keyfile": certificates["key"], "ssl_certfile": certificates["cert"]}
    with start_app("framework", config) as running:
        assert running.scheme == "https"
        response = requests.post(running.url + "/login", data=b"ada", allow_redirects=False,
                                 verify=certificates["ca"], timeout=10)
        assert response.headers["Set-Cookie"].endswith("; Max-Age=2678400; HttpOnly; Secure; Path=/; SameSite=Lax")
        assert read_session_cookie(response.cookies["session"])["user"] == "ada"


def test_cookie_name_and_vary_merging():
    app = OutsideHTTP(("127.0.0.1", 0))
    app.config.update(secret_key="current-key", session_cookie_name="sid")

    @app.route("/set")
    def set_value(request):
        request.session["v"] = 1
        return Response(200, {"vary": "Accept-Encoding"}, "set")

    @app.route("/get")
    def get_value(request):
        return Response(200, {"Vary": "*"}, {"v": request.session.get("v")})

    client = app.test_client()
    response = client.get("/set")
    [line] = set_cookie_lines(response.header_list)
    assert line.startswith("sid=") and read_session_cookie(line[4:].split(";")[0]) == {"v": 1}
    assert response.headers["Vary"] == "Accept-Encoding, Cookie"
    response = client.get("/get")
    assert response.json() == {"v": 1} and response.headers["Vary"] == "*"
    other = client.get("/get", headers={"Cookie": "session=" + session_cookie({"v": 2})})
    assert other.json() == {"v": None}  # the cookie named "session" is not this app's
