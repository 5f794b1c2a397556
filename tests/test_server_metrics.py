"""Prometheus metrics from real servers: scraped with requests, checked by promtool and
scraped by a real Prometheus server on loopback."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

import pytest
import requests

from load import Load
from servers import Wire, start_app

SAMPLE = re.compile(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> dict:
    """{(name, frozenset(labels)): value} of an exposition; every line must parse."""
    samples = {}
    for line in text.splitlines():
        if line.startswith(("# HELP ", "# TYPE ")):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        samples[(name, frozenset(LABEL.findall(labels or "")))] = float(value)
    return samples


def metrics_url(server) -> str:
    return server.wait_for_log(r"Metrics on (http://\S+)").group(1)


def scrape(server) -> dict:
    response = requests.get(metrics_url(server), timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse(response.text)


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def wait_for_count(server, name: str, expected: float, timeout: float = 5.0, **labels) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(server)
        if value(samples, name, **labels) >= expected or time.monotonic() > deadline:
            return samples
        time.sleep(0.1)


def test_requests_are_counted_by_method_route_and_status_class_over_all_workers():
    with start_app("metrics_app", {"workers": 2}) as server:
        session = requests.Session()
        pids = set()
        for number in range(40):
            pids.add(requests.get(f"{server.url}/users/{number}", timeout=5).text.split()[1])  # new connections
        for name in ("a.txt", "b/c.txt"):
            assert session.get(f"{server.url}/files/{name}", timeout=5).status_code == 200
        assert session.get(server.url + "/nowhere/1", timeout=5).status_code == 404
        assert session.get(server.url + "/nowhere/2", timeout=5).status_code == 404
        assert session.get(server.url + "/fail", timeout=5).status_code == 500
        assert session.request("PROPFIND", server.url + "/files/x", timeout=5).status_code == 200
        with Wire(server.address) as wire:
            wire.send(b"GET / HTTP/1.1\r\nHost: x\r\nBad header\r\n\r\n")
            assert wire.read_response().status == 400
        samples = wait_for_count(server, "outside_requests_total", 40,
                                 method="GET", route="/users/<int:user_id>", status_class="2xx")
        samples = wait_for_count(server, "outside_parser_errors_total", 1, status="400")
    assert len(pids) == 2  # both workers served some: the sums cover both processes
    total = "outside_requests_total"
    assert value(samples, total, method="GET", route="/users/<int:user_id>", status_class="2xx") == 40
    assert value(samples, total, method="GET", route="/files/", status_class="2xx") == 2
    assert value(samples, total, method="GET", route="unmatched", status_class="4xx") == 2
    assert value(samples, total, method="GET", route="/fail", status_class="5xx") == 1
    assert value(samples, total, method="other", route="/files/", status_class="2xx") == 1
    assert value(samples, "outside_parser_errors_total", status="400") == 1
    assert value(samples, "outside_request_duration_seconds_count") == 46
    assert value(samples, "outside_request_duration_seconds_bucket", le="+Inf") == 46
    assert value(samples, "outside_worker_processes") == 2
    assert value(samples, "outside_worker_starts_total") == 2
    assert value(samples, "outside_handler_threads_max") == 2 * 150
    assert value(samples, "outside_received_bytes_total") > 46 * 30
    assert value(samples, "outside_sent_bytes_total") > 46 * 60
    raw_paths = [key for key in samples if any(v.startswith("/users/1") for _, v in key[1])]
    assert raw_paths == []  # routes, never raw paths


def test_promtool_accepts_the_page():
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian: the prometheus package)")
    with start_app("metrics_app", {"workers": 2}) as server:
        requests.get(server.url + "/users/1", timeout=5)
        requests.get(server.url + "/nowhere", timeout=5)
        wait_for_count(server, "outside_request_duration_seconds_count", 2)
        page = requests.get(metrics_url(server), timeout=5).text
    result = subprocess.run([promtool, "check", "metrics"], input=page, capture_output=True,
                            text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_public_port_does_not_show_them_unless_asked():
    with start_app("metrics_app") as server:
        response = requests.get(server.url + "/metrics", timeout=5)
        assert response.status_code == 404 and "outside_" not in response.text
    with start_app("metrics_app", {"metrics_port": "same"}) as server:
        assert "Metrics on" not in server.log()
        requests.get(server.url + "/users/3", timeout=5)
        time.sleep(0.7)
        response = requests.get(server.url + "/metrics", timeout=5)
        samples = parse(response.text)
        assert value(samples, "outside_requests_total", method="GET", route="/users/<int:user_id>",
                     status_class="2xx") == 1


def test_metrics_off_serve_nothing():
    with start_app("metrics_app", {"metrics": False}) as server:
        assert "Metrics on" not in server.log()
        assert requests.get(server.url + "/metrics", timeout=5).status_code == 404


def test_counters_survive_recycled_and_reloaded_workers():
    with start_app("metrics_app", {"workers": 2, "max_requests": 60}) as server:
        with Load(server.url + "/users/5", threads=3, limit=100) as load:
            load.finish()
        assert load.errors == [] and load.total == 300
        old = set(server.children())
        server.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 15
        while set(server.children()) & old and time.monotonic() < deadline:
            time.sleep(0.05)
        # 4 or 5 retirements (60 of the 300 requests each) and a reload of both workers;
        # a worker already retiring when the reload comes is replaced once, not twice
        samples = wait_for_count(server, "outside_worker_exits_total", 5)
    assert value(samples, "outside_requests_total", method="GET", route="/users/<int:user_id>",
                 status_class="2xx") == 300
    assert value(samples, "outside_worker_restarts_total") >= 5
    assert value(samples, "outside_worker_exits_total") >= 5
    assert value(samples, "outside_worker_starts_total") == 2 + value(samples, "outside_worker_restarts_total")
    assert value(samples, "outside_worker_processes") == 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_real_prometheus_scrapes_them(tmp_path):
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus is not installed")
    with start_app("metrics_app", {"workers": 2}) as server:
        target = metrics_url(server).split("/")[2]
        for number in range(7):
            requests.get(f"{server.url}/users/{number}", timeout=5)
        config = tmp_path / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1s\nscrape_configs:\n"
                          f"  - job_name: outside\n    static_configs:\n      - targets: ['{target}']\n")
        port = free_port()
        prometheus = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            query = (f"http://127.0.0.1:{port}/api/v1/query?query="
                     "sum(outside_requests_total%7Broute%3D%22%2Fusers%2F%3Cint%3Auser_id%3E%22%7D)")
            found = None
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline and found is None:
                time.sleep(0.5)
                try:
                    with urllib.request.urlopen(query, timeout=2) as answer:
                        result = json.load(answer)["data"]["result"]
                except OSError:
                    continue
                if result and float(result[0]["value"][1]) == 7:
                    found = result
            assert found is not None
        finally:
            prometheus.send_signal(signal.SIGTERM)
            try:
                prometheus.wait(10)
            except subprocess.TimeoutExpired:
                prometheus.kill()
                prometheus.wait(5)
    assert os.path.isdir(tmp_path / "data")
