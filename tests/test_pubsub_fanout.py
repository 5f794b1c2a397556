"""The fan-out loop's twins side by side (``outside.pubsub.fan_out_py`` and the compiled
``outside._speedups._fanout.fan_out``), over real socket pairs: peers that read, peers
that never read (dropped past the limit), peers already closed, a peer whose writer is
busy in another thread, a connection that is closing, and one that must take the Python
path (as a TLS socket does). Each twin runs the same script; both must deliver every
message, whole and in order, to the peers that read, and drop the same subscribers."""
from __future__ import annotations

import random
import socket
import threading
import time

import pytest

from outside import speedups
from outside.pubsub import Frames, Published
from outside.server.pubsub_outbox import Outbox
from outside.websocket.protocol import BinaryMessage, TextMessage, WebSocketProtocol

pytestmark = pytest.mark.timeout(60)

LIMIT = 64 * 1024
KINDS = ["reading"] * 4 + ["stalled"] * 3 + ["closed"] * 2 + ["busy", "closing", "python-path"]


class Connection:
    """What the outbox asks of a WebSocket: its state."""

    def __init__(self, state: str) -> None:
        self.state = state


class Subscriber:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.form = 0
        self.dropped = 0

    def overflowed(self) -> None:
        self.dropped += 1


class Plain:
    """A subscriber without an outbox: the fan-out hands it back (``generic``)."""


def twins():
    compiled = speedups.FanOutC
    if compiled is None and not speedups.NO_EXTENSIONS:
        pytest.fail(f"the C fan-out is not built: {speedups.IMPORT_ERRORS.get('_fanout')}")
    return [("py", speedups.FanOutPy)] + ([("c", compiled)] if compiled is not None else [])


def script(seed: int = 11) -> list[list[Published]]:
    """Runs of messages: text and binary, empty to 20 KB (16-bit and 64-bit lengths)."""
    rng = random.Random(seed)
    runs = []
    for number in range(60):
        run = []
        for _ in range(rng.randrange(1, 6)):
            size = rng.choice([0, 1, 125, 126, 3000, rng.randrange(20000)])
            if rng.random() < 0.5:
                run.append(Published.of("t", "é" * (size // 2) + str(number)))
            else:
                run.append(Published.of("t", bytes(rng.randrange(256) for _ in range(size))))
        runs.append(run)
    return runs


def read_ready(sock: socket.socket, into: bytearray) -> None:
    while True:
        try:
            data = sock.recv(1 << 16)
        except BlockingIOError:
            return
        if not data:
            return
        into += data


def run_twin(fan_out, runs: list[list[Published]]) -> dict:
    pairs, subscribers, received = [], [], []
    busy_lock = threading.Lock()
    for kind in KINDS:
        ours, theirs = socket.socketpair()
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)
        ours.setblocking(False)
        theirs.setblocking(False)
        outbox = Outbox(ours, busy_lock if kind == "busy" else threading.Lock(), limit=LIMIT)
        connection = Connection("closing" if kind == "closing" else "open")
        outbox.open_while(connection, "open")
        if kind == "python-path":
            outbox.direct = None  # a TLS socket's outbox has no plain socket to send(2) on
        if kind == "closed":
            theirs.close()
        pairs.append((ours, theirs))
        subscribers.append(Subscriber(outbox))
        received.append(bytearray())
    plain = Plain()
    generics = 0
    try:
        busy_lock.acquire()  # another thread is in the middle of a blocking send
        for number, run in enumerate(runs):
            generic: list = []
            overflowed: list = []
            fan_out(tuple(subscribers) + (plain,), Frames(run), generic, overflowed)
            assert generic == [plain]
            generics += len(generic)
            for subscriber in overflowed:
                subscriber.overflowed()
            if number == 2:
                busy_lock.release()
                subscribers[KINDS.index("busy")].outbox.drain()  # as Transport.send does
            for index, kind in enumerate(KINDS):
                if kind in ("reading", "busy", "python-path", "closing"):
                    read_ready(pairs[index][1], received[index])
        expected = b"".join(b"".join(message.websocket_frame() for message in run) for run in runs)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the flusher writes the rests as peers read
            for index, kind in enumerate(KINDS):
                if kind in ("reading", "busy", "python-path"):
                    read_ready(pairs[index][1], received[index])
            if all(len(received[index]) >= len(expected)
                   for index, kind in enumerate(KINDS) if kind in ("reading", "busy", "python-path")):
                break
            time.sleep(0.01)
        for index, kind in enumerate(KINDS):
            if kind == "stalled":
                read_ready(pairs[index][1], received[index])
        return {"received": [bytes(data) for data in received], "expected": expected,
                "dropped": [subscriber.dropped for subscriber in subscribers],
                "failed": [subscriber.outbox.failed for subscriber in subscribers],
                "generic": generics}
    finally:
        for ours, theirs in pairs:
            ours.close()
            theirs.close()


def messages_of(data: bytes) -> list:
    return WebSocketProtocol(is_client=True).receive_data(data)


def test_both_twins_deliver_in_order_and_drop_the_same_subscribers():
    runs = script()
    results = {name: run_twin(fan_out, runs) for name, fan_out in twins()}
    published = [message for run in runs for message in run]
    wanted = [TextMessage(m.payload.decode()) if m.kind == 0 else BinaryMessage(m.payload)
              for m in published]
    for name, result in results.items():
        expected = result["expected"]
        assert len(expected) > 4 * LIMIT  # the stalled peers must overflow
        for index, kind in enumerate(KINDS):
            got = result["received"][index]
            if kind in ("reading", "busy", "python-path"):
                assert got == expected, (name, kind, len(got), len(expected))
                assert result["dropped"][index] == 0 and not result["failed"][index]
            elif kind == "stalled":
                # dropped once past the limit; what it got is the stream's beginning
                assert result["dropped"][index] >= 1 and result["failed"][index], (name, kind)
                assert 0 < len(got) < len(expected) and expected.startswith(got), (name, kind)
            elif kind == "closed":
                assert result["dropped"][index] >= 1 and result["failed"][index], (name, kind)
            else:  # closing: nothing follows the close, and it is not dropped for it
                assert got == b"" and result["dropped"][index] == 0, (name, kind)
        assert messages_of(result["received"][0]) == wanted
        assert result["generic"] == len(runs)
    if len(results) == 2:
        py, c = results["py"], results["c"]
        # the same bytes wherever the stream is complete (a stalled peer's share depends
        # on when the kernel's buffers filled: each twin's is checked as a prefix above)
        complete = [index for index, kind in enumerate(KINDS) if kind != "stalled"]
        assert [py["received"][i] for i in complete] == [c["received"][i] for i in complete]
        assert py["failed"] == c["failed"]
        assert [count > 0 for count in py["dropped"]] == [count > 0 for count in c["dropped"]]
