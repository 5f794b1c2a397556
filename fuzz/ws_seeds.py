"""Seed inputs for the WebSocket targets, built from frames described in the open.

Each seed is a ``ws_outcome.Config`` selector byte and the bytes a peer sends. Frames
towards a server are masked; ``python -m fuzz.write_corpus`` writes the seeds to
``fuzz/corpus/websocket/``.
"""
from __future__ import annotations

import zlib
from typing import Dict

from outside.websocket.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    serialize_frame,
)

SERVER = 0x00
CLIENT = 0x01
LIMIT_125 = 2 << 1
LIMIT_1024 = 3 << 1
DEFLATE = 1 << 3
DEFLATE_NO_TAKEOVER = 2 << 3
LONG_MASK = 0x80
KEY = b"\x37\xfa\x21\x3d"


def to_server(opcode: int, payload: bytes, fin: bool = True, rsv1: bool = False) -> bytes:
    return serialize_frame(opcode, payload, fin, rsv1, KEY)


def to_client(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    return serialize_frame(opcode, payload, fin)


def deflated(message: bytes) -> bytes:
    """A permessage-deflate payload: raw deflate, sync-flushed, its 4-byte tail cut."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return (compressor.compress(message) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


def deflated_final(message: bytes) -> bytes:
    """A permessage-deflate payload ending in a BFINAL block (RFC 7692 allows it)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(message) + compressor.flush(zlib.Z_FINISH)


SEEDS: Dict[str, bytes] = {
    "text": bytes([SERVER]) + to_server(OP_TEXT, b"Hello"),
    "binary-empty": bytes([SERVER]) + to_server(OP_BINARY, b""),
    "binary-125": bytes([SERVER]) + to_server(OP_BINARY, bytes(range(125))),
    "binary-126": bytes([SERVER]) + to_server(OP_BINARY, b"x" * 126),
    "binary-64bit-length": bytes([SERVER]) + b"\x82\xff" + (300).to_bytes(8, "big") + KEY + b"y" * 300,
    "length-top-bit": bytes([SERVER]) + b"\x82\xff\x80" + b"\x00" * 7 + KEY,
    "fragmented-with-ping": bytes([SERVER]) + to_server(OP_TEXT, b"frag", fin=False)
    + to_server(OP_PING, b"are you there") + to_server(OP_CONTINUATION, b"ment\xc3", fin=False)
    + to_server(OP_CONTINUATION, b"\xa9"),
    "pipelined": bytes([SERVER]) + to_server(OP_TEXT, b"one") + to_server(OP_BINARY, b"two")
    + to_server(OP_PONG, b"unsolicited") + to_server(OP_CLOSE, (1000).to_bytes(2, "big") + b"bye"),
    "close-empty": bytes([SERVER]) + to_server(OP_CLOSE, b""),
    "close-one-byte": bytes([SERVER]) + to_server(OP_CLOSE, b"\x03"),
    "close-bad-code": bytes([SERVER]) + to_server(OP_CLOSE, (1005).to_bytes(2, "big")),
    "close-bad-reason": bytes([SERVER]) + to_server(OP_CLOSE, (4000).to_bytes(2, "big") + b"\xff"),
    "ping-125": bytes([SERVER]) + to_server(OP_PING, b"p" * 125),
    "ping-126": bytes([SERVER]) + to_server(OP_PING, b"p" * 126),
    "ping-fragmented": bytes([SERVER]) + to_server(OP_PING, b"p", fin=False),
    "unmasked-to-server": bytes([SERVER]) + to_client(OP_TEXT, b"plain"),
    "rsv-bits": bytes([SERVER]) + bytes([0xF1]) + to_server(OP_TEXT, b"r")[1:],
    "unknown-opcode": bytes([SERVER]) + to_server(0x3, b"?"),
    "continuation-first": bytes([SERVER]) + to_server(OP_CONTINUATION, b"orphan"),
    "text-inside-fragmented": bytes([SERVER]) + to_server(OP_TEXT, b"a", fin=False)
    + to_server(OP_TEXT, b"b"),
    "invalid-utf8": bytes([SERVER]) + to_server(OP_TEXT, b"\xed\xa0\x80"),
    "over-limit": bytes([SERVER | LIMIT_125]) + to_server(OP_BINARY, b"z" * 126),
    "fragments-over-limit": bytes([SERVER | LIMIT_125]) + to_server(OP_BINARY, b"z" * 100, fin=False)
    + to_server(OP_CONTINUATION, b"z" * 100),
    "client-side": bytes([CLIENT]) + to_client(OP_TEXT, b"from server") + to_client(OP_PING, b"hb"),
    "client-gets-masked": bytes([CLIENT]) + to_server(OP_TEXT, b"masked"),
    "deflate": bytes([SERVER | DEFLATE]) + to_server(OP_TEXT, deflated(b"hello " * 20), rsv1=True)
    + to_server(OP_TEXT, deflated(b"hello " * 20), rsv1=True),
    "deflate-fragmented": bytes([SERVER | DEFLATE_NO_TAKEOVER])
    + to_server(OP_BINARY, deflated(b"abc" * 50)[:10], fin=False, rsv1=True)
    + to_server(OP_CONTINUATION, deflated(b"abc" * 50)[10:]),
    "deflate-bomb": bytes([SERVER | DEFLATE | LIMIT_1024])
    + to_server(OP_BINARY, deflated(bytes(200_000)), rsv1=True),
    "deflate-bfinal": bytes([SERVER | DEFLATE]) + to_server(OP_TEXT, deflated_final(b"one"), rsv1=True)
    + to_server(OP_TEXT, deflated_final(b"two"), rsv1=True),
    "deflate-garbage": bytes([SERVER | DEFLATE]) + to_server(OP_BINARY, b"\xff\xfe\xfd", rsv1=True),
    "rsv1-without-deflate": bytes([SERVER]) + to_server(OP_TEXT, b"x", rsv1=True),
    "long-mask": bytes([LONG_MASK]) + KEY + bytes(range(256)),
}
