"""The WebSocket twins: checks that the compiled ones really loaded and behave exactly
like the pure ones (the fixtures giving each test both are in ``conftest.py``)."""
from __future__ import annotations

import os
import random
from types import ModuleType

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outside import speedups
from outside.websocket.errors import ProtocolError


def test_compiled_twins_are_active_unless_disabled() -> None:
    if speedups.NO_EXTENSIONS:
        assert speedups.WebSocketFrames is speedups.WebSocketFramesPy
        assert speedups.WebSocketMask is speedups.WebSocketMaskPy
    else:
        assert speedups.WebSocketFramesC is not None, speedups.IMPORT_ERRORS
        assert speedups.WebSocketMaskC is not None, speedups.IMPORT_ERRORS
        assert not speedups.WebSocketFramesC.__file__.endswith(".py")
        assert speedups.WebSocketFrames is speedups.WebSocketFramesC


def test_twins_produce_identical_frames_and_parses(frames_twins: tuple) -> None:
    pure, compiled = frames_twins
    rng = random.Random(6455)
    stream = b""
    for _ in range(300):
        opcode = rng.choice([0x0, 0x1, 0x2, 0x8, 0x9, 0xA])
        if opcode >= 8:
            size = rng.randrange(126)
        else:
            size = rng.choice([0, 1, 125, rng.randrange(126, 70000)])
        payload = os.urandom(size)
        key = os.urandom(4)
        fin = opcode >= 8 or rng.random() < 0.5
        one = pure.serialize_frame(opcode, payload, fin, False, key)
        assert compiled.serialize_frame(opcode, payload, fin, False, key) == one
        stream += one
    parsed = {}
    for module in (pure, compiled):
        parser = module.FrameParser(masked=True)
        position, out = 0, []
        while position < len(stream):
            step = rng.randrange(1, 5000)
            parser.feed(stream[position:position + step])
            position += step
            while (frame := parser.next_frame()) is not None:
                out.append((frame.fin, frame.rsv1, frame.opcode, frame.payload))
        parsed[module] = out
    assert parsed[pure] == parsed[compiled]
    assert len(parsed[pure]) == 300


def _outcome(module: ModuleType, pieces: list, options: dict) -> tuple:
    """Frames parsed from ``pieces`` and the close code that stopped the parser, if any."""
    parser = module.FrameParser(**options)
    frames_out = []
    try:
        for piece in pieces:
            parser.feed(piece)
            while (frame := parser.next_frame()) is not None:
                frames_out.append((frame.fin, frame.rsv1, frame.opcode, frame.payload))
    except ProtocolError as exc:
        return frames_out, exc.code
    return frames_out, None


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # a constant pair
@given(data=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=4),
       masked=st.booleans(), allow_rsv1=st.booleans(), max_payload=st.integers(0, 300))
def test_twins_agree_on_arbitrary_bytes(frames_twins: tuple, data: bytes, cuts: list,
                                        masked: bool, allow_rsv1: bool, max_payload: int) -> None:
    compiled = frames_twins[1]
    bounds = sorted(min(cut, len(data)) for cut in cuts)
    pieces = [data[start:end] for start, end in zip([0] + bounds, bounds + [len(data)])]
    options = {"masked": masked, "allow_rsv1": allow_rsv1, "max_payload": max_payload}
    expected = _outcome(speedups.WebSocketFramesPy, pieces, options)
    assert _outcome(compiled, pieces, options) == expected
    assert _outcome(compiled, [data], options) == expected  # the split never matters
