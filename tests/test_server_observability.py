"""Access log formats, request ids, stuck-handler stacks and slow readers, with real
servers and clients; and the start-up check of every operations config key."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time

import pytest
import requests

from servers import ROOT, Wire, start_app


def access_lines(server, count: int, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        lines = [line[len("ACCESS "):] for line in server.log().splitlines() if line.startswith("ACCESS ")]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


def test_common_is_the_default_line():
    with start_app("ops") as server:
        requests.get(server.url + "/?a=1", timeout=5)
        [line] = access_lines(server, 1)
    assert re.fullmatch(r'127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
                        r'"GET /\?a=1 HTTP/1\.1" 200 13', line), line


def test_combined_escapes_what_could_forge_a_field():
    with start_app("ops", {"access_log_format": "combined"}) as server:
        with Wire(server.address) as wire:
            wire.send(b'GET / HTTP/1.1\r\nHost: x\r\nReferer: https://a.example/"x\r\n'
                      b'User-Agent: evil" 200 999 "-" "\\\r\n\r\n')
            assert wire.read_response().status == 200
        [line] = access_lines(server, 1)
    assert line.endswith(' "GET / HTTP/1.1" 200 13 "https://a.example/\\x22x"'
                         ' "evil\\x22 200 999 \\x22-\\x22 \\x22\\x5C"')


def test_json_lines_are_one_object_each_whatever_the_headers_hold():
    forged = 'x", "status": 999, "client": "6.6.6.6'
    with start_app("ops", {"access_log_format": "json"}) as server:
        response = requests.get(server.url + "/id", headers={"User-Agent": forged,
                                                             "Referer": "a\u00e9b"}, timeout=5)
        with Wire(server.address) as wire:
            wire.send(b'GET /missing HTTP/1.1\r\nHost: x\r\nUser-Agent: a\tb"\\\xff\r\n\r\n')
            assert wire.read_response().status == 200
        with Wire(server.address) as wire:  # not even a request: logged all the same
            wire.send(b"GET / HTTP/1.1\r\nUser-Agent: a\nb\x00\r\n\r\n")
            assert wire.read_response().status == 400
        lines = access_lines(server, 3)
    assert len(lines) == 3
    first, second, third = (json.loads(line) for line in lines)
    assert third["status"] == 400 and third["method"] is None and third["user_agent"] is None
    assert first["user_agent"] == forged and first["status"] == 200 and first["client"] == "127.0.0.1"
    assert first["referer"] == "a\u00e9b"  # requests sends it as latin-1, the server reads it so
    assert first["method"] == "GET" and first["target"] == "/id"
    assert first["bytes"] == len(response.content)
    assert 0 <= first["duration"] < 5
    assert first["request_id"] == response.text == response.headers["X-Request-ID"]
    assert second["target"] == "/missing" and second["user_agent"] == 'a\tb"\\\xff'
    assert set(first) == {"time", "client", "method", "target", "status", "bytes", "duration",
                          "user_agent", "referer", "request_id"}


def test_request_id_is_kept_only_from_a_trusted_peer_and_only_when_valid():
    with start_app("ops") as server:  # nobody trusted
        response = requests.get(server.url + "/id", headers={"X-Request-ID": "abc-123"}, timeout=5)
        assert response.text != "abc-123" and response.headers["X-Request-ID"] == response.text
        other = requests.get(server.url + "/id", timeout=5).text
        assert other != response.text  # a new id for each request
        assert "X-Request-ID" not in requests.get(server.url + "/", timeout=5).headers  # lazy
    with start_app("ops", {"forwarded_allow_ips": ["127.0.0.1"]}) as server:
        response = requests.get(server.url + "/id", headers={"X-Request-ID": "abc-123"}, timeout=5)
        assert response.text == "abc-123" == response.headers["X-Request-ID"]
        # echoed even when the handler never read it
        assert requests.get(server.url + "/", headers={"X-Request-ID": "q"}, timeout=5).headers["X-Request-ID"] == "q"
        for bad in ("a b", "x" * 201, "caf\u00e9"):
            response = requests.get(server.url + "/id", headers={"X-Request-ID": bad.encode("utf-8")}, timeout=5)
            assert response.text not in (bad, bad.encode("utf-8").decode("latin-1"))
            assert re.fullmatch(r"[0-9a-f]{12}-[0-9a-f]+", response.text)


def test_a_stuck_handler_logs_its_stack_once():
    config = {"process_timeout": 0.5, "accept_timeout": 0.1}
    with start_app("ops", config) as server:
        with Wire(server.address) as wire:
            wire.send(b"GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n")
            assert wire.closed_by_server(timeout=5)
        server.wait_for_log(r"ran 0 s without returning: connection ended; its thread is at:")
        time.sleep(1.0)
        log = server.log()
    assert log.count("without returning") == 1
    assert re.search(r'tests/apps/ops\.py", line \d+, in a_stuck_handler\n\s+time\.sleep\(30\)', log), log


def test_a_client_reading_slower_than_min_send_rate_is_cut_off():
    config = {"min_send_rate": 200_000, "min_send_rate_grace": 1, "accept_timeout": 0.1}
    with start_app("ops", config) as server:
        sock = socket.create_connection(server.address, timeout=10)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        received, started, ended = 0, time.monotonic(), None
        try:
            while time.monotonic() - started < 15:
                data = sock.recv(1024)  # about 10 KB/s, far below 200 KB/s
                if not data:
                    ended = time.monotonic()
                    break
                received += len(data)
                time.sleep(0.1)
        except ConnectionResetError:
            ended = time.monotonic()
        finally:
            sock.close()
        assert ended is not None and ended - started < 10, received
        assert received < 32 * 1024 * 1024
        server.wait_for_log(r"read a response slower than 200000 bytes/s for 1 s: connection ended")
        # a client that reads at full speed is not cut off
        assert len(requests.get(server.url + "/big", timeout=10).content) == 32 * 1024 * 1024


BAD_VALUES = [
    ("access_log_format", "'apache'", "expected one of 'common', 'combined', 'json'"),
    ("min_send_rate", "-1", "expected a number >= 0"),
    ("min_send_rate_grace", "'10'", "expected a number >= 0.1"),
    ("max_requests", "1.5", "expected an integer >= 0"),
    ("max_requests_jitter", "-3", "expected an integer >= 0"),
    ("max_worker_memory_mb", "None", "expected a number >= 0"),
    ("metrics", "'yes'", "expected one of False, True"),
    ("metrics_port", "70000", "expected a port 0-65535 or 'same'"),
    ("metrics_path", "'metrics'", "expected a path like '/metrics'"),
]


@pytest.mark.parametrize("key, value, message", BAD_VALUES, ids=[item[0] for item in BAD_VALUES])
def test_a_wrong_operations_key_stops_the_start_with_one_line(tmp_path, key, value, message):
    module = tmp_path / "badconfig.py"
    module.write_text(f"from outside import OutsideHTTP\napp = OutsideHTTP(('127.0.0.1', 0))\n"
                      f"app.config[{key!r}] = {value}\n")
    result = subprocess.run([sys.executable, "-m", "outside", "run", "badconfig:app", "--port", "0"],
                            cwd=tmp_path, env={"PYTHONPATH": ROOT, "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1
    assert result.stderr == f"outside: error: config[{key!r}] = {value}: {message}\n"
