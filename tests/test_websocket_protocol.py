"""The sans-I/O protocol over both codec twins: messages, fragments, control frames,
the close handshake, and every message-level violation with its close code."""
from __future__ import annotations

import os
from types import ModuleType
from typing import List, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outside.websocket import frames as frames_py
from outside.websocket.errors import ConnectionClosed, ProtocolError
from outside.websocket.frames import OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT
from outside.websocket.protocol import (
    BinaryMessage,
    Close,
    Ping,
    Pong,
    State,
    TextMessage,
    WebSocketProtocol,
)


def client_frame(opcode: int, payload: bytes, fin: bool = True, rsv1: bool = False) -> bytes:
    """A frame as a client sends it (masked), built independently of the protocol."""
    return frames_py.serialize_frame(opcode, payload, fin, rsv1, os.urandom(4))


def server(frames: ModuleType, **options) -> WebSocketProtocol:
    return WebSocketProtocol(frames=frames, **options)


def frames_sent(data: bytes) -> List[tuple]:
    """What a server wrote, parsed as a client would: (opcode, payload) pairs."""
    parser = frames_py.FrameParser(masked=False, allow_rsv1=True)
    parser.feed(data)
    out = []
    while (frame := parser.next_frame()) is not None:
        assert frame.fin
        out.append((frame.opcode, frame.payload))
    return out


def close_code_sent(data: bytes) -> Optional[int]:
    """The code of the close frame that ends what a server wrote."""
    opcode, payload = frames_sent(data)[-1]
    assert opcode == OP_CLOSE
    return int.from_bytes(payload[:2], "big") if payload else None


def test_text_binary_ping_pong(frames: ModuleType) -> None:
    protocol = server(frames)
    events = protocol.receive_data(
        client_frame(OP_TEXT, "héllo €".encode()) + client_frame(OP_BINARY, b"\x00\xff")
        + client_frame(OP_PING, b"are you there") + client_frame(OP_PONG, b"unsolicited"))
    assert events == [TextMessage("héllo €"), BinaryMessage(b"\x00\xff"),
                      Ping(b"are you there"), Pong(b"unsolicited")]
    assert frames_sent(protocol.data_to_send()) == [(OP_PONG, b"are you there")]
    assert protocol.data_to_send() == b""
    assert protocol.state is State.OPEN


def test_server_frames_are_unmasked_and_well_formed(frames: ModuleType) -> None:
    protocol = server(frames)
    assert protocol.send_text("hi") == b"\x81\x02hi"
    assert protocol.send_binary(b"\x01") == b"\x82\x01\x01"
    assert protocol.send_ping(b"p") == b"\x89\x01p"
    assert protocol.send_pong(b"") == b"\x8a\x00"
    assert frames_sent(protocol.send_binary(bytes(70000))) == [(OP_BINARY, bytes(70000))]
    with pytest.raises(ValueError):
        protocol.send_ping(b"x" * 126)


def test_client_side_masks_and_round_trips(frames: ModuleType) -> None:
    client = WebSocketProtocol(is_client=True, frames=frames)
    srv = server(frames)
    wire = client.send_text("x" * 300)
    assert wire[1] & 0x80  # masked
    assert srv.receive_data(wire) == [TextMessage("x" * 300)]
    assert client.receive_data(srv.send_binary(b"back")) == [BinaryMessage(b"back")]
    # A server's masked frame is an error for a client.
    with pytest.raises(ProtocolError) as caught:
        client.receive_data(client_frame(OP_TEXT, b"masked"))
    assert caught.value.code == 1002


def test_fragmented_messages_with_interleaved_pings(frames: ModuleType) -> None:
    protocol = server(frames)
    text = "ünïcødé 🎉 split everywhere".encode()
    wire = b""
    for index in range(len(text)):  # one byte per fragment, splitting every code point
        wire += client_frame(OP_TEXT if index == 0 else OP_CONTINUATION,
                             text[index:index + 1], fin=index == len(text) - 1)
        if index % 5 == 0:
            wire += client_frame(OP_PING, str(index).encode())
    events = protocol.receive_data(wire)
    pings = [Ping(str(index).encode()) for index in range(0, len(text), 5)]
    assert events == pings + [TextMessage(text.decode())]
    assert frames_sent(protocol.data_to_send()) == [(OP_PONG, ping.payload) for ping in pings]
    events = protocol.receive_data(
        client_frame(OP_BINARY, b"ab", fin=False) + client_frame(OP_PING, b"")
        + client_frame(OP_CONTINUATION, b"", fin=False) + client_frame(OP_CONTINUATION, b"cd"))
    assert events == [Ping(b""), BinaryMessage(b"abcd")]


