"""Each program in ``examples/`` starts as documented (on a free port) and answers a
real request. (``flask_style.py`` and ``wsgi_mount.py`` run in their own tests.)"""
from __future__ import annotations

import os
import re
import socket

import pytest
import requests
import trustme
import websocket

from servers import ROOT, start_server

EXAMPLES = os.path.join(ROOT, "examples")

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.skipif(not os.path.isdir(EXAMPLES), reason="examples/ is not beside the tests")]


def run_example(name: str, *arguments: str):
    """``python examples/NAME ARGUMENTS`` as a running server."""
    path = os.path.join(EXAMPLES, name)
    return start_server(f"""
import runpy, sys
sys.argv = [{path!r}, *{list(arguments)!r}]
runpy.run_path({path!r}, run_name="__main__")
""")


def test_hello_world():
    with run_example("hello_world.py", "0") as server:
        response = requests.get(server.url + "/hello", timeout=10)
        assert (response.status_code, response.text) == (200, "Hello, World!")


def test_json_api():
    with run_example("json_api.py", "0") as server:
        created = requests.post(server.url + "/todos", json={"title": "write docs"}, timeout=10)
        assert created.status_code == 201
        assert created.json() == {"id": 1, "url": "/todos/1", "title": "write docs", "done": False}
        assert created.headers["Location"] == "/todos/1"
        done = requests.patch(server.url + "/todos/1", json={"done": True}, timeout=10)
        assert done.json()["done"] is True
        assert requests.get(server.url + "/todos", timeout=10).json()["todos"] == [done.json()]
        missing = requests.get(server.url + "/todos/7", timeout=10)
        assert (missing.status_code, missing.json()) == (404, {"error": "there is no to-do 7"})
        wrong = requests.put(server.url + "/todos/1", timeout=10)
        assert wrong.status_code == 405 and "error" in wrong.json()
        assert requests.delete(server.url + "/todos/1", timeout=10).status_code == 204


def test_static_site():
    with run_example("static_site.py", "0") as server:
        page = requests.get(server.url + "/", timeout=10)
        assert page.status_code == 200 and "served by outside" in page.text
        style = requests.get(server.url + "/style.css", timeout=10)
        assert style.headers["Content-Type"].startswith("text/css")
        assert re.fullmatch(r"\d\d:\d\d:\d\d", requests.get(server.url + "/api/time", timeout=10).json()["utc"])
        assert requests.get(server.url + "/style.css", headers={"Range": "bytes=0-3"}, timeout=10).content == b"body"


def _receive_until(connection, expected):
    """Read messages until ``expected``; only join notices may come first. The example
    runs one worker per CPU, so a notice relayed from another worker may arrive late."""
    seen = []
    while True:
        message = connection.recv()
        if message == expected:
            return
        seen.append(message)
        assert message.endswith(" joined"), f"{message!r} before {expected!r} (after {seen})"


def test_websocket_chat():
    with run_example("websocket_chat.py", "0") as server:
        assert "new WebSocket" in requests.get(server.url + "/", timeout=10).text
        address = f"ws://127.0.0.1:{server.port}/chat"
        ada = websocket.create_connection(address + "?name=ada", timeout=10)
        bob = websocket.create_connection(address + "?name=bob", timeout=10)
        try:
            _receive_until(ada, "bob joined")
            _receive_until(bob, "bob joined")
            ada.send("hi bob")
            _receive_until(bob, "ada: hi bob")
            _receive_until(ada, "ada: hi bob")
            bob.close()
            assert ada.recv() == "bob left"
        finally:
            ada.close()
            bob.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_tls_server(tmp_path):
    authority = trustme.CA()
    certificate = authority.issue_cert("localhost", "127.0.0.1")
    certificate.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    certificate.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    https_port = _free_port()
    with run_example("tls_server.py", str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"),
                     str(https_port), "0") as server:
        server.wait_for_log(rf"Listening on https://127\.0\.0\.1:{https_port}")
        secure = requests.get(f"https://127.0.0.1:{https_port}/", verify=str(tmp_path / "ca.pem"), timeout=10)
        assert secure.text == "Hello over https!"
        http_port = int(server.wait_for_log(r"Listening on http://127\.0\.0\.1:(\d+)").group(1))
        moved = requests.get(f"http://127.0.0.1:{http_port}/some/page?x=1", allow_redirects=False, timeout=10)
        assert moved.status_code == 301
        assert moved.headers["Location"] == f"https://localhost:{https_port}/some/page?x=1"


