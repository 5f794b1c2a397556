"""redirect, abort, send_file and url_for(_external=True): headers checked against literal strings."""
from __future__ import annotations

import os

import pytest
import requests

from outside import (
    BuildError,
    HTTPError,
    OutsideHTTP,
    Response,
    abort,
    redirect,
    send_file,
)
from outside.helpers import content_disposition

from framework_support import load_app
from servers import Wire, start_app


@pytest.fixture
def client():
    return load_app().test_client()


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirect_codes(code):
    response = redirect("/next?a=1&b=2#top", code)
    assert response.status_code == code
    assert response.headers == {"Location": "/next?a=1&b=2#top", "Content-Type": "text/html; charset=utf-8"}
    assert response.content == ('<!doctype html>\n<title>Redirecting</title>\n'
                                '<p>Redirecting to <a href="/next?a=1&amp;b=2#top">/next?a=1&amp;b=2#top</a>.</p>\n')


@pytest.mark.parametrize("code", [200, 300, 304, 305, 400, "302"])
def test_redirect_refuses_other_codes(code):
    with pytest.raises(ValueError, match="redirect code"):
        redirect("/", code)


@pytest.mark.parametrize("location, expected", [
    ("/x\r\nSet-Cookie: a=b", "/x%0D%0ASet-Cookie:%20a=b"),
    ("https://example.com/caf\u00e9 au lait", "https://example.com/caf%C3%A9%20au%20lait"),
    ('/"><script>', "/%22%3E%3Cscript%3E"),
    ("/\\evil.example", "/%5Cevil.example"),
    ("/already%20encoded", "/already%20encoded"),
])
def test_redirect_locations_can_not_inject(location, expected):
    assert redirect(location).headers["Location"] == expected


def test_redirect_default_is_302_in_a_handler(client):
    response = client.get("/go", query={"to": "/somewhere"})
    assert response.status_code == 302 and response.headers["Location"] == "/somewhere"


def test_redirect_injection_on_the_wire():
    with start_app("framework") as server, Wire(server.address) as wire:
        wire.send(b"GET /go?to=/x%0D%0ASet-Cookie:%20evil=1%0D%0A&code=303 HTTP/1.1\r\nHost: t\r\n\r\n")
        response = wire.read_response()
    assert response.status == 303
    assert response.headers["location"] == "/x%0D%0ASet-Cookie:%20evil=1%0D%0A"
    assert b"\r\nSet-Cookie" not in response.raw_head


def test_abort_goes_through_the_error_handler(client):
    assert (client.get("/fail/404").status_code, client.get("/fail/404").text) == (404, "custom 404: /fail/404")
    response = client.get("/fail/403")
    assert (response.status_code, response.text) == (403, "403 Forbidden (No further information.)")
    response = client.post("/login", data=b"")
    assert (response.status_code, response.text) == (400, "400 Bad Request (A name, please.)")
    with pytest.raises(HTTPError) as raised:
        abort(409, "taken")
    assert (raised.value.status, raised.value.message, str(raised.value)) == (409, "taken", "409: taken")


@pytest.mark.parametrize("name, expected", [
    ("report.txt", 'attachment; filename="report.txt"'),
    ('my "quoted" file.txt', ('attachment; filename="my _quoted_ file.txt"; '
                             "filename*=UTF-8''my%20%22quoted%22%20file.txt")),
    ("back\\slash.txt", "attachment; filename=\"back_slash.txt\"; filename*=UTF-8''back%5Cslash.txt"),
    ("a\r\nX-Evil: 1.txt", "attachment; filename=\"a__X-Evil: 1.txt\"; filename*=UTF-8''a%0D%0AX-Evil%3A%201.txt"),
    ("r\u00e9sum\u00e9.pdf", "attachment; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"),
    ("\u65e5\u672c.txt", "attachment; filename=\".txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt"),
    ("semi;colon,comma.txt", "attachment; filename=\"semi;colon,comma.txt\""),
])
def test_content_disposition(name, expected):
    assert content_disposition("attachment", name) == expected


