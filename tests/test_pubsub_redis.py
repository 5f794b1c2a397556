"""Publish/subscribe through Redis: a real ``redis-server`` (tests/redis_server.py) and
two outside servers on two ports standing for two machines, each with two worker
processes (tests/apps/pubsub.py)."""
from __future__ import annotations

import re
import threading
import time
from contextlib import ExitStack

import pytest
import requests

from pubsub_clients import (
    OrderChecker,
    clients_on_workers,
    connect,
    slow_reader_is_dropped,
    subscribe,
)
from redis_server import RedisServer

from servers import start_app

pytest.importorskip("redis")
pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def redis_server():
    with RedisServer() as server:
        yield server


def two_machines(stack: ExitStack, url: str, mode: str = "events"):
    config = {"workers": 2, "pubsub": url}
    return [stack.enter_context(start_app("pubsub", config=config, env={"WS_MODE": mode}))
            for _ in range(2)]


def subscribers_everywhere(servers, topic: str, per_worker: int = 1):
    return [client for server in servers
            for clients in clients_on_workers(server.port, 2, per_worker, topic).values()
            for client in clients]


@pytest.mark.parametrize("mode", ["blocking", "events"])
def test_ten_thousand_messages_reach_all_four_workers_of_two_servers_in_order(redis_server, mode):
    with ExitStack() as stack:
        servers = two_machines(stack, redis_server.url, mode)
        clients = subscribers_everywhere(servers, "orders")
        try:
            time.sleep(0.3)  # each worker's Redis subscription is up (it starts with the worker)
            total = 10_000
            checkers = [OrderChecker(client, total, time.monotonic() + 120) for client in clients]
            for checker in checkers:
                checker.start()
            # two publishers on each server, each under its own name
            threads = [
                threading.Thread(target=publish_named, args=(servers[0].url, ["a0", "a1"], total // 4)),
                threading.Thread(target=publish_named, args=(servers[1].url, ["b0", "b1"], total // 4)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            for checker in checkers:
                checker.join(120)
            for checker in checkers:
                assert checker.problems == []
                assert checker.next == dict.fromkeys(("a0", "a1", "b0", "b1"), total // 4)
        finally:
            for client in clients:
                client.close()


def publish_named(url: str, names, count: int) -> None:
    def one(name: str) -> None:
        requests.get(f"{url}/publish?topic=orders&prefix={name}&count={count}", timeout=120)
    threads = [threading.Thread(target=one, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)


def test_a_slow_reader_fed_through_redis_is_dropped_and_the_others_keep_receiving(redis_server):
    with ExitStack() as stack:
        servers = two_machines(stack, redis_server.url)
        time.sleep(0.3)
        slow_reader_is_dropped(servers[0], servers[1])


def test_redis_restarted_mid_run_the_servers_recover_and_count_the_loss():
    with RedisServer() as redis_server, ExitStack() as stack:
        servers = two_machines(stack, redis_server.url)
        clients = subscribers_everywhere(servers, "ticks")
        try:
            time.sleep(0.3)
            stop = threading.Event()

            def publish_forever() -> None:
                number = 0
                while not stop.is_set():
                    requests.get(f"{servers[0].url}/publish?topic=ticks&prefix=t{number}&count=1",
                                 timeout=30)
                    number += 1
                    time.sleep(0.01)

            publisher = threading.Thread(target=publish_forever, daemon=True)
            publisher.start()
            time.sleep(0.5)
            redis_server.stop()
            time.sleep(1.0)  # messages published now cannot reach the other server
            redis_server.start()
            for server in servers:  # every worker of both says it lost the bus and regained it
                server.wait_for_log(r"(?s)(lost the Redis bus.*){2}", timeout=15)
                server.wait_for_log(r"(?s)(Redis bus at \S+ is back.*){2}", timeout=30)
            stop.set()
            publisher.join(30)
            lost = [int(n) for n in re.findall(r"is back \((\d+) messages lost", servers[0].log())]
            assert max(lost) > 0  # the publishing server counted what it could not send
            # after the recovery, a new message reaches every client on both servers
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                requests.get(f"{servers[1].url}/publish?topic=ticks&prefix=final&count=1", timeout=10)
                if all(wait_for(client, "final 0", 1.0) for client in clients):
                    break
            else:
                pytest.fail("a message published after Redis came back did not reach everyone")
        finally:
            for client in clients:
                client.close()


def wait_for(client, text: str, timeout: float) -> bool:
    """Read ``client`` until ``text`` arrives (True) or ``timeout`` passes."""
    client.settimeout(timeout)
    try:
        while True:
            if client.recv() == text:
                return True
    except Exception:
        return False
    finally:
        client.settimeout(10)


def test_local_delivery_goes_on_while_redis_is_down():
    with RedisServer() as redis_server, ExitStack() as stack:
        (server,) = [stack.enter_context(start_app("pubsub", config={"workers": 1, "pubsub": redis_server.url},
                                                   env={"WS_MODE": "events"}))]
        client, _ = connect(server.port)
        try:
            subscribe(client, "here")
            redis_server.stop()
            requests.get(f"{server.url}/publish?topic=here&prefix=h&count=3", timeout=30)
            assert [client.recv() for _ in range(3)] == ["h 0", "h 1", "h 2"]
            server.wait_for_log("lost the Redis bus", timeout=10)
            assert requests.get(f"{server.url}/stats", timeout=10).json()["lost"] >= 1
        finally:
            client.close()


def test_an_unreachable_redis_stops_the_start_with_one_line():
    import subprocess
    import sys

    from redis_server import free_port
    url = f"redis://127.0.0.1:{free_port()}/0"
    code = ("from outside import OutsideHTTP\n"
            "app = OutsideHTTP(('127.0.0.1', 0))\n"
            f"app.config.update(workers=2, pubsub={url!r})\n"
            "app.run()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert f"config['pubsub'] = {url!r}: Redis does not answer" in result.stderr
    assert "Listening" not in result.stderr
