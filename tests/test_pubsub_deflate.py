"""Published messages to subscribers that negotiated permessage-deflate, on a real
server, read as raw frames: with ``server_no_context_takeover`` they get the shared
compressed frame (RSV1 set); WITH context takeover they get the shared uncompressed
frame (RSV1 clear, which RFC 7692 allows), and the connection's own compressed
messages around it still decompress with their context."""
from __future__ import annotations

import base64
import os
import socket
import zlib

import pytest

from outside.websocket.deflate import DeflateParameters
from outside.websocket.protocol import TextMessage, WebSocketProtocol

from servers import start_app

pytestmark = pytest.mark.timeout(60)

MESSAGE = "pub/sub with deflate " * 40  # compresses well


def masked(text: str) -> bytes:
    payload, mask = text.encode(), os.urandom(4)
    assert len(payload) < 65536
    length = bytes([0x80 | len(payload)]) if len(payload) < 126 else \
        bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
    return bytes([0x81]) + length + mask + bytes(
        byte ^ mask[index % 4] for index, byte in enumerate(payload))


class RawClient:
    """A WebSocket client over a raw socket that keeps each frame's header bits."""

    def __init__(self, port: int, extension: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: {extension}\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += self.sock.recv(4096)
        head, _, self.buffer = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        self.extensions = [line.split(b":", 1)[1].strip().decode() for line in head.split(b"\r\n")
                           if line.lower().startswith(b"sec-websocket-extensions:")]
        self.raw = b""  # every frame's bytes, for a protocol with the agreed parameters

    def frame(self) -> tuple[bool, int, bytes]:
        """(RSV1, opcode, payload) of the next frame (the server's are unmasked)."""
        while True:
            buffer = self.buffer
            if len(buffer) >= 4 or (len(buffer) >= 2 and buffer[1] & 0x7F < 126):
                length, start = buffer[1] & 0x7F, 2
                assert length < 127  # the test's messages are shorter than 64 KiB
                if length == 126:
                    length, start = int.from_bytes(buffer[2:4], "big"), 4
                if len(buffer) >= start + length:
                    frame, self.buffer = buffer[:start + length], buffer[start + length:]
                    self.raw += frame
                    return bool(frame[0] & 0x40), frame[0] & 0x0F, frame[start:]
            data = self.sock.recv(65536)
            assert data, "the server closed"
            self.buffer += data

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def server():
    with start_app("pubsub", config={"workers": 1}, env={"WS_MODE": "events"}) as running:
        yield running


def test_takeover_subscribers_get_the_uncompressed_frame_and_no_takeover_ones_the_compressed(server):
    takeover = RawClient(server.port, "permessage-deflate")
    reset = RawClient(server.port, "permessage-deflate; server_no_context_takeover")
    try:
        assert takeover.extensions == ["permessage-deflate"]
        assert reset.extensions == ["permessage-deflate; server_no_context_takeover"]
        for client in (takeover, reset):
            client.frame()  # the greeting
            client.sock.sendall(masked("sub room"))
            client.frame()  # "subscribed room room"
        takeover.sock.sendall(masked(f"pub room {MESSAGE}"))
        rsv1, opcode, payload = takeover.frame()
        assert (rsv1, opcode, payload) == (False, 0x1, MESSAGE.encode())  # uncompressed
        rsv1, opcode, payload = reset.frame()
        assert rsv1 and opcode == 0x1 and len(payload) < len(MESSAGE) // 4
        assert zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff") == MESSAGE.encode()
        # the takeover connection's own messages still decompress with their context
        takeover.sock.sendall(masked("sub other"))
        rsv1, _, _ = takeover.frame()
        assert rsv1  # the server compresses its own sends
        for client, parameters in ((takeover, DeflateParameters()),
                                   (reset, DeflateParameters(server_no_context_takeover=True))):
            messages = WebSocketProtocol(is_client=True, deflate=parameters).receive_data(client.raw)
            texts = [message.text for message in messages if isinstance(message, TextMessage)]
            assert MESSAGE in texts and texts[0].startswith("pid ")
        assert texts_of(takeover)[-1] == "subscribed other other,room"
    finally:
        takeover.close()
        reset.close()


def texts_of(client: RawClient) -> list[str]:
    messages = WebSocketProtocol(is_client=True, deflate=DeflateParameters()).receive_data(client.raw)
    return [message.text for message in messages if isinstance(message, TextMessage)]
