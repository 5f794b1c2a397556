"""WebSocket connections served by a real outside server, driven by real clients: the
`websockets` library, `websocket-client` and raw sockets for protocol violations."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import struct
import threading
import time

import pytest
import requests
import websocket as websocket_client
from typing_extensions import Self
from websockets.asyncio.client import connect as async_connect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from outside.server.sockets import raise_descriptor_limit

from servers import Wire, start_app, start_server

pytestmark = pytest.mark.timeout(120)

# Both shapes of route: a blocking handler on a thread of its own, and on_message
# handlers run by the event loop. The apps are in tests/apps/ws_*.py.
MODES = ["blocking", "events"]

def echo_server(route_options: dict | None = None, config: dict | None = None,
                mode: str = "blocking", soft_file_limit: int | None = None):
    """``tests/apps/ws_echo.py``: an echo on ``/ws`` in ``mode``, plain HTTP on ``/page``."""
    env = {"WS_MODE": mode, "WS_ROUTE_OPTIONS": json.dumps(route_options or {})}
    if soft_file_limit:
        env["WS_SOFT_FILE_LIMIT"] = str(soft_file_limit)
    return start_app("ws_echo", config=config, env=env)


@pytest.fixture(scope="module", params=MODES)
def echo(request):
    with echo_server(mode=request.param) as server:
        yield server


def ws_url(server, path: str = "/ws") -> str:
    return f"ws://127.0.0.1:{server.port}{path}"


def wait_for_log(server, text: str, count: int = 1, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = server.log()
        if log.count(text) >= count:
            return log
        time.sleep(0.02)
    raise AssertionError(f"{text!r} x{count} not in the log:\n{server.log()}")


# --- a raw client, for what real clients refuse to send -----------------------------

def frame(opcode: int, payload: bytes = b"", fin: bool = True, masked: bool = True) -> bytes:
    """One client frame, masked unless told otherwise."""
    length = len(payload)
    first = (0x80 if fin else 0) | opcode
    mask_bit = 0x80 if masked else 0
    if length < 126:
        head = bytes([first, mask_bit | length])
    elif length < 1 << 16:
        head = bytes([first, mask_bit | 126]) + struct.pack("!H", length)
    else:
        head = bytes([first, mask_bit | 127]) + struct.pack("!Q", length)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class RawClient:
    """A WebSocket client over a plain socket: frames in, frames out, nothing checked."""

    def __init__(self, server, path: str = "/ws", extra: str = "") -> None:
        self.sock = socket.create_connection(server.address, timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n{extra}\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._more()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 "), head

    def _more(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("the server closed the connection")
        return data

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += self._more()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def read_frame(self) -> tuple[int, bytes]:
        """(opcode, payload) of the next frame from the server (never masked)."""
        first, second = self._take(2)
        assert not second & 0x80, "the server masked a frame"
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._take(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._take(8))[0]
        return first & 0x0F, self._take(length)

    def read_close(self) -> tuple[int, bytes]:
        """Skip to the server's close frame: (code, reason); then the socket must end."""
        while True:
            opcode, payload = self.read_frame()
            if opcode == 0x8:
                break
        code = struct.unpack("!H", payload[:2])[0] if payload else 1005
        return code, payload[2:]

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def ended(self) -> bool:
        """Whether the server closed the TCP connection (after its close frame)."""
        self.sock.settimeout(5)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


# --- the seed program ----------------------------------------------------------------

SEED_ECHO = '''
from outside import OutsideHTTP, WebSocket

server = OutsideHTTP(("127.0.0.1", 8081))
ws = WebSocket()
def websocket_handler(connection):
    while True:
        message = connection.recv()
        connection.send(message)
ws.on_connection(websocket_handler)
ws.on_exit(lambda: print("closed"))
server.set_route("/ws", ws)
server.run()
'''


def test_seed_echo_program_runs_unchanged():
    source = SEED_ECHO.replace('("127.0.0.1", 8081)', '("127.0.0.1", 0)')  # a free port
    with start_server(source, env={"PYTHONUNBUFFERED": "1"}) as server:
        with connect(ws_url(server), compression=None) as client:
            client.send(b"\x00binary\xff")
            assert client.recv() == b"\x00binary\xff"
            client.send("text é")
            assert client.recv() == "text é".encode()  # recv() gives bytes, send(bytes) binary
        wait_for_log(server, "closed")