def test_send_file_headers(client):
    response = client.get("/download", query={"name": "r\u00e9sum\u00e9 \"v2\".pdf"})
    assert response.status_code == 200 and response.content == b"the report\n"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"resume _v2_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.pdf")
    assert response.headers["Content-Type"] == "application/pdf"  # from the download name
    assert "ETag" in response.headers and response.headers["Content-Length"] == "11"
    response = client.get("/download")
    assert response.headers["Content-Disposition"] == 'attachment; filename="report.txt"'
    response = client.get("/inline")
    assert response.headers["Content-Disposition"] == 'inline; filename="notes.txt"'
    response = client.get("/missing-file")
    assert (response.status_code, response.text) == (404, "custom 404: No such file.")


def test_send_file_options(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"\x00\x01")
    app = OutsideHTTP(("127.0.0.1", 0))
    app.route("/plain")(lambda request: send_file(path))
    app.route("/typed", endpoint="typed")(lambda request: send_file(str(path), mimetype="image/png"))
    app.route("/named", endpoint="named")(lambda request: send_file(path, as_attachment=True))
    client = app.test_client()
    response = client.get("/plain")
    assert "Content-Disposition" not in response.headers
    assert response.headers["Content-Type"] == "application/octet-stream" and response.content == b"\x00\x01"
    assert client.get("/typed").headers["Content-Type"] == "image/png"
    assert client.get("/named").headers["Content-Disposition"] == 'attachment; filename="data.bin"'
    ranged = client.get("/plain", headers={"Range": "bytes=1-"})  # every file honours Range
    assert (ranged.status_code, ranged.content) == (206, b"\x01")
    os.chmod(path, 0)
    if not os.access(path, os.R_OK):  # root reads anything
        assert client.get("/plain").status_code == 404


def test_send_file_on_a_real_server():
    with start_app("framework") as server:
        response = requests.get(server.url + "/download", params={"name": "\u00fcber.txt"}, timeout=10)
    assert response.content == b"the report\n"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"uber.txt\"; filename*=UTF-8''%C3%BCber.txt")
    assert response.headers["Content-Type"] == "text/plain"


def test_url_for_external(client):
    assert client.get("/external").text == "http://localhost/admin/users/ada%20lovelace"
    response = client.get("/external", headers={"Host": "Example.COM:8443"})
    assert response.text == "http://example.com:8443/admin/users/ada%20lovelace"
    https = load_app().test_client(scheme="https")
    assert https.get("/external").text == "https://localhost/admin/users/ada%20lovelace"
    proxied = client.get("/external", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.1"})
    assert proxied.text == "https://localhost/admin/users/ada%20lovelace"
    assert client.get("/external", headers={"Host": "[::1]:8080"}).text == "http://[::1]:8080/admin/users/ada%20lovelace"


@pytest.mark.parametrize("host", ["evil.com/path", "a@b", "x y", "", "host:port", "-bad.example"])
def test_url_for_external_refuses_odd_hosts(client, host):
    response = client.get("/external", headers={"Host": host})
    assert response.status_code == 500 and "BuildError" in response.text


def test_url_for_options():
    app = OutsideHTTP(("127.0.0.1", 0))
    app.route("/users/<int:user_id>")(lambda request, user_id: Response(200, {}, "x"))
    assert app.url_for("<lambda>", user_id=3) == "/users/3"
    with pytest.raises(BuildError, match="needs the request"):
        app.url_for("<lambda>", _external=True, user_id=3)
    assert app.url_for(".<lambda>", user_id=3) == "/users/3"  # no blueprint: the app's own
    app.route("/here", endpoint="here")(
        lambda request: Response(200, {}, request.url_for("<lambda>", _external=True, user_id=1)))
    assert app.test_client(host="h.example").get("/here").text == "http://h.example/users/1"


def test_url_for_external_on_a_real_server():
    with start_app("framework", {"forwarded_allow_ips": ["127.0.0.1"]}) as server:
        plain = requests.get(server.url + "/external", timeout=10)
        proxied = requests.get(server.url + "/external", headers={"X-Forwarded-Proto": "https",
                                                                  "X-Forwarded-For": "192.0.2.1",
                                                                  "Host": "site.example"}, timeout=10)
    assert plain.text == f"http://127.0.0.1:{server.port}/admin/users/ada%20lovelace"
    assert proxied.text == "https://site.example/admin/users/ada%20lovelace"
