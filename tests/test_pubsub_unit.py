"""The pub/sub parts without a server: the hub, the relay's records (whole, byte by
byte, in random splits), the non-blocking outbox over a socketpair, the shared frames
(read back with the sans-I/O client protocol), the config checks."""
from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
import zlib

import pytest

from outside.config import default_config
from outside.pubsub import BINARY, TEXT, Hub, Published, check_topic
from outside.server.pubsub_outbox import Outbox
from outside.server.pubsub_relay import decode, encode, split_records
from outside.server.settings import ConfigError, Settings
from outside.websocket.deflate import DeflateParameters
from outside.websocket.protocol import BinaryMessage, TextMessage, WebSocketProtocol

pytestmark = pytest.mark.timeout(60)


class Recorder:
    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []

    def deliver(self, message: Published) -> None:
        self.messages.append((message.topic, message.payload))


@pytest.mark.parametrize("topic, error, text", [
    (None, TypeError, "a topic is a str, not NoneType"),
    (b"news", TypeError, "a topic is a str, not bytes"),
    ("", ValueError, "1 to 256 characters, not 0"),
    ("x" * 257, ValueError, "1 to 256 characters, not 257"),
])
def test_bad_topics_are_refused_with_a_message(topic, error, text):
    with pytest.raises(error, match=text):
        check_topic(topic)
    hub = Hub()
    with pytest.raises(error, match=text):
        hub.publish(topic, "x")
    with pytest.raises(error, match=text):
        hub.subscribe(topic, Recorder())


@pytest.mark.parametrize("message", [42, None, 1.5, ["a"], {"a": 1}])
def test_messages_are_str_or_bytes(message):
    with pytest.raises(TypeError, match="str or bytes, not " + type(message).__name__):
        Hub().publish("news", message)


def test_longest_topic_and_unicode_are_fine():
    hub, recorder = Hub(), Recorder()
    hub.subscribe("é" * 256, recorder)
    hub.publish("é" * 256, "ünï")
    assert recorder.messages == [("é" * 256, "ünï".encode())]


def test_hub_delivers_to_the_topic_subscribers_until_they_leave():
    hub, first, second = Hub(), Recorder(), Recorder()
    hub.subscribe("a", first)
    hub.subscribe("b", first)
    hub.subscribe("a", second)
    hub.publish("a", "one")
    hub.publish("b", b"two")
    hub.publish("c", "nobody")
    assert first.messages == [("a", b"one"), ("b", b"two")]
    assert second.messages == [("a", b"one")]
    assert hub.topics_of(first) == {"a", "b"}
    hub.unsubscribe("a", first)
    hub.publish("a", "three")
    assert first.messages[-1] == ("b", b"two")
    hub.leave_all(second)
    hub.publish("a", "four")
    assert second.messages[-1] == ("a", b"three")
    assert hub.topics_of(second) == frozenset() and hub.subscriber_count("a") == 0
    assert hub.stats["published"] == 5 and hub.stats["delivered"] == 4


def test_a_failing_subscriber_does_not_starve_the_others():
    class Broken:
        def deliver(self, message):
            raise RuntimeError("broken")
    hub, good = Hub(), Recorder()
    hub.subscribe("a", Broken())
    hub.subscribe("a", good)
    hub.publish("a", "x")
    assert good.messages == [("a", b"x")]


def test_the_bus_gets_what_is_published():
    class Bus:
        sent: list = []

        def send(self, message):
            self.sent.append((message.topic, message.kind, message.payload))

        def close(self):
            pass
    hub = Hub()
    hub.bus = bus = Bus()
    hub.publish("t", "text")
    hub.publish("t", b"\x00\xff")
    assert bus.sent == [("t", TEXT, b"text"), ("t", BINARY, b"\x00\xff")]


def messages_for_records():
    rng = random.Random(7)
    return [Published(f"topic-{n}-é", n % 2, bytes(rng.randrange(256) for _ in range(rng.randrange(300))))
            for n in range(50)]


@pytest.mark.parametrize("split", ["whole", "bytes", "random"])
def test_relay_records_round_trip_in_any_split(split):
    messages = messages_for_records()
    stream = b"".join(encode(message) for message in messages)
    if split == "whole":
        pieces = [stream]
    elif split == "bytes":
        pieces = [stream[i:i + 1] for i in range(len(stream))]
    else:
        rng, pieces, at = random.Random(3), [], 0
        while at < len(stream):
            size = rng.randrange(1, 700)
            pieces.append(stream[at:at + size])
            at += size
    buffer, decoded = bytearray(), []
    for piece in pieces:
        buffer += piece
        decoded += [decode(record) for record in split_records(buffer)]
    assert buffer == b""
    assert [(m.topic, m.kind, m.payload) for m in decoded] == \
        [(m.topic, m.kind, m.payload) for m in messages]


def client_protocol(deflate=None) -> WebSocketProtocol:
    return WebSocketProtocol(is_client=True, deflate=deflate)


