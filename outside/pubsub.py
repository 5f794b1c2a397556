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

import contextlib
import logging
import threading
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Optional,
    Protocol,
    Sequence,
    Set,
    Tuple,
    Union,
)

from ._speedups import compiled_module

logger = logging.getLogger("outside")

MAX_TOPIC_LENGTH = 256
# A run's joined frames stop growing past this: a long burst goes out in pieces that a
# reading subscriber's socket takes as they come, not as one block past max_backpressure.
RUN_BYTES = 64 * 1024
TEXT, BINARY = 0, 1


class Subscriber(Protocol):
    """What the hub needs of a subscriber: a delivery that never blocks. (A subscriber
    may also have an ``outbox``, a ``form`` and ``overflowed()``: see ``fan_out_py``.)"""

    def deliver(self, message: Published) -> None:
        """Queue ``message`` for the client without waiting for it."""


class Bus(Protocol):
    """Carries a message published here to the other processes (and back from them)."""

    def send(self, message: Published) -> None:
        """Hand ``message`` to the other processes; never raises for a bus failure.
        (A bus may also have ``send_many(messages)``, for the messages of a turn.)"""

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


class Frames(dict):
    """The wire forms of a run of messages, joined once per form and shared by every
    subscriber that wants that form (a subscriber's ``form``: 0 for the plain WebSocket
    frames, a window size for the frames compressed without context)."""

    def __init__(self, messages: List[Published]) -> None:
        super().__init__()
        self.messages = messages

    def __missing__(self, form: int) -> bytes:
        messages = self.messages
        if form:
            data = b"".join([message.deflated_frame(form) for message in messages])
        elif len(messages) == 1:
            data = messages[0].websocket_frame()
        else:
            data = b"".join([message.websocket_frame() for message in messages])
        self[form] = data
        return data


def fan_out_py(subscribers: Sequence[Any], frames: Frames, generic: List[Any],
               overflowed: List[Any]) -> None:
    """Offer each subscriber's form of ``frames`` to its outbox (sends what its socket
    takes now, queues the rest). Subscribers without an ``outbox`` go to ``generic``
    (the caller calls their ``deliver``), those whose outbox refused (past its limit, or
    failed) to ``overflowed``. The pure twin of ``outside._speedups._fanout.fan_out``,
    which sends on plain sockets with no Python call per subscriber."""
    for subscriber in subscribers:
        try:
            outbox = getattr(subscriber, "outbox", None)
            if outbox is None:
                generic.append(subscriber)
            elif not outbox.offer(frames[subscriber.form], outbox.is_open):
                overflowed.append(subscriber)
        except Exception:  # one subscriber's failure must not starve the others
            logger.exception("pubsub delivery to %r failed", subscriber)


_fanout = compiled_module("_fanout")
fan_out: Callable[[Sequence[Any], Frames, List[Any], List[Any]], None] = \
    _fanout.fan_out if _fanout is not None else fan_out_py


class _Topic:
    """The subscribers of one topic and a snapshot of them (remade after a change): the
    messages published between two changes share one snapshot, hence one run."""

    __slots__ = ("members", "snapshot")

    def __init__(self) -> None:
        self.members: Set[Any] = set()
        self.snapshot: Optional[Tuple[Any, ...]] = None


_turn = threading.local()  # ``pending``, ``outgoing``: what this thread's ``turn()`` holds back


@contextlib.contextmanager
def turn() -> Iterator[None]:
    """Within the block, what this thread publishes (or delivers from the bus) is held
    back; at its end it goes out: the messages to the same subscribers joined, one
    ``send`` per subscriber (a burst of messages costs one system call each, not one
    per message), and the messages for the bus in one write. The engine runs an
    ``on_message`` turn and each relay read in one."""
    if getattr(_turn, "pending", None) is not None:  # nested: the outer block delivers
        yield
        return
    pending: List[Tuple[Tuple[Any, ...], Published]] = []
    outgoing: List[Tuple[Bus, Published]] = []
    _turn.pending, _turn.outgoing = pending, outgoing
    try:
        yield
    finally:
        _turn.pending = _turn.outgoing = None
        deliver_runs(pending)
        if outgoing:
            _send_on_buses(outgoing)


def _send_on_buses(outgoing: List[Tuple[Bus, Published]]) -> None:
    index = 0
    while index < len(outgoing):  # the messages of one bus (the usual case: one bus)
        bus = outgoing[index][0]
        end = index + 1
        while end < len(outgoing) and outgoing[end][0] is bus:
            end += 1
        messages = [message for _, message in outgoing[index:end]]
        index = end
        send_many = getattr(bus, "send_many", None)
        if send_many is not None:
            send_many(messages)
        else:
            for message in messages:
                bus.send(message)


