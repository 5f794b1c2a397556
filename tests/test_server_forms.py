"""``request.form`` and ``request.files`` through a real server (``tests/apps/forms.py``):
uploads from requests and curl, every limit answered 413, every malformed body 400 with
its reason, a large upload with flat memory, and temporary files gone after each request."""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import subprocess
import time

import pytest
import requests

from servers import Wire, rss_kib, start_app

pytestmark = pytest.mark.timeout(180)
CD = b'Content-Disposition: form-data; name="'


@pytest.fixture(scope="module")
def server():
    with start_app("forms", config={"max_form_parts": 20, "max_form_memory_size": 64 * 1024,
                                    "max_body_size_mb": 300}) as running:
        yield running


def held_after_request(server, timeout: float = 5.0):
    """The temporary files the server holds once the last request has ended (the server
    closes them right after sending its response: poll briefly for that moment)."""
    deadline = time.monotonic() + timeout
    while True:
        held = requests.get(server.url + "/held", timeout=10).json()["held"]
        if not held or time.monotonic() > deadline:
            return held
        time.sleep(0.05)


def post_raw(server, body: bytes, content_type: str = "multipart/form-data; boundary=b", path: str = "/echo"):
    return requests.post(server.url + path, data=body, headers={"Content-Type": content_type}, timeout=30)


def test_requests_upload_with_repeated_fields_and_files(server):
    big = os.urandom(200 * 1024)  # over max_form_memory_size: on disk
    response = requests.post(server.url + "/echo", timeout=30,
                             data={"tag": ["one", "two", "three"], "caf\u00e9": "cr\u00e8me br\u00fbl\u00e9e"},
                             files=[("doc", ("notes.txt", b"small file", "text/plain")),
                                    ("doc", ("big.bin", big, "application/octet-stream"))])
    assert response.status_code == 200, response.text
    echoed = response.json()
    assert echoed["form"] == {"tag": ["one", "two", "three"], "caf\u00e9": ["cr\u00e8me br\u00fbl\u00e9e"]}
    assert echoed["files"]["doc"] == [
        {"filename": "notes.txt", "content_type": "text/plain", "size": 10,
         "sha256": hashlib.sha256(b"small file").hexdigest(), "on_disk": False},
        {"filename": "big.bin", "content_type": "application/octet-stream", "size": len(big),
         "sha256": hashlib.sha256(big).hexdigest(), "on_disk": True}]
    assert echoed["held"] == 1  # the big file, while the handler ran
    assert held_after_request(server) == []


def test_urlencoded_form(server):
    response = requests.post(server.url + "/echo", data=[("a", "1"), ("a", "2"), ("\u00e9", "\u20ac")], timeout=10)
    assert response.json()["form"] == {"a": ["1", "2"], "\u00e9": ["\u20ac"]}


