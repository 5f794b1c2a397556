"""HTTPS with ssl_enabled: modern TLS, ALPN, clear start-up errors, robust to plain HTTP."""
from __future__ import annotations

import socket
import ssl
import threading

import pytest
import requests
import trustme

from framework_support import make_certificates
from servers import start_app

APP = "tls_hello"  # tests/apps/tls_hello.py
@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def server(certificates):
    config = {"ssl_enabled": True, "ssl_keyfile": certificates["key"],
              "ssl_certfile": certificates["cert"], "header_timeout": 2}
    with start_app(APP, config) as running:
        yield running


def client_context(certificates) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certificates["ca"])
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


def test_https_requests_are_served(server, certificates):
    assert server.scheme == "https"
    with requests.Session() as session:
        for _ in range(3):  # keep-alive over TLS
            response = session.post(server.url + "/", data=b"x" * 100_000, verify=certificates["ca"], timeout=10)
            assert response.status_code == 200 and response.text == "https " + "x" * 100_000


def test_pipelined_requests_over_tls(server, certificates):
    with socket.create_connection(server.address, timeout=10) as raw:
        with client_context(certificates).wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"".join(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n%02d" % i
                                 for i in range(20)))
            received = b""
            while received.count(b"https ") < 20 or not received.endswith(b"19"):
                chunk = tls.recv(65536)
                assert chunk, received
                received += chunk
    assert [int(body[:2]) for body in received.split(b"https ")[1:]] == list(range(20))


def test_files_are_sent_over_tls(server, certificates):
    response = requests.get(server.url + "/file", verify=certificates["ca"], timeout=10)
    assert response.content == bytes(range(256)) * 8192


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_alpn_selects_http11_and_tls12_is_the_floor(server, certificates):
    context = client_context(certificates)
    with socket.create_connection(server.address, timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.selected_alpn_protocol() == "http/1.1"
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
    old = client_context(certificates)
    old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection(server.address, timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            old.wrap_socket(raw, server_hostname="127.0.0.1")


def test_plain_http_to_the_tls_port_does_not_disturb_the_server(server, certificates):
    with socket.create_connection(server.address, timeout=10) as plain:
        plain.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        try:
            assert b"HTTP/1.1 200" not in plain.recv(4096)
        except ConnectionResetError:
            pass
    silent = socket.create_connection(server.address, timeout=10)  # never says a word
    try:
        response = requests.get(server.url + "/", verify=certificates["ca"], timeout=10)
        assert response.text == "https "
    finally:
        silent.close()


@pytest.mark.parametrize("problem", ["missing", "mismatch"])
def test_a_bad_key_or_certificate_stops_the_start_with_a_clear_error(certificates, tmp_path, problem):
    key = str(tmp_path / "nope.pem") if problem == "missing" else certificates["key"]
    cert = certificates["cert"]
    if problem == "mismatch":
        trustme.CA().issue_cert("localhost").private_key_pem.write_to_path(str(tmp_path / "other.pem"))
        key = str(tmp_path / "other.pem")
    config = {"ssl_enabled": True, "ssl_keyfile": key, "ssl_certfile": cert}
    with pytest.raises(RuntimeError) as failure:
        start_app(APP, config)
    message = str(failure.value)
    assert "server exited" in message and "TLSConfigError" in message and "cannot load the TLS" in message


WSS_APP = "tls_wss"  # tests/apps/tls_wss.py


@pytest.fixture(scope="module")
def wss_server(certificates):
    config = {"ssl_enabled": True, "ssl_keyfile": certificates["key"],
              "ssl_certfile": certificates["cert"], "max_workers": 16}
    with start_app(WSS_APP, config) as running:
        yield running


def test_no_tls_session_tickets_race_the_first_request(server, certificates):
    """TLS 1.3 tickets would arrive while a client's reader thread and its first write
    share one SSL object (OpenSSL forbids it; the write was lost now and then)."""
    with socket.create_connection(server.address, timeout=10) as raw:
        with client_context(certificates).wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            assert tls.recv(65536).startswith(b"HTTP/1.1 200")
            assert tls.session is None or not tls.session.has_ticket


def test_many_wss_connections_in_a_row_and_at_once(wss_server, certificates):
    from websockets.sync.client import connect
    context = client_context(certificates)
    context.set_alpn_protocols(["http/1.1"])
    url = f"wss://127.0.0.1:{wss_server.port}/ws"

    def talk(number: int) -> None:
        with connect(url, ssl=context, open_timeout=10) as client:
            client.send(f"hello {number}")
            assert client.recv(timeout=10) == f"hello {number}"

    for number in range(30):
        talk(number)
    failures: list = []

    def guarded(number: int) -> None:
        try:
            talk(number)
        except Exception as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=guarded, args=(number,)) for number in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures and not any(thread.is_alive() for thread in threads)


def test_wss_reads_and_sends_from_two_threads_at_once(wss_server, certificates):
    """A handler reading while another thread sends: both use one TLS object, whose
    calls the engine serializes; every message arrives whole and in order. (The race
    that the serialization prevents is rare; this checks the path, it cannot force it.)"""
    from websockets.sync.client import connect
    context = client_context(certificates)
    with connect(f"wss://127.0.0.1:{wss_server.port}/ticker", ssl=context, open_timeout=10,
                 max_size=None) as client:
        for number in range(300):
            client.send(f"echo {number}")
        received = [client.recv(timeout=20) for _ in range(600)]
    ticks = [message for message in received if message.startswith("tick ")]
    echoes = [message for message in received if message.startswith("echo ")]
    assert ticks == [f"tick {number}" for number in range(300)]
    assert echoes == [f"echo {number}" for number in range(300)]


def test_pipelined_https_requests_on_many_connections(server, certificates):
    context = client_context(certificates)
    for round_number in range(30):
        with socket.create_connection(server.address, timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"".join(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n%02d" % i
                                     for i in range(5)))
                received = b""
                while received.count(b"https ") < 5 or not received.endswith(b"04"):
                    chunk = tls.recv(65536)
                    assert chunk, (round_number, received)
                    received += chunk
        assert [int(body[:2]) for body in received.split(b"https ")[1:]] == list(range(5))
