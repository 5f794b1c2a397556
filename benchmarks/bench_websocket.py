"""WebSocket codec speed: unmasking throughput, and frames parsed + serialized per second.

Unmasking (16 B, 1 KiB, 64 KiB, 1 MiB), each contender that is installed:

- ``outside-c`` / ``outside-py``: ``mask_in_place`` of ``outside.speedups.WebSocketMaskC``
  / ``...Py`` on a bytearray (what a reader does with a buffered payload);
- ``outside-c-copy``: ``apply_mask``, which returns new bytes (what the frame parser uses:
  it reads the socket buffer and writes the payload in one pass);
- ``aiohttp-c`` / ``aiohttp-py``: aiohttp's in-place mask, compiled and pure;
- ``websockets-c``: ``websockets.speedups.apply_mask`` (returns new bytes).

Frames: a stream of 100 masked client frames (32 B binary, as a chat message; or 64 KiB)
parsed by a fresh parser, and the 100 frames serialized back, per round, by both twins,
``websockets``' ``Frame.parse``/``serialize`` (with its C mask) and ``wsproto``.

Protocol echo: the same 100 frames fed to an open server-side protocol object, each
message taken from its events and sent back: ``WebSocketProtocol`` over each twin,
``websockets``' ``ServerProtocol`` and ``wsproto``'s ``WSConnection`` (no sockets: the
cost of the sans-I/O core per message echoed).

    pytest benchmarks/bench_websocket.py --benchmark-enable     # pytest-benchmark tables
    python -m benchmarks.bench_websocket --repeat 5             # medians and ratios

The second form runs all contenders side by side in a rotating order, ``--repeat`` times,
and prints median GB/s (masks) and frames/s (codecs) with the median ratio of each to the
reference (the tables in ``benchmarks/README.md``).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from itertools import repeat
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from outside import speedups

SIZES = {"16 B": 16, "1 KiB": 1024, "64 KiB": 64 * 1024, "1 MiB": 1024 * 1024}
KEY = os.urandom(4)
# A contender: a function and its arguments (no lambda between the timer and the call).
Run = Tuple[Callable[..., Any], tuple]


# --------------------------------------------------------------------------- masks

def _outside_mask(module, data: bytearray) -> Optional[Run]:
    if module is None:
        return None
    return module.mask_in_place, (data, KEY)


def _aiohttp_mask(compiled: bool, data: bytearray) -> Optional[Run]:
    try:
        if compiled:
            from aiohttp._websocket.mask import _websocket_mask_cython as mask
        else:
            from aiohttp._websocket.helpers import _websocket_mask_python as mask
    except ImportError:
        return None
    return mask, (KEY, data)


def _websockets_mask(data: bytes) -> Optional[Run]:
    try:
        from websockets.speedups import apply_mask
    except ImportError:
        return None
    return apply_mask, (data, KEY)


def mask_contenders(size: int) -> Dict[str, Optional[Run]]:
    """name -> a call masking one buffer of ``size`` bytes (None: not installed)."""
    payload = os.urandom(size)
    copy_mask = speedups.WebSocketMaskC
    return {
        "outside-c": _outside_mask(speedups.WebSocketMaskC, bytearray(payload)),
        "outside-c-copy": None if copy_mask is None else (copy_mask.apply_mask, (payload, KEY)),
        "outside-py": _outside_mask(speedups.WebSocketMaskPy, bytearray(payload)),
        "aiohttp-c": _aiohttp_mask(True, bytearray(payload)),
        "aiohttp-py": _aiohttp_mask(False, bytearray(payload)),
        "websockets-c": _websockets_mask(payload),
    }


# --------------------------------------------------------------------------- frame codecs

FRAME_COUNT = 100
FRAME_SIZES = {"32 B frames": 32, "64 KiB frames": 64 * 1024}


def _client_stream(size: int) -> tuple:
    payloads = [os.urandom(size) for _ in range(FRAME_COUNT)]
    stream = b"".join(speedups.WebSocketFramesPy.serialize_frame(2, payload, True, False,
                                                                 os.urandom(4))
                      for payload in payloads)
    return payloads, stream


def _outside_codec(module, size: int) -> Optional[Run]:
    if module is None:
        return None
    payloads, stream = _client_stream(size)
    serialize = module.serialize_frame

    def run() -> int:
        parser = module.FrameParser(masked=True)
        parser.feed(stream)
        count = 0
        while parser.next_frame() is not None:
            count += 1
        for payload in payloads:
            serialize(2, payload)
        return count
    return run, ()


def _websockets_codec(size: int) -> Optional[Run]:
    try:
        from websockets.frames import Frame, Opcode
        from websockets.streams import StreamReader
    except ImportError:
        return None
    payloads, stream = _client_stream(size)

    def run() -> int:
        reader = StreamReader()
        reader.feed_data(stream)
        count = 0
        for _ in range(FRAME_COUNT):
            parser = Frame.parse(reader.read_exact, mask=True)
            try:
                next(parser)
            except StopIteration:
                count += 1
        for payload in payloads:
            Frame(Opcode.BINARY, payload).serialize(mask=False)
        return count
    return run, ()


def _wsproto_codec(size: int) -> Optional[Run]:
    try:
        from wsproto.frame_protocol import FrameProtocol
    except ImportError:
        return None
    payloads, stream = _client_stream(size)
    writer = FrameProtocol(client=False, extensions=[])

    def run() -> int:
        protocol = FrameProtocol(client=False, extensions=[])
        protocol.receive_bytes(stream)
        count = sum(1 for _ in protocol.received_frames())
        for payload in payloads:
            writer.send_data(payload, fin=True)
        return count
    return run, ()


def codec_contenders(size: int) -> Dict[str, Optional[Run]]:
    """name -> a call that parses FRAME_COUNT frames and serializes as many."""
    return {
        "outside-c": _outside_codec(speedups.WebSocketFramesC, size),
        "outside-py": _outside_codec(speedups.WebSocketFramesPy, size),
        "websockets": _websockets_codec(size),
        "wsproto": _wsproto_codec(size),
    }


# --------------------------------------------------------------------------- protocol echo

def _outside_protocol(module) -> Optional[Run]:
    if module is None:
        return None
    from outside.websocket.protocol import WebSocketProtocol
    _, stream = _client_stream(32)
    protocol = WebSocketProtocol(frames=module)

    def run() -> int:
        count = 0
        for event in protocol.receive_data(stream):
            protocol.send_binary(event.data)
            count += 1
        return count
    return run, ()


def _websockets_protocol() -> Optional[Run]:
    try:
        from websockets.frames import Opcode
        from websockets.protocol import State
        from websockets.server import ServerProtocol
    except ImportError:
        return None
    _, stream = _client_stream(32)
    protocol = ServerProtocol(state=State.OPEN, max_size=None)

    def run() -> int:
        protocol.receive_data(stream)
        count = 0
        for frame in protocol.events_received():
            if frame.opcode is Opcode.BINARY:
                protocol.send_binary(frame.data)
                count += 1
        protocol.data_to_send()
        return count
    return run, ()


def _wsproto_protocol() -> Optional[Run]:
    try:
        from wsproto.connection import Connection, ConnectionType
        from wsproto.events import BytesMessage
    except ImportError:
        return None
    _, stream = _client_stream(32)
    protocol = Connection(ConnectionType.SERVER)

    def run() -> int:
        protocol.receive_data(stream)
        count = 0
        for event in protocol.events():
            if isinstance(event, BytesMessage):
                protocol.send(BytesMessage(event.data))
                count += 1
        return count
    return run, ()


def protocol_contenders() -> Dict[str, Optional[Run]]:
    """name -> a call that echoes FRAME_COUNT 32-byte messages through an open protocol."""
    return {
        "outside-c": _outside_protocol(speedups.WebSocketFramesC),
        "outside-py": _outside_protocol(speedups.WebSocketFramesPy),
        "websockets": _websockets_protocol(),
        "wsproto": _wsproto_protocol(),
    }


# --------------------------------------------------------------------------- pytest-benchmark

def _checked(run: Optional[Run], name: str) -> Run:
    if run is None:
        pytest.skip(f"{name} is not available")
    return run


@pytest.mark.parametrize("name", list(mask_contenders(16)))
@pytest.mark.parametrize("size", list(SIZES))
def test_unmask(benchmark, size: str, name: str) -> None:
    run = _checked(mask_contenders(SIZES[size])[name], name)
    benchmark.group = f"unmask {size}"
    benchmark.extra_info["bytes"] = SIZES[size]
    benchmark(run[0], *run[1])


@pytest.mark.parametrize("name", list(codec_contenders(32)))
@pytest.mark.parametrize("size", list(FRAME_SIZES))
def test_parse_and_serialize(benchmark, size: str, name: str) -> None:
    run = _checked(codec_contenders(FRAME_SIZES[size])[name], name)
    benchmark.group = f"parse+serialize {FRAME_COUNT} x {size}"
    benchmark.extra_info["frames_per_round"] = FRAME_COUNT
    assert benchmark(run[0], *run[1]) == FRAME_COUNT


@pytest.mark.parametrize("name", list(protocol_contenders()))
def test_protocol_echo(benchmark, name: str) -> None:
    run = _checked(protocol_contenders()[name], name)
    benchmark.group = f"protocol echo {FRAME_COUNT} x 32 B"
    benchmark.extra_info["messages_per_round"] = FRAME_COUNT
    assert benchmark(run[0], *run[1]) == FRAME_COUNT


# --------------------------------------------------------------------------- side by side

def _batch(run: Run, calls: int) -> float:
    function, arguments = run
    start = time.perf_counter()
    for _ in repeat(None, calls):
        function(*arguments)
    return time.perf_counter() - start


def _calls_per_second(run: Run, seconds: float) -> float:
    """The best rate over batches of about a tenth of ``seconds`` each."""
    calls = 1
    while _batch(run, calls) < seconds / 10:
        calls *= 4
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        best = max(best, calls / _batch(run, calls))
    return best


def measure(contenders: Dict[str, Dict[str, Optional[Run]]], repeat: int,
            seconds: float) -> Dict[str, Dict[str, List[float]]]:
    """workload -> contender -> calls/s, one value per repeat, contenders rotating."""
    results: Dict[str, Dict[str, List[float]]] = {}
    for workload, runs in contenders.items():
        names = [name for name, run in runs.items() if run is not None]
        results[workload] = {name: [] for name in names}
        for round_index in range(repeat):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                results[workload][name].append(_calls_per_second(runs[name], seconds))
    return results


def _figure(value: float) -> str:
    """Three significant digits or more, without exponents."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def table(results: Dict[str, Dict[str, List[float]]], unit: str, scale: Callable[[str], float],
          reference: str) -> str:
    names = list(next(iter(results.values())))
    lines = [f"| {unit} | " + " | ".join(names) + " |",
             "| --- |" + " --- |" * len(names)]
    for workload, by_name in results.items():
        cells = []
        for name in names:
            if name not in by_name:
                cells.append("-")
                continue
            median = statistics.median(by_name[name]) * scale(workload)
            ratios = [mine / theirs for mine, theirs in zip(by_name[name], by_name[reference])]
            cells.append(f"{_figure(median)} ({statistics.median(ratios):.2f}x)")
        lines.append(f"| {workload} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.4, help="per contender per repeat")
    arguments = parser.parse_args()
    masks = measure({label: mask_contenders(size) for label, size in SIZES.items()},
                    arguments.repeat, arguments.seconds)
    for reference in ("aiohttp-c", "websockets-c"):
        print(f"Unmask, GB/s (median of {arguments.repeat}; ratio to {reference}):")
        print(table(masks, "size", lambda label: SIZES[label] / 1e9, reference) + "\n")
    codecs = measure({label: codec_contenders(size) for label, size in FRAME_SIZES.items()},
                     arguments.repeat, arguments.seconds)
    print(f"Parse + serialize, thousand frames/s (median of {arguments.repeat}; "
          "ratio to websockets):")
    print(table(codecs, "workload", lambda label: FRAME_COUNT / 1e3, "websockets"))
    echoes = measure({"32 B messages": protocol_contenders()}, arguments.repeat, arguments.seconds)
    print(f"\nProtocol echo, thousand messages/s (median of {arguments.repeat}; "
          "ratio to websockets):")
    print(table(echoes, "workload", lambda label: FRAME_COUNT / 1e3, "websockets"))


if __name__ == "__main__":
    main()