def test_messages_split_at_every_byte(frames: ModuleType) -> None:
    wire = (client_frame(OP_TEXT, b"hel", fin=False) + client_frame(OP_PING, b"!")
            + client_frame(OP_CONTINUATION, b"lo") + client_frame(OP_BINARY, bytes(130)))
    for cut in range(len(wire) + 1):
        protocol = server(frames)
        events = protocol.receive_data(wire[:cut]) + protocol.receive_data(wire[cut:])
        assert events == [Ping(b"!"), TextMessage("hello"), BinaryMessage(bytes(130))]


@pytest.mark.parametrize("size", [0, 125, 126, 127, 65535, 65536, 16 * 1024 * 1024])
def test_message_sizes(frames: ModuleType, size: int) -> None:
    protocol = server(frames)
    payload = os.urandom(size)
    assert protocol.receive_data(client_frame(OP_BINARY, payload)) == [BinaryMessage(payload)]
    assert frames_sent(protocol.send_binary(payload)) == [(OP_BINARY, payload)]


def violation(frames: ModuleType, wire: bytes, **options) -> ProtocolError:
    protocol = server(frames, **options)
    with pytest.raises(ProtocolError) as caught:
        protocol.receive_data(wire)
    assert protocol.state is State.CLOSED
    assert close_code_sent(protocol.data_to_send()) == caught.value.code
    with pytest.raises(ProtocolError):  # dead from now on
        protocol.receive_data(client_frame(OP_TEXT, b"more"))
    return caught.value


BAD_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"ok\xe2\x82"]

CASES = {
    "unmasked": lambda: frames_py.serialize_frame(OP_TEXT, b"hi"),
    "rsv1-no-extension": lambda: client_frame(OP_TEXT, b"hi", rsv1=True),
    "unknown-opcode": lambda: b"\x83\x80" + os.urandom(4),
    "long-control": lambda: b"\x89\xfe\x00\x7e" + os.urandom(4) + bytes(126),
    "fragmented-control": lambda: client_frame(OP_PING, b"", fin=False),
    "continuation-first": lambda: client_frame(OP_CONTINUATION, b"x"),
    "data-inside-fragmented": lambda: client_frame(OP_TEXT, b"a", fin=False)
    + client_frame(OP_BINARY, b"b"),
    "text-inside-fragmented": lambda: client_frame(OP_BINARY, b"a", fin=False)
    + client_frame(OP_PING, b"") + client_frame(OP_TEXT, b"b", fin=False),
    "close-1-byte": lambda: client_frame(OP_CLOSE, b"\x03"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_protocol_violations_close_with_1002(frames: ModuleType, name: str) -> None:
    assert violation(frames, CASES[name]()).code == 1002


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999,
                                  5000, 65535])
def test_invalid_close_codes_1002(frames: ModuleType, code: int) -> None:
    assert violation(frames, client_frame(OP_CLOSE, code.to_bytes(2, "big"))).code == 1002


@pytest.mark.parametrize("payload", BAD_UTF8)
def test_invalid_utf8_1007(frames: ModuleType, payload: bytes) -> None:
    assert violation(frames, client_frame(OP_TEXT, payload)).code == 1007
    # The same bytes spread over fragments.
    wire = b"".join(client_frame(OP_TEXT if index == 0 else OP_CONTINUATION,
                                 payload[index:index + 1], fin=index == len(payload) - 1)
                    for index in range(len(payload)))
    assert violation(frames, wire).code == 1007
    assert violation(frames, client_frame(OP_CLOSE, b"\x03\xe8" + payload)).code == 1007


def test_invalid_utf8_is_caught_before_the_last_fragment(frames: ModuleType) -> None:
    protocol = server(frames)
    protocol.receive_data(client_frame(OP_TEXT, b"fine", fin=False))
    with pytest.raises(ProtocolError) as caught:
        protocol.receive_data(client_frame(OP_CONTINUATION, b"\xff", fin=False))
    assert caught.value.code == 1007


def test_max_size(frames: ModuleType) -> None:
    limit = 1000
    ok = server(frames, max_size=limit)
    assert ok.receive_data(client_frame(OP_BINARY, bytes(limit))) == [BinaryMessage(bytes(limit))]
    # Refused on the header alone, before any payload arrives.
    header = client_frame(OP_BINARY, bytes(limit + 1))[:8]
    assert violation(frames, header, max_size=limit).code == 1009
    # A fragmented message is refused when it grows past the limit.
    growing = server(frames, max_size=limit)
    growing.receive_data(client_frame(OP_TEXT, b"a" * 600, fin=False))
    growing.receive_data(client_frame(OP_PING, b"x" * 125))  # control frames do not count
    with pytest.raises(ProtocolError) as caught:
        growing.receive_data(client_frame(OP_CONTINUATION, b"a" * 401)[:8])
    assert caught.value.code == 1009
    unlimited = server(frames, max_size=None)
    assert unlimited.receive_data(client_frame(OP_BINARY, bytes(1 << 20))) == [
        BinaryMessage(bytes(1 << 20))]


