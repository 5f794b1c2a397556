"""The frame codec, both twins: RFC examples, every length form, every split, every
header-level violation with its close code."""
from __future__ import annotations

import os
from types import ModuleType
from typing import List, Optional

import pytest

from outside.websocket import frames as frames_py
from outside.websocket.errors import ProtocolError
from outside.websocket.frames import OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT

KEY = bytes.fromhex("37fa213d")

# RFC 6455 section 5.7, as (bytes, fin, opcode, payload, mask).
RFC_EXAMPLES = [
    ("810548656c6c6f", True, OP_TEXT, b"Hello", None),
    ("818537fa213d7f9f4d5158", True, OP_TEXT, b"Hello", KEY),
    ("010348656c", False, OP_TEXT, b"Hel", None),
    ("80026c6f", True, OP_CONTINUATION, b"lo", None),
    ("890548656c6c6f", True, OP_PING, b"Hello", None),
    ("8a8537fa213d7f9f4d5158", True, OP_PONG, b"Hello", KEY),
]


def parse_all(frames: ModuleType, data: bytes, masked: bool, pieces: List[bytes]) -> list:
    parser = frames.FrameParser(masked=masked)
    out = []
    for piece in pieces:
        parser.feed(piece)
        while True:
            frame = parser.next_frame()
            if frame is None:
                break
            out.append((frame.fin, frame.rsv1, frame.opcode, frame.payload))
    return out


def header_size(length: int, masked: bool) -> int:
    return (2 if length < 126 else 4 if length < 65536 else 10) + (4 if masked else 0)


@pytest.mark.parametrize("hex_bytes, fin, opcode, payload, key", RFC_EXAMPLES)
def test_rfc6455_examples(frames: ModuleType, hex_bytes: str, fin: bool, opcode: int,
                          payload: bytes, key: Optional[bytes]) -> None:
    wire = bytes.fromhex(hex_bytes)
    assert frames.serialize_frame(opcode, payload, fin, False, key) == wire
    assert parse_all(frames, wire, key is not None, [wire]) == [(fin, False, opcode, payload)]


def test_rfc6455_length_examples(frames: ModuleType) -> None:
    assert frames.serialize_frame(OP_BINARY, bytes(256))[:4] == bytes.fromhex("827e0100")
    assert frames.serialize_frame(OP_BINARY, bytes(65536))[:10] == bytes.fromhex(
        "827f0000000000010000")


@pytest.mark.parametrize("size", [0, 125, 126, 127, 65535, 65536, 16 * 1024 * 1024])
@pytest.mark.parametrize("masked", [True, False], ids=["masked", "unmasked"])
def test_payload_sizes_round_trip(frames: ModuleType, size: int, masked: bool) -> None:
    payload = os.urandom(size)
    wire = frames.serialize_frame(OP_BINARY, payload, True, False, KEY if masked else None)
    assert len(wire) == header_size(size, masked) + size
    second = wire[1] & 0x7F
    assert second == (size if size < 126 else 126 if size < 65536 else 127)
    assert parse_all(frames, wire, masked, [wire]) == [(True, False, OP_BINARY, payload)]
    # In 64 KiB pieces, as a socket would deliver it.
    pieces = [wire[start:start + 65536] for start in range(0, len(wire), 65536)]
    assert parse_all(frames, wire, masked, pieces) == [(True, False, OP_BINARY, payload)]


def small_stream() -> tuple:
    """Several small frames of every header form, masked, and what they parse to."""
    specs = [(OP_TEXT, b"", True), (OP_TEXT, b"Hello", False), (OP_CONTINUATION, b" world", True),
             (OP_PING, b"p" * 125, True), (OP_BINARY, os.urandom(126), True),
             (OP_BINARY, os.urandom(300), True), (OP_CLOSE, b"\x03\xe8bye", True)]
    wire = b"".join(frames_py.serialize_frame(op, payload, fin, False, os.urandom(4))
                    for op, payload, fin in specs)
    return wire, [(fin, False, op, payload) for op, payload, fin in specs]



def test_split_at_every_boundary(frames: ModuleType) -> None:
    wire, expected = small_stream()
    for cut in range(len(wire) + 1):
        assert parse_all(frames, wire, True, [wire[:cut], wire[cut:]]) == expected, cut
    for first in range(0, len(wire), 7):
        for second in range(first, len(wire), 13):
            pieces = [wire[:first], wire[first:second], wire[second:]]
            assert parse_all(frames, wire, True, pieces) == expected


def test_byte_by_byte_and_trailing_bytes_stay_buffered(frames: ModuleType) -> None:
    wire, expected = small_stream()
    assert parse_all(frames, wire, True, [bytes((byte,)) for byte in wire]) == expected
    parser = frames.FrameParser(masked=True)
    tail = frames.serialize_frame(OP_BINARY, b"x" * 200, True, False, KEY)[:50]
    parser.feed(wire + tail)
    got = []
    while (frame := parser.next_frame()) is not None:
        got.append(frame)
    assert len(got) == len(expected)
    assert parser.buffered == 50 - header_size(200, True)  # the header is consumed
    assert parser.next_frame() is None


def test_frame_value_object(frames: ModuleType) -> None:
    frame = frames.Frame(True, False, OP_TEXT, b"hi")
    assert frame == frames.Frame(True, False, OP_TEXT, b"hi")
    assert frame != frames.Frame(False, False, OP_TEXT, b"hi")
    assert "opcode=1" in repr(frame)


def raw(first: int, second: int, rest: bytes = b"") -> bytes:
    return bytes((first, second)) + rest