def deliver_runs(pending: List[Tuple[Tuple[Any, ...], Published]]) -> None:
    """Deliver (snapshot, message) pairs in order: consecutive messages to the same
    snapshot of subscribers form a run (of about ``RUN_BYTES`` at most), whose frames
    are joined once."""
    index, count = 0, len(pending)
    while index < count:
        targets = pending[index][0]
        end, size = index + 1, len(pending[index][1].payload)
        while end < count and pending[end][0] is targets and size < RUN_BYTES:
            size += len(pending[end][1].payload)
            end += 1
        messages = [message for _, message in pending[index:end]]
        index = end
        generic: List[Any] = []
        overflowed: List[Any] = []
        try:
            fan_out(targets, Frames(messages), generic, overflowed)
        except Exception:  # a bug here must not stop the publisher; logged
            logger.exception("pubsub fan-out failed")
        for subscriber in generic:
            for message in messages:
                try:
                    subscriber.deliver(message)
                except Exception:  # one subscriber's failure must not starve the others
                    logger.exception("pubsub delivery to %r failed", subscriber)
        for subscriber in overflowed:
            try:
                subscriber.overflowed()
            except Exception:
                logger.exception("pubsub: dropping %r failed", subscriber)


def _deliver_now(targets: Tuple[Any, ...], message: Published) -> None:
    deliver_runs([(targets, message)])


class Hub:
    """The topics of this process's subscribers, and the bus to the other processes."""

    def __init__(self) -> None:
        self._topics: Dict[str, _Topic] = {}
        self._joined: Dict[Subscriber, Set[str]] = {}  # each subscriber's topics
        self._lock = threading.Lock()
        self.bus: Optional[Bus] = None
        self.max_backpressure = 1024 * 1024
        # a publish outside a turn: delivered at once (the engine hands it to its
        # flusher thread instead, which joins the messages of a burst)
        self.hand_off: Callable[[Tuple[Any, ...], Published], None] = _deliver_now
        # counters (read by tests, the log and the metrics): messages published here,
        # delivered to local subscribers, subscribers dropped for reading too slowly,
        # messages the bus lost (Redis unreachable), bus reconnections; and the gauge of
        # current subscriptions (subscriber, topic pairs)
        self.stats = {"published": 0, "delivered": 0, "dropped": 0, "lost": 0,
                      "reconnects": 0, "subscriptions": 0}

    def publish(self, topic: Any, message: Union[str, bytes]) -> None:
        """Deliver ``message`` to the subscribers of ``topic`` here and on the bus."""
        published = Published.of(topic, message)
        self.stats["published"] += 1
        self.deliver(published)
        bus = self.bus
        if bus is not None:
            outgoing = getattr(_turn, "outgoing", None)
            if outgoing is not None:
                outgoing.append((bus, published))
            else:
                bus.send(published)

    def deliver(self, message: Published) -> None:
        """Give ``message`` to this process's subscribers of its topic: now, or at the
        end of this thread's ``turn()``."""
        topic = self._topics.get(message.topic)
        if topic is None:
            return
        targets = topic.snapshot
        if targets is None:
            with self._lock:
                targets = topic.snapshot = tuple(topic.members)
        if not targets:
            return
        self.stats["delivered"] += len(targets)
        pending = getattr(_turn, "pending", None)
        if pending is not None:
            pending.append((targets, message))
        else:
            self.hand_off(targets, message)

    def subscribe(self, topic: Any, subscriber: Subscriber) -> None:
        check_topic(topic)
        with self._lock:
            found = self._topics.get(topic)
            if found is None:
                found = self._topics[topic] = _Topic()
            if subscriber not in found.members:
                found.members.add(subscriber)
                found.snapshot = None
                self.stats["subscriptions"] += 1
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
        found = self._topics.get(topic)
        if found is not None and subscriber in found.members:
            found.members.discard(subscriber)
            found.snapshot = None
            self.stats["subscriptions"] -= 1
            if not found.members:
                del self._topics[topic]

    def subscriber_count(self, topic: str) -> int:
        found = self._topics.get(topic)
        return len(found.members) if found is not None else 0

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
    """This process's counters: ``published``, ``delivered``, ``dropped``, ``lost``,
    ``reconnects`` (of the Redis bus), and the gauge ``subscriptions``."""
    return dict(hub.stats)
