"""Pub/sub delivery to WebSocket subscribers over TLS (``wss://``, trustme certificates)
on a server of two workers: every message to every subscriber in order, and a stalled
TLS subscriber closed with 1008 while the others keep receiving. (A TLS socket's
outbox takes the Python path of the fan-out, never a direct ``send(2)``.)"""
from __future__ import annotations

import ssl
import time

import pytest
import trustme

from pubsub_clients import (
    OrderChecker,
    clients_on_workers,
    publish_concurrently,
    slow_reader_is_dropped,
)

from servers import start_app

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    paths = {name: str(directory / f"{name}.pem") for name in ("ca", "key", "cert")}
    ca.cert_pem.write_to_path(paths["ca"])
    cert.private_key_pem.write_to_path(paths["key"])
    with open(paths["cert"], "wb") as chain:
        for pem in cert.cert_chain_pems:
            chain.write(pem.bytes())
    return paths


@pytest.fixture(scope="module", params=["blocking", "events"])
def tls_server(request, certificates):
    config = {"workers": 2, "ssl_enabled": True, "ssl_keyfile": certificates["key"],
              "ssl_certfile": certificates["cert"]}
    with start_app("pubsub", config=config, env={"WS_MODE": request.param}) as server:
        yield server


def wss(certificates) -> dict:
    return {"scheme": "wss", "sslopt": {"ca_certs": certificates["ca"], "cert_reqs": ssl.CERT_REQUIRED}}


def test_every_message_reaches_every_tls_subscriber_of_both_workers_in_order(tls_server, certificates):
    groups = clients_on_workers(tls_server.port, workers=2, per_worker=2, topic="secure",
                                **wss(certificates))
    try:
        publishers, count = 3, 1000
        checkers = [OrderChecker(client, publishers * count, time.monotonic() + 90)
                    for clients in groups.values() for client in clients]
        for checker in checkers:
            checker.start()
        pids = publish_concurrently(tls_server.url, publishers, count, topic="secure",
                                    verify=certificates["ca"])
        for checker in checkers:
            checker.join(100)
        for checker in checkers:
            assert checker.problems == []
            assert checker.next == {f"p{i}": count for i in range(publishers)}
        assert set(pids) <= set(groups)
    finally:
        for clients in groups.values():
            for client in clients:
                client.close()


def test_a_stalled_tls_subscriber_is_dropped_and_the_others_keep_receiving(tls_server, certificates):
    slow_reader_is_dropped(tls_server, tls_server, verify=certificates["ca"], **wss(certificates))