# (header bytes, parser options, close code); headers alone must be refused.
VIOLATIONS = [
    (raw(0x81, 0x05, KEY), {}, 1002, "client frame must be masked", "unmasked"),
    (raw(0x81, 0x05), {}, 1002, "unmasked text from a client", "no-mask"),
    (raw(0x81, 0x85, KEY), {"masked": False}, 1002, "masked frame from a server",
     "masked-from-server"),
    (raw(0xC1, 0x85, KEY), {}, 1002, "RSV1 without extension", "rsv1"),
    (raw(0xA1, 0x85, KEY), {}, 1002, "RSV2", "rsv2"),
    (raw(0x91, 0x85, KEY), {}, 1002, "RSV3", "rsv3"),
    (raw(0xA1, 0x85, KEY), {"allow_rsv1": True}, 1002, "RSV2 with deflate", "rsv2-deflate"),
    (raw(0xC9, 0x80, KEY), {"allow_rsv1": True}, 1002, "RSV1 on a ping", "rsv1-control"),
    (raw(0x89, 0xFE, b"\x00\x7e" + KEY), {}, 1002, "126-byte ping", "long-ping"),
    (raw(0x88, 0xFE, b"\x00\x7e"), {}, 1002, "126-byte close (length form alone)", "long-close"),
    (raw(0x09, 0x80, KEY), {}, 1002, "fragmented ping", "fragmented-ping"),
    (raw(0x08, 0x80, KEY), {}, 1002, "fragmented close", "fragmented-close"),
    (raw(0x82, 0xFF, b"\x80" + bytes(7) + KEY), {}, 1002, "64-bit length top bit", "length-msb"),
    (raw(0x82, 0xFE, b"\x01\x00" + KEY), {"max_payload": 255}, 1009, "over max_payload",
     "too-big-16"),
    (raw(0x82, 0xFF, b"\x7f" + b"\xff" * 7 + KEY), {"max_payload": 1 << 30}, 1009,
     "over max_payload", "too-big-64"),
] + [(raw(0x80 | opcode, 0x80, KEY), {}, 1002, "unknown opcode", f"opcode-{opcode:x}")
     for opcode in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF)]


@pytest.mark.parametrize("header, options, code, why, name", VIOLATIONS,
                         ids=[violation[-1] for violation in VIOLATIONS])
def test_header_violations(frames: ModuleType, header: bytes, options: dict, code: int,
                           why: str, name: str) -> None:
    options = {"masked": True, **options}
    parser = frames.FrameParser(**options)
    parser.feed(header)
    with pytest.raises(ProtocolError) as caught:
        parser.next_frame()
    assert caught.value.code == code, why


def test_limit_applies_to_data_frames_only(frames: ModuleType) -> None:
    parser = frames.FrameParser(masked=True, max_payload=10)
    parser.feed(frames.serialize_frame(OP_PING, b"p" * 125, True, False, KEY))
    assert parser.next_frame().payload == b"p" * 125
    parser.feed(frames.serialize_frame(OP_BINARY, b"d" * 10, True, False, KEY))
    assert parser.next_frame().payload == b"d" * 10
    parser.max_payload = 9
    parser.feed(frames.serialize_frame(OP_BINARY, b"d" * 10, True, False, KEY))
    with pytest.raises(ProtocolError) as caught:
        parser.next_frame()
    assert caught.value.code == 1009


def test_rsv1_allowed_on_data_frames_with_an_extension(frames: ModuleType) -> None:
    parser = frames.FrameParser(masked=False, allow_rsv1=True)
    parser.feed(frames.serialize_frame(OP_TEXT, b"zz", True, True))
    frame = parser.next_frame()
    assert (frame.fin, frame.rsv1, frame.opcode, frame.payload) == (True, True, OP_TEXT, b"zz")


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 1 << 20])
def test_frame_header_is_the_start_of_the_serialized_frame(frames: ModuleType, size: int) -> None:
    payload = bytes(size)
    header = frames.frame_header(OP_BINARY, size)
    assert frames.serialize_frame(OP_BINARY, payload) == header + payload
    masked = frames.serialize_frame(OP_BINARY, payload, mask=b"abcd")
    assert masked.startswith(frames.frame_header(OP_BINARY, size, masked=True) + b"abcd")


def test_large_binary_messages_go_out_as_header_and_payload() -> None:
    from outside.websocket.protocol import WebSocketProtocol
    server = WebSocketProtocol(is_client=False)
    payload = bytearray(os.urandom(100_000))
    pieces = server.send_binary_pieces(payload)
    assert pieces[-1] is payload and b"".join(pieces) == server.send_binary(payload)


def test_large_payloads_arriving_in_pieces_are_gathered(frames: ModuleType) -> None:
    """Payloads of 64 KiB and more that arrive in many reads; the next frame's bytes
    that came with the last piece stay buffered."""
    import random
    chooser = random.Random(6455)
    messages = [os.urandom(size) for size in (70_000, 10, 1 << 20, 65_536, 200_001)]
    wire = b"".join(frames.serialize_frame(OP_BINARY, message, mask=os.urandom(4))
                    for message in messages)
    parser = frames.FrameParser(masked=True)
    received, offset = [], 0
    while offset < len(wire):
        size = chooser.choice([1, 5, 1000, 65_536, 300_000])
        piece = wire[offset:offset + size]
        offset += size
        parser.feed(piece if chooser.random() < 0.5 else bytearray(piece))
        frame = parser.next_frame()
        while frame is not None:
            received.append(frame.payload)
            frame = parser.next_frame()
    assert received == messages and all(type(payload) is bytes for payload in received)
    assert parser.buffered == 0
    parser.feed(wire[:70_000])  # a large frame's head and part of its payload
    assert parser.next_frame() is None and parser.buffered == 70_000 - 14