# --- clients -------------------------------------------------------------------------

def test_websocket_client_library(echo):
    client = websocket_client.create_connection(ws_url(echo), timeout=10)
    try:
        client.send("hello")
        assert client.recv() == b"hello"
        client.send_binary(b"\x01\x02")
        assert client.recv() == b"\x01\x02"
        client.ping(b"are you there")
        opcode, data = client.recv_data_frame(control_frame=True)
        assert (opcode, data.data) == (websocket_client.ABNF.OPCODE_PONG, b"are you there")
    finally:
        client.close()


@pytest.mark.parametrize("size", [0, 125, 126, 127, 65535, 65536, 16 * 1024 * 1024])
@pytest.mark.parametrize("compression", ["deflate", None], ids=["deflate", "plain"])
def test_payload_sizes(echo, size, compression):
    payload = os.urandom(size)
    with connect(ws_url(echo), compression=compression, max_size=None) as client:
        negotiated = client.response.headers.get("Sec-WebSocket-Extensions")
        assert (negotiated is not None) == (compression is not None)
        client.send(payload)
        assert client.recv(timeout=60) == payload


def test_compressed_text_round_trip(echo):
    text = "compressible " * 5000
    with connect(ws_url(echo)) as client:
        assert "permessage-deflate" in client.response.headers["Sec-WebSocket-Extensions"]
        for _ in range(3):  # the context carries over between messages
            client.send(text)
            assert client.recv() == text.encode()


def test_fragmented_message_with_interleaved_pings(echo):
    with RawClient(echo) as client:
        client.send(frame(0x1, b"frag", fin=False) + frame(0x9, b"p1")
                    + frame(0x0, b"ment", fin=False) + frame(0x9, b"p2")
                    + frame(0x0, "ed é".encode(), fin=True))
        assert client.read_frame() == (0xA, b"p1")
        assert client.read_frame() == (0xA, b"p2")
        assert client.read_frame() == (0x2, "fragmented é".encode())


def test_hundred_concurrent_echo_clients(echo):
    async def one(number: int) -> int:
        async with async_connect(ws_url(echo), compression=None) as client:
            for round_ in range(20):
                message = f"{number}:{round_}".encode()
                await client.send(message)
                assert await client.recv() == message
        return number

    async def all_clients():
        return await asyncio.gather(*(one(number) for number in range(100)))

    assert sorted(asyncio.run(all_clients())) == list(range(100))


def test_http_served_while_websockets_are_open(echo):
    with contextlib.ExitStack() as stack:
        clients = [stack.enter_context(connect(ws_url(echo), compression=None)) for _ in range(20)]
        with requests.Session() as session:
            for _ in range(30):
                response = session.get(f"http://127.0.0.1:{echo.port}/page", timeout=10)
                assert response.text == "plain HTTP"
        for client in clients:  # and every WebSocket still answers
            client.send(b"still here")
            assert client.recv(timeout=10) == b"still here"


def test_plain_request_to_websocket_route_gets_400(echo):
    response = requests.get(f"http://127.0.0.1:{echo.port}/ws", timeout=10)
    assert response.status_code == 400


# --- protocol violations over the wire ----------------------------------------------

@pytest.mark.parametrize("data, code", [
    (frame(0x2, b"unmasked", masked=False), 1002),
    (frame(0x1, b"\xff\xfe not UTF-8"), 1007),
    (frame(0x1, b"caf" + b"\xc3", fin=False) + frame(0x0, b"(", fin=True), 1007),
    (frame(0x3, b"reserved opcode"), 1002),
    (frame(0x0, b"continuation without a start"), 1002),
    (frame(0x9, b"x" * 126), 1002),
    (bytes([0x80 | 0x40 | 0x2, 0x80]) + os.urandom(4), 1002),  # RSV1 without deflate
    (frame(0x8, b"\x03"), 1002),  # a close payload of one byte
], ids=["unmasked", "invalid-utf8", "invalid-utf8-across-fragments", "unknown-opcode",
        "orphan-continuation", "long-ping", "rsv1", "one-byte-close"])
@pytest.mark.parametrize("mode", MODES)
def test_protocol_violation_closes_with_code(data, code, mode):
    with echo_server(route_options={"compression": False}, mode=mode) as server:
        with RawClient(server) as client:
            client.send(data)
            assert client.read_close()[0] == code
            assert client.ended()
        wait_for_log(server, "EXIT echo")


