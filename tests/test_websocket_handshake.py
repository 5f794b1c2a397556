"""The opening handshake (RFC 6455 section 4.2) and the ``WebSocket`` route's options."""
from __future__ import annotations

from typing import List, Optional, Tuple

import pytest

from outside.websocket import WebSocket
from outside.websocket.handshake import HandshakeError, accept, accept_key
from outside.websocket.protocol import DEFAULT_MAX_SIZE

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # section 1.3
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def request_headers(**changes: Optional[str]) -> List[Tuple[str, str]]:
    """A valid upgrade request's headers; a change to None drops that header."""
    headers = {"Host": "example.com", "Upgrade": "websocket", "Connection": "Upgrade",
               "Sec-WebSocket-Key": RFC_KEY, "Sec-WebSocket-Version": "13"}
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return list(headers.items())


def refused(method: str = "GET", version: str = "HTTP/1.1", headers=None,
            **options) -> HandshakeError:
    with pytest.raises(HandshakeError) as caught:
        accept(method, version, request_headers() if headers is None else headers, **options)
    return caught.value


def test_rfc_sample_key() -> None:
    assert accept_key(RFC_KEY) == RFC_ACCEPT


def test_accepts_a_valid_request() -> None:
    handshake = accept("GET", "HTTP/1.1", request_headers())
    assert handshake.headers == [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                 ("Sec-WebSocket-Accept", RFC_ACCEPT)]
    assert handshake.subprotocol is None and handshake.deflate is None
    assert handshake.response_head() == (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + RFC_ACCEPT.encode() + b"\r\n\r\n")


@pytest.mark.parametrize("headers", [
    [("host", "h"), ("UPGRADE", "WebSocket"), ("connection", "keep-alive, UPGRADE"),
     ("sec-websocket-key", RFC_KEY), ("SEC-WEBSOCKET-VERSION", "13")],
    [("Host", "h"), ("Upgrade", "websocket"), ("Connection", "keep-alive"),
     ("Connection", "upgrade"), ("Sec-WebSocket-Key", f" {RFC_KEY} "),
     ("Sec-WebSocket-Version", "13")],
])
def test_names_and_tokens_are_case_insensitive(headers) -> None:
    assert accept("GET", "1.1", headers).headers[2] == ("Sec-WebSocket-Accept", RFC_ACCEPT)


@pytest.mark.parametrize("version", ["HTTP/1.1", "1.1", "HTTP/2.0", "HTTP/2"])
def test_http_versions_from_1_1(version: str) -> None:
    assert accept("GET", version, request_headers()).headers


@pytest.mark.parametrize("method, version, changes", [
    ("POST", "HTTP/1.1", {}),
    ("get", "HTTP/1.1", {}),
    ("GET", "HTTP/1.0", {}),
    ("GET", "HTTP/x", {}),
    ("GET", "HTTP/1.1", {"Host": None}),
    ("GET", "HTTP/1.1", {"Upgrade": None}),
    ("GET", "HTTP/1.1", {"Upgrade": "h2c"}),
    ("GET", "HTTP/1.1", {"Connection": None}),
    ("GET", "HTTP/1.1", {"Connection": "keep-alive"}),
    ("GET", "HTTP/1.1", {"Connection": "upgraded"}),
    ("GET", "HTTP/1.1", {"Sec-WebSocket-Key": None}),
    ("GET", "HTTP/1.1", {"Sec-WebSocket-Key": "not base64!"}),
    ("GET", "HTTP/1.1", {"Sec-WebSocket-Key": "AAAAAAAAAAAAAAAAAAAA"}),  # 15 bytes
    ("GET", "HTTP/1.1", {"Sec-WebSocket-Key": "AAAAAAAAAAAAAAAAAAAAAAAA"}),  # 18 bytes
    ("GET", "HTTP/1.1", {"Sec-WebSocket-Version": None}),
])
def test_invalid_requests_get_400(method: str, version: str, changes: dict) -> None:
    assert refused(method, version, request_headers(**changes)).status == 400


def test_two_keys_get_400() -> None:
    headers = request_headers() + [("Sec-WebSocket-Key", RFC_KEY)]
    assert refused(headers=headers).status == 400


@pytest.mark.parametrize("version", ["8", "12", "14", "13, 8"])
def test_other_versions_get_426_with_the_supported_one(version: str) -> None:
    error = refused(headers=request_headers(Sec_WebSocket_Version=version))
    assert error.status == 426
    assert error.headers == [("Sec-WebSocket-Version", "13")]


def test_subprotocol_selection_prefers_the_server_order() -> None:
    headers = request_headers() + [("Sec-WebSocket-Protocol", "chat, superchat"),
                                   ("Sec-WebSocket-Protocol", "json")]
    handshake = accept("GET", "HTTP/1.1", headers, subprotocols=["json", "chat"])
    assert handshake.subprotocol == "json"
    assert ("Sec-WebSocket-Protocol", "json") in handshake.headers
    none_shared = accept("GET", "HTTP/1.1", headers, subprotocols=["mqtt"])
    assert none_shared.subprotocol is None
    assert all(name != "Sec-WebSocket-Protocol" for name, _ in none_shared.headers)


def test_allowed_origins() -> None:
    allowed = ["https://example.com", "http://localhost:8080"]
    ok = request_headers(Origin="https://EXAMPLE.com")
    assert accept("GET", "HTTP/1.1", ok, allowed_origins=allowed).headers
    assert refused(headers=request_headers(Origin="https://evil.example"),
                   allowed_origins=allowed).status == 403
    assert refused(headers=request_headers(), allowed_origins=allowed).status == 403
    assert refused(headers=ok + [("Origin", "https://evil.example")],
                   allowed_origins=allowed).status == 403
    # None admits clients without an Origin (not browsers); no list admits everyone.
    assert accept("GET", "HTTP/1.1", request_headers(), allowed_origins=allowed + [None]).headers
    assert accept("GET", "HTTP/1.1", request_headers(Origin="https://any.example")).headers


def test_compression_is_negotiated_when_on() -> None:
    offer = request_headers(Sec_WebSocket_Extensions="permessage-deflate; client_max_window_bits")
    handshake = accept("GET", "HTTP/1.1", offer)
    assert ("Sec-WebSocket-Extensions", "permessage-deflate") in handshake.headers
    assert handshake.deflate is not None
    off = accept("GET", "HTTP/1.1", offer, compression=False)
    assert off.deflate is None
    assert all(name != "Sec-WebSocket-Extensions" for name, _ in off.headers)


def test_route_registers_handlers_and_applies_its_options() -> None:
    ws = WebSocket()
    assert ws.max_message_size == DEFAULT_MAX_SIZE and ws.compression

    @ws.on_connection
    def handler(connection) -> None:
        connection.send(connection.recv())

    exits = []
    ws.on_exit(lambda: exits.append(1))
    assert ws.connection_handler is handler
    ws.exit_handler()
    assert exits == [1]

    strict = WebSocket(allowed_origins=["https://example.com"], subprotocols=["chat"],
                       max_message_size=1000, compression=False)
    headers = request_headers(Origin="https://example.com", Sec_WebSocket_Protocol="chat",
                              Sec_WebSocket_Extensions="permessage-deflate")
    handshake = strict.handshake("GET", "HTTP/1.1", headers)
    assert handshake.subprotocol == "chat" and handshake.deflate is None
    assert strict.protocol(handshake).max_size == 1000
    with pytest.raises(HandshakeError) as caught:
        strict.handshake("GET", "HTTP/1.1", request_headers(Origin="https://evil.example"))
    assert caught.value.status == 403
