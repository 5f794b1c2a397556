"""permessage-deflate (RFC 7692): negotiation, round trips with each parameter, limits."""
from __future__ import annotations

import os
import tracemalloc
import zlib
from types import ModuleType
from typing import Optional

import pytest

from outside.websocket import frames as frames_py
from outside.websocket.deflate import DeflateParameters, PerMessageDeflate, negotiate
from outside.websocket.errors import ProtocolError
from outside.websocket.frames import OP_BINARY, OP_CONTINUATION, OP_TEXT
from outside.websocket.protocol import BinaryMessage, TextMessage, WebSocketProtocol

NEGOTIATIONS = [
    ("permessage-deflate", "permessage-deflate"),
    ("permessage-deflate; client_max_window_bits", "permessage-deflate"),
    ("permessage-deflate; client_max_window_bits=10", "permessage-deflate"),
    ("permessage-deflate; server_no_context_takeover",
     "permessage-deflate; server_no_context_takeover"),
    ("permessage-deflate; client_no_context_takeover",
     "permessage-deflate; client_no_context_takeover"),
    ("permessage-deflate; server_max_window_bits=10",
     "permessage-deflate; server_max_window_bits=10"),
    ('permessage-deflate; server_max_window_bits="12"',
     "permessage-deflate; server_max_window_bits=12"),
    ("PerMessage-Deflate ; Server_No_Context_Takeover ; client_no_context_takeover",
     "permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
    # Declined offers, then a fallback offer in the same header.
    ("permessage-deflate; server_max_window_bits=8, permessage-deflate",
     "permessage-deflate"),
    ("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits",
     "permessage-deflate"),
]

DECLINED = [
    "", "x-webkit-deflate-frame", "permessage-deflate; unknown_parameter",
    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    "permessage-deflate; server_no_context_takeover=1",
    "permessage-deflate; client_no_context_takeover=true",
    "permessage-deflate; server_max_window_bits", "permessage-deflate; server_max_window_bits=8",
    "permessage-deflate; server_max_window_bits=16", "permessage-deflate; server_max_window_bits=7",
    "permessage-deflate; server_max_window_bits=010", "permessage-deflate; server_max_window_bits=a",
    "permessage-deflate; client_max_window_bits=16", "permessage-deflate; client_max_window_bits=-9",
    "permessage-deflate; client_max_window_bits=9; client_max_window_bits=10",
]


@pytest.mark.parametrize("offer, response", NEGOTIATIONS)
def test_negotiation_accepts(offer: str, response: str) -> None:
    parameters = negotiate([offer])
    assert parameters is not None
    assert parameters.response_header() == response


@pytest.mark.parametrize("offer", DECLINED)
def test_negotiation_declines(offer: str) -> None:
    assert negotiate([offer]) is None


def test_offers_over_several_header_lines() -> None:
    parameters = negotiate(["foo", "permessage-deflate; server_max_window_bits=9"])
    assert parameters == DeflateParameters(server_max_window_bits=9)


PARAMETER_SETS = {
    "default": DeflateParameters(),
    "server-no-takeover": DeflateParameters(server_no_context_takeover=True),
    "client-no-takeover": DeflateParameters(client_no_context_takeover=True),
    "server-window-9": DeflateParameters(server_max_window_bits=9),
    "client-window-9": DeflateParameters(client_max_window_bits=9),
    "all": DeflateParameters(True, True, 10, 11),
}


def pair(frames: ModuleType, parameters: DeflateParameters, max_size: Optional[int] = 1 << 24):
    return (WebSocketProtocol(deflate=parameters, frames=frames, max_size=max_size),
            WebSocketProtocol(is_client=True, deflate=parameters, frames=frames))


@pytest.mark.parametrize("name", list(PARAMETER_SETS))
def test_round_trips(frames: ModuleType, name: str) -> None:
    server, client = pair(frames, PARAMETER_SETS[name])
    messages = [b"", b"a", b"hello " * 1000, os.urandom(5000), bytes(200_000), b"hello " * 1000]
    for message in messages:
        wire = client.send_binary(message)
        assert wire[0] & 0x40  # RSV1: compressed
        assert server.receive_data(wire) == [BinaryMessage(message)]
        back = server.send_binary(message)
        assert back[0] & 0x40
        assert client.receive_data(back) == [BinaryMessage(message)]
    text = "compressible text, " * 500
    assert server.receive_data(client.send_text(text)) == [TextMessage(text)]
    assert len(client.send_text(text)) < len(text) // 10


def test_context_takeover_shrinks_repeats_and_no_takeover_does_not() -> None:
    message = os.urandom(1000)
    keep = PerMessageDeflate(DeflateParameters())
    reset = PerMessageDeflate(DeflateParameters(server_no_context_takeover=True))
    assert len(keep.compress(message)) > 1000 and len(keep.compress(message)) < 100
    assert len(reset.compress(message)) > 1000 and len(reset.compress(message)) > 1000


def test_compressed_message_in_fragments(frames: ModuleType) -> None:
    server, _ = pair(frames, DeflateParameters())
    text = "fragmented and compressed ✓ " * 300
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = compressor.compress(text.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)
    data = data[:-4]
    pieces = [data[start:start + 10] for start in range(0, len(data), 10)]
    assert len(pieces) > 2
    wire = b"".join(
        frames_py.serialize_frame(OP_TEXT if index == 0 else OP_CONTINUATION, piece,
                                  index == len(pieces) - 1, index == 0, os.urandom(4))
        for index, piece in enumerate(pieces))
    assert server.receive_data(wire) == [TextMessage(text)]
    # RSV1 belongs on the first frame only.
    server, _ = pair(frames, DeflateParameters())
    with pytest.raises(ProtocolError) as caught:
        server.receive_data(frames_py.serialize_frame(OP_TEXT, pieces[0], False, True, b"abcd")
                            + frames_py.serialize_frame(OP_CONTINUATION, pieces[1], True, True,
                                                        b"abcd"))
    assert caught.value.code == 1002


def test_uncompressed_messages_are_still_accepted(frames: ModuleType) -> None:
    server, _ = pair(frames, DeflateParameters())
    wire = frames_py.serialize_frame(OP_BINARY, b"plain", True, False, b"abcd")
    assert server.receive_data(wire) == [BinaryMessage(b"plain")]


def test_zip_bomb_is_refused_with_1009_without_inflating_it(frames: ModuleType) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = compressor.compress(bytes(200 * 1024 * 1024)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    bomb = bomb[:-4]
    assert len(bomb) < 300_000
    server, _ = pair(frames, DeflateParameters(), max_size=1024 * 1024)
    wire = frames_py.serialize_frame(OP_BINARY, bomb, True, True, os.urandom(4))
    tracemalloc.start()
    try:
        with pytest.raises(ProtocolError) as caught:
            server.receive_data(wire)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.code == 1009
    assert peak < 8 * 1024 * 1024


def test_inflated_size_is_limited_across_fragments(frames: ModuleType) -> None:
    server, _ = pair(frames, DeflateParameters(), max_size=10_000)
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    first = compressor.compress(bytes(6000)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    second = compressor.compress(bytes(6000)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    server.receive_data(frames_py.serialize_frame(OP_BINARY, first, False, True, b"abcd"))
    with pytest.raises(ProtocolError) as caught:
        server.receive_data(frames_py.serialize_frame(OP_CONTINUATION, second[:-4], True, False,
                                                      b"abcd"))
    assert caught.value.code == 1009


def test_corrupt_compressed_data_is_a_protocol_error(frames: ModuleType) -> None:
    server, _ = pair(frames, DeflateParameters())
    wire = frames_py.serialize_frame(OP_BINARY, b"\xff\xff\xff\xff", True, True, b"abcd")
    with pytest.raises(ProtocolError) as caught:
        server.receive_data(wire)
    assert caught.value.code == 1002


def test_rsv1_without_negotiation_is_refused(frames: ModuleType) -> None:
    server = WebSocketProtocol(frames=frames)
    with pytest.raises(ProtocolError) as caught:
        server.receive_data(frames_py.serialize_frame(OP_BINARY, b"\x00", True, True, b"abcd"))
    assert caught.value.code == 1002
