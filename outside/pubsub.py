"""Publish/subscribe: ``server.publish(topic, message)`` reaches every WebSocket
connection and ``EventStream`` that called ``subscribe(topic)``, in every worker process
(``config["pubsub"]`` = ``"local"``) or on every server that shares a Redis
(``"redis://host:port/db"``). ``docs/pubsub.md`` states the guarantees.

Each process has one ``Hub``: the topics of its local subscribers and the ``bus`` that
carries messages to the other processes (None: this process only, as with one worker
or the test client). A message is framed once per process (``Published`` caches its
WebSocket frame and its event-stream form) and the same bytes go to every subscriber.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Dict, Optional, Protocol, Set, Union

logger = logging.getLogger("outside")

MAX_TOPIC_LENGTH = 256
TEXT, BINARY = 0, 1


class Subscriber(Protocol):
    """What the hub needs of a subscriber: a delivery that never blocks."""

    def deliver(self, message: Published) -> None:
        """Queue ``message`` for the client without waiting for it."""


class Bus(Protocol):
    """Carries a message published here to the other processes (and back from them)."""

    def send(self, message: Published) -> None:
        """Hand ``message`` to the other processes; never raises for a bus failure."""

    def close(self) -> None:
        """Stop carrying messages."""


def check_topic(topic: Any) -> str:
    """``topic`` if it is a non-empty ``str`` of at most 256 characters; else raise."""
    if not isinstance(topic, str):
        raise TypeError(f"a topic is a str, not {type(topic).__name__}")
    if not topic or len(topic) > MAX_TOPIC_LENGTH:
        raise ValueError(f"a topic has 1 to {MAX_TOPIC_LENGTH} characters, not {len(topic)}")
    return topic


class Published:
    """One published message: ``topic``, ``kind`` (TEXT or BINARY) and ``payload``
    (UTF-8 for text). Its wire forms are computed once, on first use."""

    __slots__ = ("_deflated", "_event", "_frame", "kind", "payload", "topic")

    def __init__(self, topic: str, kind: int, payload: bytes) -> None:
        self.topic = topic
        self.kind = kind
        self.payload = payload
        self._frame: Optional[bytes] = None
        self._deflated: Dict[int, bytes] = {}
        self._event: Optional[bytes] = None

    @classmethod
    def of(cls, topic: Any, message: Any) -> Published:
        """Check ``topic`` and ``message`` (``str`` or ``bytes``) as ``publish`` does."""
        check_topic(topic)
        if isinstance(message, str):
            return cls(topic, TEXT, message.encode("utf-8"))
        if isinstance(message, (bytes, bytearray, memoryview)):
            return cls(topic, BINARY, bytes(message))
        raise TypeError(f"a published message is str or bytes, not {type(message).__name__}")

    def websocket_frame(self) -> bytes:
        """The unmasked, uncompressed frame a server sends (shared by all subscribers)."""
        frame = self._frame
        if frame is None:
            from .websocket.frames import OP_BINARY, OP_TEXT
            from .websocket.twins import WebSocketFrames
            opcode = OP_TEXT if self.kind == TEXT else OP_BINARY
            frame = self._frame = WebSocketFrames.serialize_frame(opcode, self.payload)
        return frame

    def deflated_frame(self, window_bits: int) -> bytes:
        """The frame compressed without context (``server_no_context_takeover``): the
        same bytes for every connection that negotiated that window."""
        frame = self._deflated.get(window_bits)
        if frame is None:
            import zlib

            from .websocket.frames import OP_BINARY, OP_TEXT
            from .websocket.twins import WebSocketFrames
            compressor = zlib.compressobj(6, zlib.DEFLATED, -window_bits, 5)
            data = compressor.compress(self.payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
            data = (data[:-4] if data.endswith(b"\x00\x00\xff\xff") else data) or b"\x00"
            opcode = OP_TEXT if self.kind == TEXT else OP_BINARY
            frame = self._deflated[window_bits] = WebSocketFrames.serialize_frame(
                opcode, data, True, True)
        return frame

    def event(self) -> bytes:
        """The message as one Server-Sent Event (``data:`` lines of its text)."""
        event = self._event
        if event is None:
            from .http.sse import format_event
            event = self._event = format_event(self.payload.decode("utf-8", "replace"))
        return event


class Hub:
    """The topics of this process's subscribers, and the bus to the other processes."""

    def __init__(self) -> None:
        self._topics: Dict[str, Set[Subscriber]] = {}
        self._joined: Dict[Subscriber, Set[str]] = {}  # each subscriber's topics
        self._lock = threading.Lock()
        self.bus: Optional[Bus] = None
        self.max_backpressure = 1024 * 1024
        # counters (read by tests and the log): messages published here, delivered to
        # local subscribers, subscribers dropped for reading too slowly, messages the
        # bus lost (Redis unreachable)
        self.stats = {"published": 0, "delivered": 0, "dropped": 0, "lost": 0}

    def publish(self, topic: Any, message: Union[str, bytes]) -> None:
        """Deliver ``message`` to the subscribers of ``topic`` here and on the bus."""
        published = Published.of(topic, message)
        self.stats["published"] += 1
        self.deliver(published)
        bus = self.bus
        if bus is not None:
            bus.send(published)

    def deliver(self, message: Published) -> None:
        """Give ``message`` to this process's subscribers of its topic."""
        subscribers = self._topics.get(message.topic)
        if not subscribers:
            return
        with self._lock:
            targets = list(subscribers)
        for subscriber in targets:
            try:
                subscriber.deliver(message)
            except Exception:  # one subscriber's failure must not starve the others
                logger.exception("pubsub delivery to %r failed", subscriber)
        self.stats["delivered"] += len(targets)

    def subscribe(self, topic: Any, subscriber: Subscriber) -> None:
        check_topic(topic)
        with self._lock:
            self._topics.setdefault(topic, set()).add(subscriber)
            self._joined.setdefault(subscriber, set()).add(topic)

    def unsubscribe(self, topic: Any, subscriber: Subscriber) -> None:
        check_topic(topic)
        with self._lock:
            self._leave(topic, subscriber)

    def leave_all(self, subscriber: Subscriber) -> None:
        """``subscriber`` leaves every topic (its connection is over)."""
        with self._lock:
            for topic in list(self._joined.get(subscriber, ())):
                self._leave(topic, subscriber)

    def topics_of(self, subscriber: Subscriber) -> frozenset:
        """The topics ``subscriber`` is subscribed to."""
        with self._lock:
            return frozenset(self._joined.get(subscriber, ()))

    def _leave(self, topic: str, subscriber: Subscriber) -> None:
        joined = self._joined.get(subscriber)
        if joined is not None:
            joined.discard(topic)
            if not joined:
                del self._joined[subscriber]
        members = self._topics.get(topic)
        if members is not None:
            members.discard(subscriber)
            if not members:
                del self._topics[topic]

    def subscriber_count(self, topic: str) -> int:
        return len(self._topics.get(topic, ()))

    def dropped(self, subscriber: Any, pending: int) -> None:
        """Count and log a subscriber closed for reading too slowly."""
        self.stats["dropped"] += 1
        logger.warning("pubsub: %r read too slowly (%d bytes unsent, max_backpressure %d): "
                       "closed with 1008 (%d dropped so far)", subscriber, pending,
                       self.max_backpressure, self.stats["dropped"])


hub = Hub()  # this process's (the worker sets its bus after the fork)


def publish(topic: str, message: Union[str, bytes]) -> None:
    """Send ``message`` (``str``: a text message, ``bytes``: binary) to every subscriber
    of ``topic``; from any thread. Raises ``TypeError``/``ValueError`` for bad input."""
    hub.publish(topic, message)


def stats() -> Dict[str, int]:
    """This process's counters: ``published``, ``delivered``, ``dropped``, ``lost``."""
    return dict(hub.stats)
