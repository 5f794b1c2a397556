"""Fuzz target: the compiled and pure-Python WebSocket twins must agree on every input.

Compared: the frame parsers and the protocol driven by each (whole and cut at the
same input-derived points), the serializer on every parsed frame, and both masks on
the input itself (long enough, when the configuration byte's top bit is set, to take
the compiled mask's GIL-free path). Run:
``python -m fuzz.ws_differential [libFuzzer options] [corpus dirs]``.
"""
from .harness import chunkings, instrumented_imports, run

with instrumented_imports(enabled=__name__ == "__main__"):
    from outside.speedups import (
        WebSocketFramesC,
        WebSocketFramesPy,
        WebSocketMaskC,
        WebSocketMaskPy,
    )

    from .ws_outcome import CodecViolation, parse_frames, run_protocol, split_input

if WebSocketFramesC is None or WebSocketMaskC is None:
    raise SystemExit("the compiled WebSocket codec is not built (python setup.py build_ext --inplace)")

LONG_MASK_INPUT = 256 * 1024 + 3  # past the compiled mask's GIL release size, odd tail


def _same(what: str, c_result: object, py_result: object) -> None:
    if c_result != py_result:
        raise CodecViolation(f"{what}\nC:      {c_result!r}\npython: {py_result!r}")


def check_masks(selector: int, stream: bytes) -> None:
    """apply_mask and mask_in_place agree between twins and undo themselves."""
    key = (stream[:4] + b"\x00\x00\x00\x00")[:4]
    data = stream[4:]
    if selector & 0x80 and data:
        data = (data * (LONG_MASK_INPUT // len(data) + 1))[:LONG_MASK_INPUT]
    masked = WebSocketMaskC.apply_mask(data, key)
    _same(f"apply_mask({len(data)} bytes, {key!r})", masked, WebSocketMaskPy.apply_mask(data, key))
    for twin in (WebSocketMaskC, WebSocketMaskPy):
        in_place = bytearray(masked)
        twin.mask_in_place(memoryview(in_place) if selector & 0x40 else in_place, key)
        if in_place != data:
            raise CodecViolation(f"{twin.__name__}.mask_in_place did not undo apply_mask")


def check(data: bytes) -> None:
    """Fail when the twins' outcomes differ for any way of feeding ``data``."""
    config, stream = split_input(data)
    options = config.parser_options
    check_masks(data[0] if data else 0, stream)
    for chunks in [[stream], *chunkings(stream)]:
        c_frames = parse_frames(WebSocketFramesC, options, chunks)
        _same(f"frames, {config}, fed as {chunks!r}", c_frames,
              parse_frames(WebSocketFramesPy, options, chunks))
        _same(f"protocol, {config}, fed as {chunks!r}", run_protocol(WebSocketFramesC, config, chunks),
              run_protocol(WebSocketFramesPy, config, chunks))
    for fin, rsv1, opcode, payload in c_frames.frames:
        for mask in (None, b"\x00\xff\x10\x7f"):
            _same(f"serialize_frame({opcode}, {len(payload)} bytes, {fin}, {rsv1}, {mask!r})",
                  WebSocketFramesC.serialize_frame(opcode, payload, fin, rsv1, mask),
                  WebSocketFramesPy.serialize_frame(opcode, payload, fin, rsv1, mask))


if __name__ == "__main__":
    run(check)
