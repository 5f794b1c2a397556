"""Pub/sub delivery to WebSocket subscribers over TLS (``wss://``, trustme certificates)
on a server of two workers: every message to every subscriber in order, and a stalled
TLS subscriber closed with 1008 while the others keep receiving. (A TLS socket's
outbox takes the Python path of the fan-out, never a direct ``send(2)``.)"""
from __future__ import annotations

import ssl

import pytest

from pubsub_clients import (
    check_every_message_in_order,
    slow_reader_is_dropped,
)

from framework_support import make_certificates
from servers import start_app

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module", params=["blocking", "events"])
def tls_server(request, certificates):
    config = {"workers": 2, "ssl_enabled": True, "ssl_keyfile": certificates["key"],
              "ssl_certfile": certificates["cert"]}
    with start_app("pubsub", config=config, env={"WS_MODE": request.param}) as server:
        yield server


def wss(certificates) -> dict:
    return {"scheme": "wss", "sslopt": {"ca_certs": certificates["ca"], "cert_reqs": ssl.CERT_REQUIRED}}


def test_every_message_reaches_every_tls_subscriber_of_both_workers_in_order(tls_server, certificates):
    check_every_message_in_order(tls_server, publishers=3, count=1000, topic="secure",
                                 verify=certificates["ca"], **wss(certificates))


def test_a_stalled_tls_subscriber_is_dropped_and_the_others_keep_receiving(tls_server, certificates):
    slow_reader_is_dropped(tls_server, tls_server, verify=certificates["ca"], **wss(certificates))