@pytest.mark.parametrize("mode", MODES)
def test_oversize_message_gets_1009(mode):
    with echo_server(route_options={"max_message_size": 1000}, mode=mode) as server, \
            RawClient(server) as client:
        client.send(frame(0x2, b"x" * 1000))
        assert client.read_frame() == (0x2, b"x" * 1000)  # at the limit: fine
        client.send(frame(0x2, b"x" * 600, fin=False) + frame(0x0, b"x" * 600))
        assert client.read_close()[0] == 1009
        assert client.ended()


def handshake(server, headers: str, path: str = "/ws", method: str = "GET"):
    with Wire(server.address) as wire:
        wire.send(f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n".encode())
        return wire.read_response()


GOOD = ("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")


def test_handshake_answers(echo):
    accepted = handshake(echo, GOOD)
    assert accepted.status == 101
    assert accepted.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert handshake(echo, GOOD.replace("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=")).status == 400
    assert handshake(echo, GOOD.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "")).status == 400
    refused = handshake(echo, GOOD.replace("Version: 13", "Version: 8"))
    assert refused.status == 426
    assert refused.headers["sec-websocket-version"] == "13"


def test_origin_check_uses_the_app_error_handler():
    with start_app("ws_origin") as server:
        refused = handshake(server, GOOD + "Origin: https://evil.example\r\n")
        assert (refused.status, refused.body) == (403, b"custom refusal")
        assert handshake(server, GOOD + "Origin: https://good.example\r\n").status == 101
        with connect(ws_url(server, "/ws?room=1"), origin="https://good.example",
                     subprotocols=["chat", "other"]) as client:
            assert client.subprotocol == "chat"
            assert client.recv() == "chat /ws {'room': '1'}"
            client.send("iterated")
            assert client.recv() == "iterated"


# --- the connection API and every way a connection ends ------------------------------

def close_after(server, path: str, message: str | None) -> tuple[int, str]:
    """Send ``message`` (if any) on a new connection to ``path``: the (code, reason) of
    the close frame the server answers with."""
    with connect(ws_url(server, path)) as client:
        if message is not None:
            client.send(message)
        with pytest.raises(ConnectionClosed) as caught:
            client.recv(timeout=10)
    return caught.value.rcvd.code, caught.value.rcvd.reason


@pytest.fixture(scope="module", params=MODES)
def contract(request):
    """``tests/apps/ws_contract.py`` in one route shape; ``contract.mode`` names it."""
    with start_app("ws_contract", config={"max_workers": 50, "process_timeout": 30},
                   env={"WS_MODE": request.param}) as server:
        server.mode = request.param
        yield server


def test_messages_arrive_as_str_for_text_and_bytes_for_binary(contract):
    with connect(ws_url(contract, "/kinds")) as client:
        client.send("text é")
        assert (client.recv(), client.recv()) == ("str", "text é")
        client.send(b"\x00bytes")
        assert (client.recv(), client.recv()) == ("bytes", b"\x00bytes")
    wait_for_log(contract, "EXIT kinds 1000")  # on_exit(connection) sees the client's close


def test_exit_closes_normally(contract):
    assert close_after(contract, "/exit", "bye")[0] == 1000
    log = wait_for_log(contract, "EXIT exit 1000")
    if contract.mode == "blocking":  # exit() ends the handler
        assert "AFTER EXIT" not in log
    else:  # an on_message handler just returns later
        wait_for_log(contract, "AFTER EXIT True")


def test_handler_error_closes_with_1011_and_is_logged(contract):
    assert close_after(contract, "/raises", "boom")[0] == 1011
    log = wait_for_log(contract, "EXIT raises")
    assert "RuntimeError: handler bug" in log


def test_close_with_code_and_reason(contract):
    assert close_after(contract, "/closes", "close please") == (4001, "done here")
    wait_for_log(contract, "AFTER CLOSE True")
    wait_for_log(contract, "EXIT closes")


def test_messages_after_the_server_closed_are_dropped(contract):
    before = contract.log().count("AFTER CLOSE")
    with RawClient(contract, "/closes") as client:
        # three messages in one write: the first makes the handler close, the others
        # arrive after the close frame went out and must not reach the handler
        client.send(frame(0x1, b"one") + frame(0x1, b"two") + frame(0x1, b"three"))
        assert client.read_close() == (4001, b"done here")
        client.send(frame(0x8, struct.pack("!H", 4001)))
        assert client.ended()
    time.sleep(0.3)
    assert contract.log().count("AFTER CLOSE") == before + 1


