"""The built-in demo, started as users start it (``outside demo``): its routes, JSON
endpoint, form upload and WebSocket chat, and the page itself in headless Chromium."""
from __future__ import annotations

import hashlib
import json
import os
import re

import pytest
import requests
import websocket

import outside

from browser import CHROMIUM, dump_dom
from servers import Wire, start_program, start_server

pytestmark = pytest.mark.timeout(120)

DEMO = """
from outside.cli import main
main(["demo", "--port", "0"])
"""


@pytest.fixture(scope="module")
def demo():
    with start_server(DEMO) as server:
        yield server


def test_page_and_routes(demo):
    page = requests.get(demo.url + "/", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>outside demo</title>" in page.text
    hello = requests.get(demo.url + "/hello/Ada", timeout=10)
    assert hello.text == "Hello, Ada! (served by outside)"
    assert requests.get(demo.url + "/no/such/page", timeout=10).status_code == 404


def test_json_endpoint(demo):
    with requests.Session() as session:  # one keep-alive connection: one worker process
        first = session.get(demo.url + "/api/info", timeout=10).json()
        second = session.get(demo.url + "/api/info", timeout=10).json()
    assert first["worker_pid"] == second["worker_pid"]
    assert first["version"] == outside.__version__
    assert first["speedups"] == ("python" if os.environ.get("OUTSIDE_NO_EXTENSIONS") else "c")
    assert first["hello_url"] == "/hello/world"
    assert second["visits"] == first["visits"] + 1


def test_multipart_upload_keeps_the_bytes(demo):
    data = b"line one\r\n--not a boundary\r\n\x00\xff" * 1000
    response = requests.post(demo.url + "/upload", data={"note": "caf\u00e9"},
                             files={"file": ("notes.bin", data, "application/octet-stream")}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "fields": {"note": "caf\u00e9"},
        "files": [{"field": "file", "filename": "notes.bin", "content_type": "application/octet-stream",
                   "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}]}


def test_urlencoded_upload(demo):
    response = requests.post(demo.url + "/upload", data={"a": "1", "b": "two words"}, timeout=10)
    assert response.json() == {"fields": {"a": "1", "b": "two words"}, "files": []}


def test_bad_and_oversized_uploads(demo):
    wrong = requests.post(demo.url + "/upload", data=b"--x\r\n", timeout=10,
                          headers={"Content-Type": "multipart/form-data; boundary=other"})
    assert wrong.status_code == 400
    assert requests.post(demo.url + "/upload", data=b"{}", timeout=10,
                         headers={"Content-Type": "application/json"}).status_code == 400
    assert requests.get(demo.url + "/upload", timeout=10).status_code == 405
    with Wire(demo.address) as wire:  # refused from the head alone, before any body is sent
        wire.send(b"POST /upload HTTP/1.1\r\nHost: demo\r\nContent-Length: 2000000\r\n"
                  b"Content-Type: multipart/form-data; boundary=x\r\n\r\n")
        assert wire.read_response().status == 413


def _next_of_kind(connection, kind):
    while True:
        message = json.loads(connection.recv())
        if message["kind"] == kind:
            return message


def test_chat_reaches_every_member(demo):
    address = f"ws://127.0.0.1:{demo.port}/chat"
    first = websocket.create_connection(address, timeout=10)
    second = websocket.create_connection(address, timeout=10)
    try:
        first_name = _next_of_kind(first, "welcome")["you"]
        second_name = _next_of_kind(second, "welcome")["you"]
        assert first_name != second_name
        first.send("  hello, room  ")
        expected = {"kind": "message", "from": first_name, "text": "hello, room"}
        assert _next_of_kind(second, "message") == expected
        assert _next_of_kind(first, "message") == expected
        second.close()
        assert _next_of_kind(first, "left")["who"] == second_name
    finally:
        first.close()
        second.close()




@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_two_browser_tabs_chat():
    with start_program("demo_two_tabs") as server:
        dom = dump_dom(f"http://127.0.0.1:{server.port}/two-tabs")
        match = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
        assert match, dom
        assert match.group(1) != "pending", server.log()
        outcome = json.loads(match.group(1).replace("&quot;", '"'))
        assert "timeout" not in outcome, (outcome, server.log())
        assert outcome["first"] != outcome["second"]
        assert outcome["firstWorker"] != outcome["secondWorker"]  # two worker processes
        assert outcome["received"] == f"{outcome['first']}: hello from the first tab"
        assert outcome["info"] == f"outside {outside.__version__}"
