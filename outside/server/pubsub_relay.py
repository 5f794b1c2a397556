"""``config["pubsub"] = "local"`` with several worker processes: the supervisor relays.

Each worker gets one end of a ``socketpair`` when it is forked (``Relay.open``). A
message published in a worker goes to its local subscribers at once, and as one
record to the supervisor, whose relay thread copies every whole record to every other
worker, in the order it arrived; each worker's ``RelayBus`` thread reads its end and
hands the messages to its hub. A record: a 4-byte big-endian length, then the kind
(1 byte), the topic's length (2 bytes), the UTF-8 topic and the payload.

The supervisor never waits for a worker: what a worker's socket cannot take is
queued for it (up to ``MAX_QUEUED`` bytes, past that the records are dropped, counted
and logged: that worker is not reading at all).
"""
from __future__ import annotations

import logging
import os
import select
import socket
import struct
import threading
from typing import Any, Dict, List, Optional

from ..pubsub import Hub, Published, turn
from .pubsub_outbox import flusher

logger = logging.getLogger("outside")

MAX_QUEUED = 64 * 1024 * 1024  # bytes queued in the supervisor for one worker
_HEAD = struct.Struct(">IBH")   # record length (after these 4 bytes), kind, topic length
_BUFFER = 4 * 1024 * 1024       # socket buffers of the relay's pairs


def encode(message: Published) -> bytes:
    topic = message.topic.encode("utf-8")
    return _HEAD.pack(3 + len(topic) + len(message.payload), message.kind, len(topic)) + \
        topic + message.payload


def split_records(buffer: bytearray) -> List[bytes]:
    """Take the whole records off the front of ``buffer``."""
    records = []
    start = 0
    while len(buffer) - start >= 4:
        length = int.from_bytes(buffer[start:start + 4], "big")
        end = start + 4 + length
        if end > len(buffer):
            break
        records.append(bytes(buffer[start:end]))
        start = end
    del buffer[:start]
    return records


def decode(record: bytes) -> Published:
    _, kind, topic_length = _HEAD.unpack_from(record)
    topic_end = _HEAD.size + topic_length
    return Published(record[_HEAD.size:topic_end].decode("utf-8"), kind, record[topic_end:])


def _pair() -> tuple[socket.socket, socket.socket]:
    ours, theirs = socket.socketpair()
    for sock in (ours, theirs):
        for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
            try:
                sock.setsockopt(socket.SOL_SOCKET, option, _BUFFER)
            except OSError:
                pass
    return ours, theirs


class _Peer:
    __slots__ = ("inbox", "outbox", "sock", "warned")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inbox = bytearray()
        self.outbox = bytearray()
        self.warned = False


class Relay:
    """The supervisor's side: one socket per worker, a thread that copies records."""

    def __init__(self) -> None:
        self._peers: Dict[int, _Peer] = {}   # by the supervisor end's fd
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._stopped = False
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="outside-pubsub-relay", daemon=True)
        self._thread.start()

    def open(self) -> tuple[int, socket.socket]:
        """A new worker's pair, before the fork: (a key for ``close``, the worker's end)."""
        ours, theirs = _pair()
        ours.setblocking(False)
        with self._lock:
            self._peers[ours.fileno()] = _Peer(ours)
        self._wake()
        return ours.fileno(), theirs

    def close(self, key: int) -> None:
        """The worker of ``key`` has exited."""
        with self._lock:
            peer = self._peers.pop(key, None)
        if peer is not None:
            peer.sock.close()
        self._wake()

    def in_child(self) -> None:
        """In a freshly forked worker: close the supervisor's ends."""
        for peer in list(self._peers.values()):
            peer.sock.close()
        self._wake_r.close()
        self._wake_w.close()

    def stop(self) -> None:
        self._stopped = True
        self._wake()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass

    def _run(self) -> None:
        while not self._stopped:
            with self._lock:
                peers = dict(self._peers)
            poller = select.poll()
            poller.register(self._wake_r, select.POLLIN)
            for fd, peer in peers.items():
                poller.register(fd, select.POLLIN | (select.POLLOUT if peer.outbox else 0))
            try:
                events = poller.poll(1000)
            except OSError:
                continue
            for fd, mask in events:
                found = peers.get(fd)
                if found is None:
                    try:
                        self._wake_r.recv(4096)
                    except OSError:
                        pass
                    continue
                if mask & select.POLLOUT:
                    self._flush(found)
                if mask & (select.POLLIN | select.POLLHUP | select.POLLERR):
                    self._read(fd, found, peers)

    def _read(self, fd: int, source: _Peer, peers: Dict[int, _Peer]) -> None:
        try:
            data = source.sock.recv(1024 * 1024)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.close(fd)
            return
        source.inbox += data
        records = split_records(source.inbox)
        if not records:
            return
        joined = b"".join(records)
        for other_fd, peer in peers.items():
            if other_fd != fd and peer.sock.fileno() >= 0:
                self._queue(peer, joined)

    def _queue(self, peer: _Peer, data: bytes) -> None:
        if len(peer.outbox) + len(data) > MAX_QUEUED:
            self.dropped += 1
            if not peer.warned:
                peer.warned = True
                logger.error("pubsub relay: a worker reads no messages (%d bytes queued): "
                             "dropping messages for it", len(peer.outbox))
            return
        peer.warned = False
        peer.outbox += data
        self._flush(peer)

    def _flush(self, peer: _Peer) -> None:
        while peer.outbox:
            try:
                sent = peer.sock.send(peer.outbox)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                peer.outbox.clear()
                return
            del peer.outbox[:sent]


class RelayBus:
    """A worker's side: writes its published messages to the supervisor, and a thread
    hands the other workers' messages to this process's ``hub``."""

    def __init__(self, hub: Hub, sock: socket.socket) -> None:
        self._hub = hub
        self._sock = sock
        sock.setblocking(True)
        self._send_lock = threading.Lock()
        self._reader: Optional[threading.Thread] = threading.Thread(
            target=self._run, name="outside-pubsub", daemon=True)
        self._reader.start()

    def send(self, message: Published) -> None:
        self.send_many([message])

    def send_many(self, messages: List[Published]) -> None:
        """The records of ``messages``, in one write (a turn's burst)."""
        records = b"".join([encode(message) for message in messages])
        with self._send_lock:  # whole records, one writer at a time
            try:
                self._sock.sendall(records)
            except OSError:  # the supervisor is gone: this worker stops soon
                self._hub.stats["lost"] += len(messages)

    def _run(self) -> None:
        buffer = bytearray()
        deliver = self._hub.deliver
        while True:
            try:
                data = self._sock.recv(1024 * 1024)
            except OSError:
                data = b""
            if not data:
                return
            buffer += data
            with turn():  # the records of one read: one send per subscriber
                for record in split_records(buffer):
                    deliver(decode(record))

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _hand_to_flusher(targets: Any, message: Published) -> None:
    flusher().hand(targets, message)


def configure_worker(hub: Hub, settings: Any, relay_end: Any = None) -> None:
    """Give this process's hub its bus (after the fork; in the single process too)."""
    hub.max_backpressure = settings.max_backpressure
    hub.hand_off = _hand_to_flusher  # publishes outside a turn: a burst per flusher wake-up
    if settings.pubsub != "local":
        from .pubsub_redis import RedisBus
        hub.bus = RedisBus(hub, settings.pubsub, os.getpid())
    elif relay_end is not None:
        hub.bus = RelayBus(hub, relay_end)
    else:
        hub.bus = None