@pytest.fixture(scope="module")
def api():
    """``tests/apps/ws_blocking.py``: blocking handlers beyond the shared contract."""
    with start_app("ws_blocking", config={"max_workers": 50, "process_timeout": 30}) as server:
        yield server


def test_handler_returning_closes_normally(api):
    with connect(ws_url(api, "/returns")) as client:
        client.send("once")
        assert client.recv() == b"once"
        with pytest.raises(ConnectionClosed) as caught:
            client.recv(timeout=10)
        assert caught.value.rcvd.code == 1000
    wait_for_log(api, "EXIT returns")


def test_ping_then_iteration_ends_when_the_client_closes(api):
    with RawClient(api, "/pings") as client:
        assert client.read_frame() == (0x9, b"hb")
        client.send(frame(0xA, b"hb") + frame(0x2, b"after pong"))
        assert client.read_frame() == (0x2, b"after pong")
        client.send(frame(0x8, struct.pack("!H", 4000) + b"client leaves"))
        assert client.read_frame() == (0x8, struct.pack("!H", 4000))  # the code echoed
        assert client.ended()
    wait_for_log(api, "ITERATION ENDED 4000")
    wait_for_log(api, "EXIT pings")


def test_on_exit_runs_once_for_each_way_out(api):
    before = api.log().count("EXIT echo")
    with connect(ws_url(api, "/echo")) as client:  # 1. the client closes
        client.send("x")
        client.recv()
    with RawClient(api, "/echo") as client:  # 2. the client vanishes without a close
        client.send(frame(0x2, b"x"))
        client.read_frame()
    with RawClient(api, "/echo") as client:  # 3. a protocol error
        client.send(frame(0x2, b"x", masked=False))
        assert client.read_close()[0] == 1002
    wait_for_log(api, "EXIT echo", before + 3)
    time.sleep(0.5)  # nothing runs twice
    assert api.log().count("EXIT echo") == before + 3


def test_failing_on_exit_is_logged(api):
    with connect(ws_url(api, "/exit-raises")) as client:
        client.send("x")
        client.recv()
    log = wait_for_log(api, "ValueError: exit bug")
    assert "on_exit" in log


@pytest.mark.parametrize("mode", MODES)
def test_idle_timeout_closes_with_1001(mode):
    with echo_server(config={"process_timeout": 1}, mode=mode) as server:
        with connect(ws_url(server)) as client:
            client.send("active")
            assert client.recv() == b"active"
            started = time.monotonic()
            with pytest.raises(ConnectionClosed) as caught:
                client.recv(timeout=15)
            assert caught.value.rcvd.code == 1001
            assert 0.8 < time.monotonic() - started < 10
        wait_for_log(server, "EXIT echo")


def broadcast_server(mode: str, config: dict | None = None):
    """``tests/apps/ws_broadcast.py`` in ``mode``."""
    return start_app("ws_broadcast", config=config, env={"WS_MODE": mode})


@pytest.mark.parametrize("mode", MODES)
def test_broadcast_from_other_threads(mode):
    with broadcast_server(mode, config={"max_workers": 50}) as server, contextlib.ExitStack() as stack:
        clients = [stack.enter_context(connect(ws_url(server))) for _ in range(5)]
        for number, client in enumerate(clients):  # echoes interleave with ticks
            client.send(f"mine {number}")
        for number, client in enumerate(clients):
            seen = [client.recv(timeout=10) for _ in range(40)]
            assert f"echo:mine {number}" in seen
            ticks = [int(text.split()[1]) for text in seen if text.startswith("tick")]
            assert ticks == sorted(ticks) and len(ticks) >= 30
        counted = requests.get(f"http://127.0.0.1:{server.port}/announce?text=hello",
                               timeout=10).text
        assert counted == "5"
        for client in clients:
            while client.recv(timeout=10) != "hello":
                pass


@pytest.mark.parametrize("mode", MODES)
def test_sends_count_as_activity_for_the_idle_timeout(mode):
    with broadcast_server(mode, config={"process_timeout": 1}) as server, \
            connect(ws_url(server)) as client:
        started = time.monotonic()
        while time.monotonic() - started < 2.5:  # silent, only reading ticks
            assert client.recv(timeout=10).startswith("tick")
        client.send("still open")
        while client.recv(timeout=10) != "echo:still open":
            pass