def test_the_shared_frame_reads_as_the_message():
    events = client_protocol().receive_data(Published.of("t", "héllo").websocket_frame() +
                                            Published.of("t", b"\x01\x02").websocket_frame())
    assert events == [TextMessage("héllo"), BinaryMessage(b"\x01\x02")]


@pytest.mark.parametrize("bits", [9, 12, 15])
def test_the_shared_compressed_frame_reads_as_the_message(bits):
    parameters = DeflateParameters(server_no_context_takeover=True, server_max_window_bits=bits)
    message = Published.of("t", "pub/sub " * 200)
    frame = message.deflated_frame(bits)
    assert frame is message.deflated_frame(bits)  # computed once, shared
    assert len(frame) < 120  # a 2-byte header, then the compressed payload
    protocol = client_protocol(parameters)
    assert protocol.receive_data(frame + frame) == [TextMessage("pub/sub " * 200)] * 2
    empty = Published.of("t", b"").deflated_frame(bits)
    assert client_protocol(parameters).receive_data(empty) == [BinaryMessage(b"")]
    assert zlib.decompressobj(-bits).decompress(frame[2:] + b"\x00\x00\xff\xff") == message.payload


def test_event_form_is_data_lines():
    assert Published.of("t", "one\ntwo").event() == b"data: one\ndata: two\n\n"


def test_outbox_queues_what_the_socket_cannot_take_and_refuses_past_its_limit():
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    try:
        outbox = Outbox(ours, threading.Lock(), limit=256 * 1024)
        frames = [bytes([n % 251]) * 1000 for n in range(2000)]
        taken = 0
        for frame in frames:
            if not outbox.offer(frame, lambda: True):
                break
            taken += 1
        assert 0 < taken < len(frames)  # past 256 KiB queued it refused
        assert outbox.failed and outbox.pending <= 256 * 1024
        assert not outbox.offer(b"more", lambda: True)
        # everything taken arrives, whole and in order, once the peer reads (the close
        # that follows an overflow writes the queue out first)
        threading.Thread(target=outbox.write_out, args=(10.0,), daemon=True).start()
        theirs.settimeout(5)
        expected = b"".join(frames[:taken])
        received = bytearray()
        deadline = time.monotonic() + 10
        while len(received) < len(expected) and time.monotonic() < deadline:
            received += theirs.recv(65536)
        assert bytes(received) == expected
    finally:
        ours.close()
        theirs.close()


def test_outbox_never_writes_under_another_writer_and_drains_after_it():
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    try:
        lock = threading.Lock()
        outbox = Outbox(ours, lock)
        lock.acquire()  # another thread is in the middle of a blocking send
        assert outbox.offer(b"first", lambda: True)
        assert outbox.offer(b"second", lambda: True)
        assert outbox.pending == len(b"firstsecond")
        ours.send(b"[theirs]")
        lock.release()
        outbox.drain()  # what Transport.send does after its own write
        theirs.settimeout(5)
        assert theirs.recv(100) == b"[theirs]firstsecond"
    finally:
        ours.close()
        theirs.close()


def test_outbox_sends_nothing_once_the_connection_is_closing():
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.setblocking(False)
    try:
        outbox = Outbox(ours, threading.Lock())
        assert outbox.offer(b"frame", lambda: False)
        with pytest.raises(BlockingIOError):
            theirs.recv(100)
    finally:
        ours.close()
        theirs.close()


def settings_with(**overrides) -> Settings:
    config = default_config(("127.0.0.1", 0))
    config.update(overrides)
    return Settings(config)


@pytest.mark.parametrize("value", ["redis://localhost:6379/0", "rediss://user:pw@redis.example:6380/2",
                                   "redis://127.0.0.1", "local"])
def test_pubsub_accepts_local_and_redis_urls(value):
    assert settings_with(pubsub=value).pubsub == value


@pytest.mark.parametrize("value", ["", "Local", "redis://", "redis://host:port/0", "redis://host/db",
                                   "http://host:6379/0", None, 1])
def test_pubsub_refuses_anything_else_in_one_line(value):
    with pytest.raises(ConfigError, match=r"config\['pubsub'\] = .*expected 'local' or 'redis://|"
                                          r"not a Redis URL") as caught:
        settings_with(pubsub=value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("value", [0, 100, -1, "1MB", None, True])
def test_max_backpressure_is_checked(value):
    with pytest.raises(ConfigError, match=r"config\['max_backpressure'\]"):
        settings_with(max_backpressure=value)


def test_redis_config_without_the_package_names_the_extra():
    code = ("import sys; sys.modules['redis'] = None\n"
            "from outside import OutsideHTTP\n"
            "app = OutsideHTTP(('127.0.0.1', 0))\n"
            "app.config.update(workers=1, pubsub='redis://127.0.0.1:1/0')\n"
            "app.run()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                            env=dict(os.environ))
    assert result.returncode != 0
    assert "pip install 'outside[redis]'" in result.stderr
    assert "Listening" not in result.stderr


def test_the_package_imports_without_redis():
    code = ("import sys; sys.modules['redis'] = None\n"
            "import outside, outside.pubsub, outside.server, outside.server.pubsub_redis\n"
            "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == "ok", result.stderr