def test_events_before_an_error_are_kept(frames: ModuleType) -> None:
    protocol = server(frames)
    with pytest.raises(ProtocolError) as caught:
        protocol.receive_data(client_frame(OP_TEXT, b"first") + client_frame(OP_PING, b"p")
                              + client_frame(OP_CONTINUATION, b"bad"))
    assert caught.value.events == [TextMessage("first"), Ping(b"p")]
    reason = b"continuation frame without a message"
    assert frames_sent(protocol.data_to_send()) == [(OP_PONG, b"p"),
                                                   (OP_CLOSE, b"\x03\xea" + reason)]


@pytest.mark.parametrize("payload, code, reason", [
    (b"", 1005, ""), (b"\x03\xe8", 1000, ""), (b"\x03\xe9going", 1001, "going"),
    (b"\x03\xf4", 1012, ""), (b"\x0b\xb8", 3000, ""), (b"\x13\x87x", 4999, "x"),
])
def test_peer_closes_first(frames: ModuleType, payload: bytes, code: int, reason: str) -> None:
    protocol = server(frames)
    events = protocol.receive_data(client_frame(OP_CLOSE, payload)
                                   + client_frame(OP_TEXT, b"after close"))
    assert events == [Close(code, reason)]
    assert (protocol.close_code, protocol.close_reason) == (code, reason)
    assert protocol.state is State.CLOSED
    protocol.receive_eof()
    assert protocol.close_code == code
    echo = frames_sent(protocol.data_to_send())
    assert echo == [(OP_CLOSE, payload[:2])]  # the code echoed (none when none came)
    assert protocol.receive_data(client_frame(OP_TEXT, b"ignored")) == []
    with pytest.raises(ConnectionClosed):
        protocol.send_text("too late")
    assert protocol.send_close() == b""


def test_we_close_first(frames: ModuleType) -> None:
    protocol = server(frames)
    assert frames_sent(protocol.send_close(1001, "bye")) == [(OP_CLOSE, b"\x03\xe9bye")]
    assert protocol.state is State.CLOSING
    assert protocol.send_close() == b""
    with pytest.raises(ConnectionClosed):
        protocol.send_binary(b"no more")
    # Messages in flight still arrive; pings are not answered any more.
    events = protocol.receive_data(client_frame(OP_TEXT, b"in flight") + client_frame(OP_PING, b""))
    assert events == [TextMessage("in flight"), Ping(b"")]
    assert protocol.receive_data(client_frame(OP_CLOSE, b"\x03\xe9")) == [Close(1001, "")]
    assert protocol.state is State.CLOSED
    assert protocol.data_to_send() == b""  # no second close


def test_close_arguments_are_checked(frames: ModuleType) -> None:
    protocol = server(frames)
    for code in (1005, 1006, 999, 5000):
        with pytest.raises(ValueError):
            protocol.send_close(code)
    with pytest.raises(ValueError):
        protocol.send_close(None, "reason without code")
    long_reason = "é" * 100  # 200 bytes: cut to fit 125, on a character boundary
    (opcode, payload), = frames_sent(protocol.send_close(1000, long_reason))
    assert len(payload) <= 125 and payload[2:].decode() == "é" * 61


def test_eof_closes(frames: ModuleType) -> None:
    protocol = server(frames)
    protocol.receive_eof()
    assert protocol.state is State.CLOSED
    assert protocol.close_code == 1006  # the peer vanished without a close frame
    assert protocol.receive_data(client_frame(OP_TEXT, b"x")) == []


message_strategy = st.one_of(
    st.text(max_size=300).map(lambda text: TextMessage(text)),
    st.binary(max_size=300).map(lambda data: BinaryMessage(data)),
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=st.lists(message_strategy, max_size=8), data=st.data())
def test_random_fragmentation_pings_and_splits(frames: ModuleType, messages, data) -> None:
    """Any messages, cut into random fragments with pings between them, in random reads."""
    wire = b""
    expected: list = []
    for message in messages:
        payload = message.text.encode() if isinstance(message, TextMessage) else message.data
        cuts = sorted(data.draw(st.lists(st.integers(0, len(payload)), max_size=4)))
        pieces = [payload[start:end] for start, end in zip([0] + cuts, cuts + [len(payload)])]
        for index, piece in enumerate(pieces):
            opcode = OP_CONTINUATION if index else (
                OP_TEXT if isinstance(message, TextMessage) else OP_BINARY)
            last = index == len(pieces) - 1
            wire += client_frame(opcode, piece, fin=last)
            if last:
                expected.append(message)
            if data.draw(st.booleans()):
                ping = data.draw(st.binary(max_size=125))
                wire += client_frame(OP_PING, ping)
                expected.append(Ping(ping))
    splits = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=6)))
    protocol = server(frames)
    events = []
    for start, end in zip([0] + splits, splits + [len(wire)]):
        events += protocol.receive_data(wire[start:end])
    assert events == expected
    pongs = [(OP_PONG, event.payload) for event in expected if isinstance(event, Ping)]
    assert frames_sent(protocol.data_to_send()) == pongs
