"""Our sans-I/O server against other implementations' sans-I/O clients, byte for byte:
the `websockets` protocol objects and `wsproto`, with and without compression."""
from __future__ import annotations

import os
from types import ModuleType
from typing import List, Tuple

import pytest
import wsproto
import wsproto.events as wse
import wsproto.extensions
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Close as WsClose
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode
from websockets.uri import parse_uri

from outside.websocket.errors import ProtocolError
from outside.websocket.handshake import accept
from outside.websocket.protocol import (
    BinaryMessage,
    Close,
    Ping,
    Pong,
    TextMessage,
    WebSocketProtocol,
)


def split_request(data: bytes) -> Tuple[str, str, List[Tuple[str, str]]]:
    """Method, version and headers of a request head (enough for these clients)."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    request_line, *lines = head.split("\r\n")
    method, _, version = request_line.split(" ")
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines]
    return method, version, headers  # type: ignore[return-value]


def open_websockets_client(frames: ModuleType, compress: dict = None):
    extensions = None if compress is None else [ClientPerMessageDeflateFactory(**compress)]
    client = ClientProtocol(parse_uri("ws://example.com/chat"), extensions=extensions,
                            max_size=None)
    client.send_request(client.connect())
    method, version, headers = split_request(b"".join(client.data_to_send()))
    handshake = accept(method, version, headers)
    client.receive_data(handshake.response_head())
    assert client.handshake_exc is None
    client.events_received()
    server = WebSocketProtocol(deflate=handshake.deflate, frames=frames)
    return client, server


def to_server(client: ClientProtocol, server: WebSocketProtocol) -> list:
    return server.receive_data(b"".join(client.data_to_send()))


def to_client(data: bytes, client: ClientProtocol) -> List[WsFrame]:
    client.receive_data(data)
    return client.events_received()


COMPRESSION = {
    "no-compression": None,
    "default": {},
    "server-no-takeover": {"server_no_context_takeover": True},
    "client-no-takeover": {"client_no_context_takeover": True},
    "server-window-10": {"server_max_window_bits": 10},
    "client-window-9": {"client_max_window_bits": 9},
}


@pytest.mark.parametrize("compress", list(COMPRESSION))
def test_websockets_client_messages_both_ways(frames: ModuleType, compress: str) -> None:
    client, server = open_websockets_client(frames, COMPRESSION[compress])
    assert len(client.extensions) == (0 if COMPRESSION[compress] is None else 1)
    for size in (0, 1, 125, 126, 65536, 1 << 20):
        payload = os.urandom(size)
        text = "é" * size
        client.send_binary(payload)
        client.send_text(text.encode())
        assert to_server(client, server) == [BinaryMessage(payload), TextMessage(text)]
        received = to_client(server.send_binary(payload) + server.send_text(text), client)
        assert [(frame.opcode, frame.data) for frame in received] == [
            (Opcode.BINARY, payload), (Opcode.TEXT, text.encode())]


def test_websockets_client_fragments_pings_and_close(frames: ModuleType) -> None:
    client, server = open_websockets_client(frames, {})
    client.send_text(b"frag", fin=False)
    client.send_ping(b"ping-1")
    client.send_continuation(b"mented", fin=False)
    client.send_continuation(b"!", fin=True)
    assert to_server(client, server) == [Ping(b"ping-1"), TextMessage("fragmented!")]
    pong, = to_client(server.data_to_send(), client)
    assert (pong.opcode, pong.data) == (Opcode.PONG, b"ping-1")
    client.send_pong(b"unsolicited")
    assert to_server(client, server) == [Pong(b"unsolicited")]
    assert to_server(client, server) == []
    client.send_close(1001, "leaving")
    assert to_server(client, server) == [Close(1001, "leaving")]
    echo, = to_client(server.data_to_send(), client)
    assert echo.opcode == Opcode.CLOSE and WsClose.parse(echo.data).code == 1001
    assert client.close_rcvd is not None


def test_websockets_client_sees_our_protocol_error(frames: ModuleType) -> None:
    client, server = open_websockets_client(frames)
    client.send_frame(WsFrame(Opcode.TEXT, b"\xff\xfe"))
    with pytest.raises(ProtocolError) as caught:
        to_server(client, server)
    assert caught.value.code == 1007
    close, = to_client(server.data_to_send(), client)
    assert WsClose.parse(close.data).code == 1007


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "deflate"])
def test_wsproto_client(frames: ModuleType, compress: bool) -> None:
    client = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
    extensions = [wsproto.extensions.PerMessageDeflate()] if compress else []
    request = client.send(wse.Request(host="example.com", target="/", extensions=extensions))
    method, version, headers = split_request(request)
    handshake = accept(method, version, headers)
    client.receive_data(handshake.response_head())
    accepted, = client.events()
    assert isinstance(accepted, wse.AcceptConnection)
    server = WebSocketProtocol(deflate=handshake.deflate, frames=frames)
    assert (handshake.deflate is not None) == compress

    data = (client.send(wse.TextMessage("hello ", message_finished=False))
            + client.send(wse.Ping(b"p"))
            + client.send(wse.TextMessage("wsproto", message_finished=True))
            + client.send(wse.BytesMessage(bytes(70000))))
    assert server.receive_data(data) == [Ping(b"p"), TextMessage("hello wsproto"),
                                         BinaryMessage(bytes(70000))]
    client.receive_data(server.data_to_send() + server.send_text("back")
                        + server.send_binary(b"\x00" * 300))
    events = list(client.events())
    assert isinstance(events[0], wse.Pong) and events[0].payload == b"p"
    assert [(type(event), event.data) for event in events[1:]] == [
        (wse.TextMessage, "back"), (wse.BytesMessage, b"\x00" * 300)]

    client.receive_data(server.send_close(1000, "done"))
    close, = client.events()
    assert isinstance(close, wse.CloseConnection) and close.code == 1000
    reply = client.send(close.response())
    assert server.receive_data(reply) == [Close(1000, "done")]