@pytest.mark.parametrize("mode", MODES)
def test_exit_from_another_thread_closes_normally(mode):
    with broadcast_server(mode) as server:
        with connect(ws_url(server)) as client:
            client.recv(timeout=10)
            kicked = requests.get(f"http://127.0.0.1:{server.port}/kick", timeout=10).text
            assert kicked == "1"
            with pytest.raises(ConnectionClosed) as caught:
                while True:
                    client.recv(timeout=10)
            assert caught.value.rcvd.code == 1000
        wait_for_log(server, "EXIT broadcast")


def test_send_from_another_thread_after_the_client_left():
    """A broadcaster gets ConnectionEnded from a connection whose client is gone."""
    with start_app("ws_stale") as server:
        client = RawClient(server)
        assert client.read_frame() == (0x1, b"tick")
        client.close()  # no close frame: the server sees the stream end
        wait_for_log(server, "SEND REFUSED 1006")


@pytest.mark.parametrize("mode", MODES)
def test_client_that_vanished_does_not_hold_a_thread(mode):
    with echo_server(config={"max_workers": 3}, mode=mode) as server:
        for _ in range(10):  # more than max_workers, one after another
            with RawClient(server) as client:
                client.send(frame(0x2, b"x"))
                assert client.read_frame() == (0x2, b"x")
        wait_for_log(server, "EXIT echo", 10)
        with connect(ws_url(server)) as client:
            client.send(b"still served")
            assert client.recv(timeout=10) == b"still served"


def test_pings_from_client_answered_between_messages(echo):
    with RawClient(echo) as client:
        for number in range(50):
            client.send(frame(0x9, str(number).encode()) + frame(0x2, b"m"))
            assert client.read_frame() == (0xA, str(number).encode())
            assert client.read_frame() == (0x2, b"m")