def _python_blocks(document: str):
    with open(os.path.join(ROOT, document), encoding="utf-8") as file:
        return re.findall(r"```python\n(.*?)```", file.read(), re.S)


def test_readme_example():
    [code] = _python_blocks("README.md")
    namespace: dict = {"__name__": "readme"}
    exec(compile(code, "README.md", "exec"), namespace)
    client = namespace["server"].test_client()
    assert client.get("/hello/Ada").text == "Hello, Ada!"
    assert client.post("/api/sum", json=[1, 2, 3]).json() == {"sum": 6}


def test_quickstart_code(tmp_path, monkeypatch):
    """The quick start's snippets, in order, make one app that passes its own test."""
    *app_blocks, test_block = _python_blocks("docs/quickstart.md")
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "site.css").write_text("p {}")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "app"}
    exec(compile("\n".join(app_blocks), "quickstart.md", "exec"), namespace)
    server = namespace["server"]
    exec(compile(test_block.replace("from app import server\n", ""), "quickstart.md", "exec"), namespace)
    namespace["test_notes"]()
    client = server.test_client()
    assert client.get("/").text == "Hello from outside!"
    assert client.get("/users/7").text == "user number 7"
    assert client.get("/nowhere").json() == {"error": "Not Found"}
    assert client.get("/static/site.css").text == "p {}"
    # section 7: its templates, then the login, the redirects and the flashed messages
    with open(os.path.join(ROOT, "docs/quickstart.md"), encoding="utf-8") as file:
        for name, body in re.findall(r"```html\n\{# (templates/[\w.]+) #\}\n(.*?)```", file.read(), re.S):
            (tmp_path / name).parent.mkdir(exist_ok=True)
            (tmp_path / name).write_text(body)
    assert client.get("/home").headers["Location"] == "/login"
    wrong = client.post("/login", data={"name": "ada", "password": "nope"})
    assert (wrong.status_code, wrong.headers["Location"]) == (303, "/login")
    assert '<p class="error">Wrong password.</p>' in client.get("/login").text
    right = client.post("/login", data={"name": "<ada>", "password": "open sesame"})
    assert (right.status_code, right.headers["Location"]) == (303, "/home")
    page = client.get("/home").text
    assert "<p>Welcome, &lt;ada&gt;!</p>" in page and "<p>Hello, &lt;ada&gt;!</p>" in page
    assert client.get("/admin").status_code == 403
    assert "Admins only." in client.get("/admin").text
    assert client.post("/logout").headers["Location"] == "/login"
    assert client.get("/home").status_code == 302
    client.post("/login", data={"name": "admin", "password": "open sesame"})
    assert client.get("/admin").text == "the admin page"
    # section 5: an upload read with request.form / request.files, and sent back by send_file
    body = (b'--b\r\nContent-Disposition: form-data; name="caption"\r\n\r\nat the beach\r\n'
            b'--b\r\nContent-Disposition: form-data; name="photo"; filename="../beach.jpg"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff photo bytes\r\n--b--\r\n")
    saved = client.post("/photos", data=body, headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert saved.json() == {"saved": "beach.jpg", "bytes": 15, "caption": "at the beach"}
    download = client.get("/photos/beach.jpg")
    assert download.content == b"\xff\xd8\xff photo bytes"
    assert download.headers["Content-Disposition"] == 'attachment; filename="beach.jpg"'
    assert client.get("/photos/..%2Fapp.py").status_code == 404
