"""Production operations with real servers and clients: zero-downtime reloads (SIGHUP),
more and fewer workers (SIGTTIN/SIGTTOU), worker recycling, the listen backlog."""
from __future__ import annotations

import os
import signal
import socket
import time

import pytest
import requests

from load import Load
from servers import start_app, start_server

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the supervisor needs fork")


def wait_until(condition, timeout: float = 15.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def replaced(server, old: set, count: int):
    """A condition: the server runs ``count`` workers and none of ``old``."""
    def check() -> bool:
        current = set(server.children())
        return len(current) == count and not current & old
    return check


def test_ten_reloads_under_load_lose_no_request():
    with start_app("pid", {"workers": 2}) as server:
        first = set(server.children())
        seen = [first]
        with Load(server.url + "/", threads=4) as load:
            load.wait_for(200)
            for _ in range(10):
                old = set(server.children())
                server.send_signal(signal.SIGHUP)
                assert wait_until(replaced(server, old, 2)), server.log()
                seen.append(set(server.children()))
                load.wait_for(100)
        assert load.errors == []
        assert set(load.statuses) == {200}, load.statuses
        assert load.total > 1000
        answered = {int(pid) for pid in load.bodies}
        assert len(answered) > 10  # the requests went to many generations of workers
        assert len(set().union(*seen)) == 22
        assert server.process.poll() is None  # SIGHUP never stops the server


def test_sighup_reimports_the_app_and_a_broken_version_keeps_the_old_one(tmp_path):
    version = tmp_path / "version.txt"
    version.write_text("one")
    program = ("import sys\nfrom outside.cli import main\n"
               "sys.exit(main(['run', 'tests.apps.versioned:app', '--port', '0', '--workers', '2']))\n")
    with start_server(program, env={"OUTSIDE_TEST_VERSION_FILE": str(version)}) as server:
        assert requests.get(server.url, timeout=5).text.startswith("one ")
        version.write_text("two")
        old = set(server.children())
        server.send_signal(signal.SIGHUP)
        assert wait_until(replaced(server, old, 2)), server.log()
        assert {requests.get(server.url, timeout=5).text.split()[0] for _ in range(20)} == {"two"}
        version.write_text("fail")
        old = set(server.children())
        server.send_signal(signal.SIGHUP)
        server.wait_for_log(r"reload failed, the running workers keep serving: "
                            r"RuntimeError: this version cannot be imported")
        assert set(server.children()) == old
        assert requests.get(server.url, timeout=5).text.startswith("two ")


def test_sighup_with_one_process_keeps_serving():
    with start_app("pid") as server:
        pid = requests.get(server.url, timeout=5).text
        server.send_signal(signal.SIGHUP)
        server.wait_for_log("SIGHUP: nothing to reload")
        assert requests.get(server.url, timeout=5).text == pid == str(server.pid)


def test_sigttin_and_sigttou_add_and_remove_a_worker():
    with start_app("pid", {"workers": 2}) as server:
        assert len(server.children()) == 2
        server.send_signal(signal.SIGTTIN)
        assert wait_until(lambda: len(server.children()) == 3), server.log()
        for count in (2, 1):  # one at a time: the same signal sent twice at once arrives once
            server.send_signal(signal.SIGTTOU)
            assert wait_until(lambda count=count: len(server.children()) == count), server.log()
        server.send_signal(signal.SIGTTOU)  # never below one
        time.sleep(0.5)
        assert len(server.children()) == 1
        assert requests.get(server.url, timeout=5).status_code == 200


def test_max_requests_recycles_workers_without_a_failed_request():
    config = {"workers": 2, "max_requests": 300, "max_requests_jitter": 50}
    with start_app("pid", config) as server:
        with Load(server.url + "/", threads=4, limit=800) as load:
            load.finish()  # the clients run their 3,200 requests to the end
        assert load.errors == []
        assert set(load.statuses) == {200}
        assert load.total == 3200
        pids = {int(pid) for pid in load.bodies}
        assert len(pids) >= 3200 // 450
        # at most 350, plus the requests in flight when it reached its limit (one per
        # client): from then on it accepts nothing and closes each connection after its answer
        assert max(load.bodies.values()) <= 350 + 4
        assert "served its max_requests" in server.log()


def test_max_worker_memory_recycles_a_worker():
    with start_app("pid", {"workers": 2, "max_worker_memory_mb": 200, "accept_timeout": 0.1}) as server:
        session = requests.Session()
        first = int(session.get(server.url + "/grow", timeout=5).text)
        deadline = time.monotonic() + 20
        while first in server.children() and time.monotonic() < deadline:
            response = session.get(server.url + "/grow", timeout=5)
            assert response.status_code == 200
        assert first not in server.children()
        assert len(server.children()) == 2 or wait_until(lambda: len(server.children()) == 2)
        assert "uses more than max_worker_memory_mb (200)" in server.log()


def test_a_burst_of_2000_connects_waits_for_no_syn_retry():
    with start_app("hello") as server:
        slowest = 0.0
        sockets = []
        try:
            for _ in range(2000):
                started = time.monotonic()
                sock = socket.create_connection(server.address, timeout=10)
                slowest = max(slowest, time.monotonic() - started)
                sockets.append(sock)
        finally:
            for sock in sockets:
                sock.close()
        assert slowest < 0.9  # a dropped SYN is retried after 1 s
        assert requests.get(server.url, timeout=5).status_code == 200


def _issue(ca, directory, name: str):
    """A certificate for 127.0.0.1 from ``ca``: (cert path, key path)."""
    cert = ca.issue_cert("127.0.0.1", common_name=name)
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.pem"
    cert.private_key_pem.write_to_path(str(key_path))
    with open(cert_path, "wb") as chain:
        for pem in cert.cert_chain_pems:
            chain.write(pem.bytes())
    return cert_path, key_path


def _served_common_name(address, cafile: str) -> str:
    import ssl
    context = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(address, timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            subject = dict(item[0] for item in tls.getpeercert()["subject"])
            return subject["commonName"]


@pytest.mark.parametrize("workers", [1, 2])
def test_sighup_reads_a_renewed_certificate(tmp_path, workers):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    cert_path, key_path = _issue(ca, tmp_path, "first")
    config = {"workers": workers, "ssl_enabled": True, "ssl_certfile": str(cert_path),
              "ssl_keyfile": str(key_path)}
    with start_app("pid", config) as server:
        assert _served_common_name(server.address, str(tmp_path / "ca.pem")) == "first"
        renewed_cert, renewed_key = _issue(ca, tmp_path, "renewed")
        os.replace(renewed_cert, cert_path)  # as certbot renews: same paths, new files
        os.replace(renewed_key, key_path)
        old = set(server.children())
        server.send_signal(signal.SIGHUP)
        if workers == 1:
            server.wait_for_log("SIGHUP: TLS certificate reloaded")
        else:
            assert wait_until(replaced(server, old, 2)), server.log()
        assert _served_common_name(server.address, str(tmp_path / "ca.pem")) == "renewed"
