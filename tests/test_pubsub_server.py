"""Publish/subscribe with ``config["pubsub"] = "local"`` on a real server: several
worker processes, real WebSocket and EventSource clients (tests/apps/pubsub.py)."""
from __future__ import annotations

import time

import pytest
import requests
import websocket

from pubsub_clients import (
    check_every_message_in_order,
    clients_on_workers,
    close_all,
    connect,
    slow_reader_is_dropped,
    stats_of,
    subscribe,
)

from servers import start_app

pytestmark = pytest.mark.timeout(180)

MODES = ["blocking", "events"]


@pytest.fixture(scope="module", params=MODES)
def two_workers(request):
    with start_app("pubsub", config={"workers": 2}, env={"WS_MODE": request.param}) as server:
        yield server


def test_ten_thousand_messages_reach_every_worker_complete_and_in_order(two_workers):
    check_every_message_in_order(two_workers, publishers=4, count=2500, topic="orders")


def test_a_message_published_from_a_websocket_reaches_the_other_worker(two_workers):
    groups = clients_on_workers(two_workers.port, workers=2, per_worker=1, topic="chat")
    try:
        (first,), (second,) = groups.values()
        first.send("pub chat hello from one")
        second.send("pub chat hello from two")
        for client in (first, second):
            got = {client.recv(), client.recv()}
            assert got == {"hello from one", "hello from two"}
    finally:
        close_all(groups)


def test_binary_messages_arrive_as_binary(two_workers):
    groups = clients_on_workers(two_workers.port, workers=2, per_worker=1, topic="bin")
    try:
        requests.get(f"{two_workers.url}/publish?topic=bin&prefix=b&count=3&binary=1", timeout=10)
        for (client,) in groups.values():
            frames = [client.recv_data() for _ in range(3)]
            assert frames == [(websocket.ABNF.OPCODE_BINARY, f"b {n}".encode()) for n in range(3)]
    finally:
        close_all(groups)


def test_unsubscribe_and_topics(two_workers):
    client, _ = connect(two_workers.port)
    try:
        subscribe(client, "a")
        client.send("sub b")
        assert client.recv() == "subscribed b a,b"
        client.send("unsub a")
        assert client.recv() == "unsubscribed a"
        for topic in ("a", "b"):
            requests.get(f"{two_workers.url}/publish?topic={topic}&prefix={topic}", timeout=10)
        assert client.recv() == "b 0"  # nothing of "a" came before it
        client.send("sub c")
        assert client.recv() == "subscribed c b,c"
    finally:
        client.close()


def test_a_closed_connection_leaves_its_topics(two_workers):
    client, pid = connect(two_workers.port)
    subscribe(client, "leaving")
    client.close()
    deadline = time.monotonic() + 10
    # publish until the publisher lands on the same worker and reports no delivery there
    while time.monotonic() < deadline:
        before = stats_of(two_workers, pid)
        requests.get(f"{two_workers.url}/publish?topic=leaving", timeout=10)
        after = stats_of(two_workers, pid)
        if after is not None and before is not None and after["published"] + after["delivered"] > \
                before["published"] + before["delivered"]:
            assert after["delivered"] == before["delivered"]
            return
        time.sleep(0.05)
    pytest.fail("no publish reached the worker of the closed connection")


def test_event_streams_subscribe_across_workers(two_workers):
    streams = {}
    responses = []
    for _ in range(100):
        response = requests.get(f"{two_workers.url}/events?topic=feed", stream=True, timeout=10)
        lines = response.iter_lines(decode_unicode=True)
        first = next(line for line in lines if line.startswith("data:"))
        pid = int(first.split()[-1])
        responses.append(response)
        if pid not in streams:
            streams[pid] = lines
        if len(streams) == 2:
            break
    try:
        assert len(streams) == 2
        time.sleep(0.2)  # the stream subscribes once its head is out (after the handler returns)
        requests.get(f"{two_workers.url}/publish?topic=feed&prefix=e&count=20", timeout=10)
        for lines in streams.values():
            data = [line for line in (next(lines) for _ in range(40)) if line.startswith("data:")][:20]
            assert data == [f"data: e {n}" for n in range(20)]
    finally:
        for response in responses:
            response.close()


def test_a_subscriber_that_stops_reading_is_dropped_and_the_others_keep_receiving():
    config = {"workers": 2}  # max_backpressure: the default 1 MiB
    with start_app("pubsub", config=config, env={"WS_MODE": "events"}) as server:
        slow_reader_is_dropped(server, server)


def test_with_one_worker_publish_delivers_in_process():
    with start_app("pubsub", config={"workers": 1}, env={"WS_MODE": "events"}) as server:
        client, _ = connect(server.port)
        try:
            subscribe(client, "solo")
            requests.get(f"{server.url}/publish?topic=solo&prefix=s&count=3", timeout=10)
            assert [client.recv() for _ in range(3)] == ["s 0", "s 1", "s 2"]
        finally:
            client.close()


@pytest.mark.parametrize("case, error, text", [
    ("topic_int", "TypeError", "a topic is a str, not int"),
    ("topic_empty", "ValueError", "1 to 256 characters, not 0"),
    ("topic_long", "ValueError", "1 to 256 characters, not 257"),
    ("message_int", "TypeError", "str or bytes, not int"),
    ("message_none", "TypeError", "str or bytes, not NoneType"),
    ("subscribe_int", "TypeError", "a topic is a str, not int"),
])
def test_bad_input_raises_with_a_message(two_workers, case, error, text):
    answer = requests.get(f"{two_workers.url}/bad?case={case}", timeout=10).json()
    assert answer["error"] == error
    assert text in answer["message"]