def test_message_sent_before_the_101_is_read(echo):
    key = base64.b64encode(os.urandom(16)).decode()
    sock = socket.create_connection(echo.address, timeout=10)
    with sock:  # the handshake and a first frame in one write
        sock.sendall((f"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
                     + frame(0x2, b"early"))
        received = b""
        while not received.endswith(b"early"):
            data = sock.recv(65536)
            assert data
            received += data
        assert received.startswith(b"HTTP/1.1 101 ")


def test_clients_on_several_threads_at_once(echo):
    """Four client threads echo at the same time, each getting its own messages back."""
    results = []

    def talk(text: str) -> None:
        with connect(ws_url(echo), compression=None) as client:
            for _ in range(50):
                client.send(text)
                results.append(client.recv(timeout=10))

    threads = [threading.Thread(target=talk, args=(str(number),)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == sorted(str(number).encode() for number in range(4) for _ in range(50))


@pytest.mark.parametrize("mode", MODES)
def test_secure_websocket_with_broadcasts_while_reading(tmp_path, mode):
    """wss://: echoes and another thread's broadcasts share one TLS connection."""
    import ssl

    import trustme
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    key_path, cert_path = tmp_path / "key.pem", tmp_path / "cert.pem"
    certificate.private_key_pem.write_to_path(str(key_path))
    cert_path.write_bytes(b"".join(pem.bytes() for pem in certificate.cert_chain_pems))
    context = ssl.create_default_context()
    authority.configure_trust(context)
    config = {"ssl_enabled": True, "ssl_keyfile": str(key_path), "ssl_certfile": str(cert_path)}
    with broadcast_server(mode, config=config) as server:
        assert server.scheme == "https"
        with connect(f"wss://127.0.0.1:{server.port}/ws", ssl=context, open_timeout=10) as client:
            for number in range(30):
                payload = os.urandom(70000 if number % 3 == 0 else 10)
                client.send(payload)
                while True:
                    message = client.recv(timeout=10)
                    if isinstance(message, bytes):
                        assert message == b"echo:" + payload
                        break
                    assert message.startswith("tick")


# --- event-driven routes (on_message) --------------------------------------------------

@pytest.fixture(scope="module")
def events():
    with start_app("ws_events", config={"max_workers": 4, "process_timeout": 2}) as server:
        yield server


def test_on_connection_runs_before_the_first_message(events):
    with connect(ws_url(events, "/greets?name=ada")) as client:
        client.send("first")
        assert client.recv() == "hello ada"
        assert client.recv() == "first"


def test_recv_in_an_event_driven_route_is_an_error(events):
    assert close_after(events, "/receives", None)[0] == 1011  # it closes at once
    log = wait_for_log(events, "EXIT receives")
    assert "recv() is for on_connection handlers" in log


def test_blocking_on_message_does_not_stall_other_connections(events):
    with connect(ws_url(events, "/slow")) as sleeper, connect(ws_url(events, "/slow")) as other:
        sleeper.send("sleep")
        time.sleep(0.2)  # the sleeper's handler now blocks a thread
        started = time.monotonic()
        other.send("quick")
        assert other.recv(timeout=10) == "quick"
        assert time.monotonic() - started < 1.5
        response = requests.get(f"http://127.0.0.1:{events.port}/page", timeout=10)
        assert response.text == "plain HTTP"
        assert sleeper.recv(timeout=10) == "sleep"


def threads(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("Threads:"))


def test_client_that_reads_nothing_is_dropped_and_others_are_served(events):
    """A send to a client that stops reading fails after process_timeout (2 s here):
    the connection ends, on_exit runs, and the loop served everyone else meanwhile."""
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(events.address)
    key = base64.b64encode(os.urandom(16)).decode()
    stalled.sendall((f"GET /flood HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                     f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                     f"Sec-WebSocket-Version: 13\r\n\r\n").encode() + frame(0x1, b"go"))
    try:
        started = time.monotonic()
        with connect(ws_url(events, "/echo")) as other:
            while time.monotonic() - started < 3:
                other.send("still here")
                assert other.recv(timeout=1) == "still here"
        log = wait_for_log(events, "EXIT flood 1006")
        assert "FLOOD SENT" not in log
    finally:
        stalled.close()


@pytest.mark.parametrize("mode", MODES)
def test_more_websockets_than_max_workers_leave_http_served(mode):
    """Open WebSockets do not take the threads HTTP requests need (max_workers 2)."""
    with echo_server(config={"max_workers": 2}, mode=mode) as server:
        clients = [RawClient(server) for _ in range(60)]
        try:
            with requests.Session() as session:
                for _ in range(5):
                    response = session.get(f"http://127.0.0.1:{server.port}/page", timeout=10)
                    assert response.text == "plain HTTP"
            for number, client in enumerate(clients):
                client.send(frame(0x2, str(number).encode()))
            for number, client in enumerate(clients):
                assert client.read_frame() == (0x2, str(number).encode())
            if mode == "events":  # no thread per connection
                assert threads(server.process.pid) < 10
        finally:
            for client in clients:
                client.close()
        wait_for_log(server, "EXIT echo", 60)


@pytest.mark.parametrize("mode", MODES)
def test_max_websockets_refuses_with_503_then_admits_again(mode):
    with echo_server(config={"max_websockets": 2}, mode=mode) as server:
        first, second = RawClient(server), RawClient(server)
        try:
            refused = handshake(server, GOOD)
            assert refused.status == 503
            assert refused.headers["retry-after"] == "1"
            first.send(frame(0x8, struct.pack("!H", 1000)))
            assert first.read_close()[0] == 1000
            wait_for_log(server, "EXIT echo")
            assert handshake(server, GOOD).status == 101
        finally:
            first.close()
            second.close()
        assert "too many WebSocket connections" in server.log()


@pytest.mark.parametrize("mode", MODES)
def test_thousand_idle_websockets_with_the_default_config(mode):
    """1,000 open, idle WebSockets on one worker with the default config (even under a
    soft limit of 512 open files, which the server lifts), and every one still answers."""
    raise_descriptor_limit()  # this process holds the 1,000 client sockets
    with echo_server(mode=mode, soft_file_limit=512) as server:
        clients = []
        try:
            for _ in range(1000):
                clients.append(RawClient(server))
            response = requests.get(f"http://127.0.0.1:{server.port}/page", timeout=10)
            assert response.text == "plain HTTP"
            for number, client in enumerate(clients):
                client.send(frame(0x2, str(number).encode()))
            for number, client in enumerate(clients):
                assert client.read_frame() == (0x2, str(number).encode())
            if mode == "events":
                assert threads(server.process.pid) < 10
        finally:
            for client in clients:
                client.close()
        wait_for_log(server, "EXIT echo", 1000, timeout=30)