def test_content_read_first_then_form(server):
    response = requests.post(server.url + "/content-then-form", data={"x": "1", "y": "2"}, timeout=10)
    assert response.json() == {"length": len(b"x=1&y=2"), "form": {"x": ["1"], "y": ["2"]}}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_upload(server, tmp_path):
    upload = tmp_path / "r\u00e9sum\u00e9.pdf"
    data = os.urandom(100_000)
    upload.write_bytes(data)
    output = subprocess.run(
        ["curl", "-sS", "--max-time", "30", "-F", "who=Zo\u00eb", "-F", "who=Max",
         "-F", f"cv=@{upload};type=application/pdf", server.url + "/echo"],
        capture_output=True, check=True, timeout=60).stdout
    echoed = json.loads(output)
    assert echoed["form"] == {"who": ["Zo\u00eb", "Max"]}
    assert echoed["files"]["cv"] == [{"filename": "r\u00e9sum\u00e9.pdf", "content_type": "application/pdf",
                                      "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                                      "on_disk": True}]


def test_extended_filename(server):
    body = (b"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"plain.txt\"; "
            b"filename*=UTF-8''%E2%82%AC%20report.txt\r\n\r\nx\r\n--b--\r\n")
    assert post_raw(server, body).json()["files"]["f"][0]["filename"] == "\u20ac report.txt"


def test_missing_field_is_400(server):
    response = requests.post(server.url + "/missing", data={"present": "1"}, timeout=10)
    assert response.status_code == 400 and "the form has no field 'absent'" in response.text


@pytest.mark.parametrize("body,content_type,reason", [
    (b"--b\r\n" + CD + b'a"\r\n\r\n1\r\n--b--', "multipart/form-data", "no valid boundary"),
    (b"--b\r\n" + CD + b'a"\r\n\r\n1\r\n--b--', "multipart/form-data; boundary=other",
     "does not contain the multipart boundary"),
    (b"--b\r\nContent-Disposition: form-data\r\n\r\n1\r\n--b--", None, "no field name"),
    (b"--b\r\n" + CD + b'a"; filename="t"\r\n\r\n1' + b"x" * 100_000, None, "ended before its closing boundary"),
    (b"--b\r\n" + CD + b'a"\r\nX-Big: ' + b"v" * 20_000 + b"\r\n\r\n1\r\n--b--", None, "header section is too large"),
    (b"--b\r\nContent-Disposition: inline; name=\"a\"\r\n\r\n1\r\n--b--", None, "not form-data"),
    (b"--b\r\nContent-Disposition: form-data; name=\"a\"; junk\r\n\r\n1\r\n--b--", None, "malformed header parameter"),
], ids=["no-boundary", "wrong-boundary", "no-name", "truncated", "oversized-part-header", "not-form-data",
        "bad-disposition"])
def test_malformed_bodies_are_400_with_a_reason(server, body, content_type, reason):
    response = post_raw(server, body, content_type or "multipart/form-data; boundary=b")
    assert response.status_code == 400
    assert reason in response.text


def test_too_many_parts_is_413(server):
    body = b"".join(b"--b\r\n" + CD + b'p"\r\n\r\nv\r\n' for _ in range(21)) + b"--b--\r\n"
    response = post_raw(server, body)
    assert response.status_code == 413 and "more than 20 parts" in response.text
    assert post_raw(server, body.replace(b"--b\r\n", b"", 1)).status_code == 200  # 20 are fine


def test_oversized_text_field_is_413(server):
    body = b"--b\r\n" + CD + b'essay"\r\n\r\n' + b"w" * (64 * 1024 + 1) + b"\r\n--b--\r\n"
    response = post_raw(server, body)
    assert response.status_code == 413 and "field is larger than 65536 bytes" in response.text
    urlencoded = requests.post(server.url + "/echo", data={"essay": "w" * 70_000}, timeout=10)
    assert urlencoded.status_code == 413


def test_body_over_the_limit_is_413_even_when_chunked():
    with start_app("forms", config={"max_body_size_mb": 1}) as small:
        def chunks():
            yield b"--b\r\n" + CD + b'f"; filename="x"\r\n\r\n'
            for _ in range(40):
                yield b"z" * 65536
        response = requests.post(small.url + "/echo", data=chunks(), timeout=30,
                                 headers={"Content-Type": "multipart/form-data; boundary=b"})
        assert response.status_code == 413
        assert held_after_request(small) == []


def test_temporary_files_go_when_the_handler_raises(server):
    response = requests.post(server.url + "/fail", files={"f": ("a.bin", os.urandom(300_000))}, timeout=30)
    assert response.status_code == 500
    assert held_after_request(server) == []


def test_temporary_files_go_when_the_body_is_malformed(server):
    with Wire(server.address) as wire:
        part = b"--b\r\n" + CD + b'f"; filename="a"\r\n\r\n' + b"x" * 300_000
        wire.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(part) + part)
        answer = wire.read_response()
    assert answer.status == 400 and b"ended before its closing boundary" in answer.body
    assert held_after_request(server) == []


def test_large_streamed_upload_keeps_memory_flat():
    size = 200 * 1024 * 1024
    head = b"--b\r\n" + CD + b'field"\r\n\r\nvalue\r\n--b\r\n' + CD + b'big"; filename="big.bin"\r\n\r\n'
    tail = b"\r\n--b--\r\n"
    block = os.urandom(1024 * 1024)
    with start_app("forms") as big:
        before = rss_kib(big.pid)
        connection = http.client.HTTPConnection("127.0.0.1", big.port, timeout=120)
        try:
            connection.putrequest("POST", "/echo")
            connection.putheader("Content-Type", "multipart/form-data; boundary=b")
            connection.putheader("Content-Length", str(len(head) + size + len(tail)))
            connection.endheaders()
            connection.send(head)
            for _ in range(size // len(block)):
                connection.send(block)
            connection.send(tail)
            response = connection.getresponse()
            echoed = json.loads(response.read())
        finally:
            connection.close()
        peak = _peak_rss_kib(big.pid)
        assert response.status == 200
        assert echoed["form"] == {"field": ["value"]}
        expected = hashlib.sha256(block * (size // len(block))).hexdigest()
        assert echoed["files"]["big"][0]["size"] == size and echoed["files"]["big"][0]["sha256"] == expected
        assert peak - before < 64 * 1024, f"RSS grew from {before} KiB to a peak of {peak} KiB"
        assert held_after_request(big) == []


def _peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as file:
        for line in file:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM")



def test_connection_stays_usable_after_a_streamed_form(server):
    body = (b"--b\r\n" + CD + b'f"; filename="x"\r\n\r\n' + b"z" * 300_000
            + b"\r\n--b--\r\nan epilogue the parser ignores")
    with Wire(server.address) as wire:
        for _ in range(2):  # one connection answers twice: each body was read to its end
            wire.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body[:1000])
            close = body.index(b"--b--") + 5
            for piece in (body[1000:close], body[close:]):
                time.sleep(0.05)  # the rest arrives while the handler reads: a streamed body
                wire.send(piece)
            answer = wire.read_response()
            assert answer.status == 200 and json.loads(answer.body)["files"]["f"][0]["size"] == 300_000
            assert answer.headers.get("connection", "").lower() != "close"
