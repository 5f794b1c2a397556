"""The pub/sub counters on the Prometheus page of real servers (two workers through
``"local"``, and a Redis bus that goes down and comes back), checked by promtool."""
from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import requests

from pubsub_clients import clients_on_workers, slow_reader_is_dropped
from redis_server import RedisServer
from test_server_metrics import metrics_url, scrape, value

from servers import start_app

pytestmark = pytest.mark.timeout(180)

METRICS = {"metrics": True, "metrics_port": 0}


def wait_for_value(server, name: str, expected: float, timeout: float = 10.0) -> dict:
    """A scrape where ``name`` equals ``expected`` (the last one when time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(server)
        if value(samples, name) == expected or time.monotonic() > deadline:
            return samples
        time.sleep(0.1)


def promtool_check(page: str) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian: the prometheus package)")
    result = subprocess.run([promtool, "check", "metrics"], input=page, capture_output=True,
                            text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_published_delivered_dropped_and_subscriptions_over_two_workers():
    with start_app("pubsub", config={"workers": 2, **METRICS}, env={"WS_MODE": "events"}) as server:
        groups = clients_on_workers(server.port, workers=2, per_worker=2, topic="m")
        try:
            samples = wait_for_value(server, "outside_pubsub_subscriptions", 4)
            assert value(samples, "outside_pubsub_subscriptions") == 4
            assert value(samples, "outside_pubsub_published_total") == 0
            requests.get(f"{server.url}/publish?topic=m&prefix=p&count=50", timeout=30)
            for clients in groups.values():
                for client in clients:
                    assert [client.recv() for _ in range(50)] == [f"p {n}" for n in range(50)]
            samples = wait_for_value(server, "outside_pubsub_delivered_total", 200)
            # 50 published in one worker; each of the 4 subscribers (2 per worker) got them
            assert value(samples, "outside_pubsub_published_total") == 50
            assert value(samples, "outside_pubsub_delivered_total") == 200
            assert value(samples, "outside_pubsub_dropped_subscribers_total") == 0
            assert value(samples, "outside_pubsub_bus_lost_total") == 0
            first = next(iter(groups.values()))
            first.pop().close()
            samples = wait_for_value(server, "outside_pubsub_subscriptions", 3)
            assert value(samples, "outside_pubsub_subscriptions") == 3
        finally:
            for clients in groups.values():
                for client in clients:
                    client.close()
        slow_reader_is_dropped(server, server)  # one subscriber closed with 1008
        samples = wait_for_value(server, "outside_pubsub_dropped_subscribers_total", 1)
        assert value(samples, "outside_pubsub_dropped_subscribers_total") == 1
        promtool_check(requests.get(metrics_url(server), timeout=5).text)


def test_lost_messages_and_reconnects_of_the_redis_bus():
    pytest.importorskip("redis")
    with RedisServer() as redis_server, start_app(
            "pubsub", config={"workers": 1, "pubsub": redis_server.url, **METRICS},
            env={"WS_MODE": "events"}) as server:
        samples = scrape(server)
        assert value(samples, "outside_pubsub_bus_reconnects_total") == 0
        redis_server.stop()
        requests.get(f"{server.url}/publish?topic=t&prefix=x&count=3", timeout=30)
        server.wait_for_log("lost the Redis bus", timeout=10)
        redis_server.start()
        server.wait_for_log(r"Redis bus at \S+ is back", timeout=30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            samples = scrape(server)
            if value(samples, "outside_pubsub_bus_reconnects_total") >= 1:
                break
            time.sleep(0.1)
        assert value(samples, "outside_pubsub_bus_lost_total") >= 1
        assert value(samples, "outside_pubsub_bus_reconnects_total") >= 1
        assert value(samples, "outside_pubsub_published_total") == 3
        promtool_check(requests.get(metrics_url(server), timeout=5).text)
