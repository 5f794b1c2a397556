"""The WebSocket connection as a state machine with no I/O (RFC 6455 sections 5-7).

    protocol = WebSocketProtocol(max_size=..., deflate=parameters_or_None)
    events = protocol.receive_data(data)   # messages, pings, pongs, the peer's close
    socket.sendall(protocol.data_to_send()) # replies owed: pongs, the close echo
    socket.sendall(protocol.send_text("hi"))  # send_* return the bytes of one frame

States: OPEN -> CLOSING (we sent a close, we wait for theirs) -> CLOSED; or OPEN ->
CLOSED when the peer's close arrives first (its echo is queued in ``data_to_send``).
Once CLOSED the caller closes the TCP connection.

A peer that breaks the protocol makes ``receive_data`` raise ``ProtocolError``: the
close frame with its code is queued in ``data_to_send`` and the state is CLOSED.
``exc.events`` holds the events decoded before the bad frame. Later calls raise again.

Thread safety is the caller's: a blocking connection holds one lock around each
``send_*`` plus the write of its result, and around ``receive_data`` plus the write of
``data_to_send()``, which keeps frames (and the shared compression context) in order.
"""
from __future__ import annotations

import codecs
import enum
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Union

from .deflate import DeflateParameters, PerMessageDeflate
from .errors import (
    ABNORMAL_CLOSURE,
    INVALID_PAYLOAD,
    MESSAGE_TOO_BIG,
    NO_STATUS_RECEIVED,
    NORMAL_CLOSURE,
    PROTOCOL_ERROR,
    ConnectionClosed,
    ProtocolError,
    is_valid_close_code,
)
from .frames import (
    MAX_CONTROL_PAYLOAD,
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    UNLIMITED,
    Frame,
)
from .twins import WebSocketFrames

# A security limit: the largest message (after decompression) a peer may send.
DEFAULT_MAX_SIZE = 16 * 1024 * 1024


class State(enum.Enum):
    """Where the close handshake stands (see the module docstring)."""

    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


@dataclass
class TextMessage:
    """A whole text message (fragments joined), decoded."""

    text: str


@dataclass
class BinaryMessage:
    """A whole binary message (fragments joined)."""

    data: bytes


@dataclass
class Ping:
    """A ping; the pong answering it is already queued in ``data_to_send``."""

    payload: bytes


@dataclass
class Pong:
    """A pong: an answer to our ping, or an unsolicited heartbeat (harmless either way)."""

    payload: bytes


@dataclass
class Close:
    """The peer's close frame. ``code`` is 1005 when the frame carried none."""

    code: int
    reason: str


Event = Union[TextMessage, BinaryMessage, Ping, Pong, Close]


class WebSocketProtocol:
    """One side of one WebSocket connection, after the handshake (sans-I/O).

    ``is_client``: a client masks what it sends and expects unmasked frames; a server the
    reverse. ``max_size``: the largest message accepted, in bytes after decompression
    (None: no limit); larger ones fail the connection with close code 1009.
    ``deflate``: the negotiated permessage-deflate parameters, or None.
    ``frames``: the frame codec twin (default: the one ``outside.speedups`` picked).
    """

    def __init__(self, *, is_client: bool = False, max_size: int | None = DEFAULT_MAX_SIZE,
                 deflate: DeflateParameters | None = None,
                 frames: ModuleType | None = None) -> None:
        self.is_client = is_client
        self.max_size = max_size
        self.state = State.OPEN
        self.close_code: int | None = None    # from the peer's close frame
        self.close_reason: str | None = None
        self._frames = frames or WebSocketFrames
        self._serialize: Callable[..., bytes] = self._frames.serialize_frame
        self._deflate = PerMessageDeflate(deflate, is_server=not is_client) if deflate else None
        # Wire bytes a message may take: its limit, plus deflate's worst case if compressed
        # (incompressible data grows by up to 4% at zlib's memLevel=1; websockets uses 5).
        self._wire_limit = UNLIMITED if max_size is None else (
            max_size + max_size // 16 + 1024 if deflate else max_size)
        self._parser = self._frames.FrameParser(masked=not is_client,
                                                allow_rsv1=deflate is not None,
                                                max_payload=self._wire_limit)
        self._output: list[bytes] = []
        self._close_sent = False
        self._failure: ProtocolError | None = None
        # The fragmented message being received, if any.
        self._message_opcode: int | None = None
        self._message_compressed = False
        self._message_parts: list[Any] = []  # str or bytes pieces
        self._message_size = 0   # payload bytes so far, after decompression
        self._message_wire = 0   # payload bytes so far, as received
        self._text_decoder: codecs.IncrementalDecoder | None = None

    # --- receiving ---

    def receive_data(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Feed bytes from the peer; return the events they complete."""
        if self._failure is not None:
            raise self._failure
        if self.state is State.CLOSED:
            return []  # after the close handshake nothing more is read
        parser = self._parser
        parser.feed(data)
        events: list[Event] = []
        # Without deflate the parser's limit is exact, so a whole message in one frame
        # needs no more checks: the fast path, inlined, for small-message traffic.
        plain = self._deflate is None
        try:
            # (handling a frame may close the connection, which mypy cannot see)
            while self.state is not State.CLOSED:  # type: ignore[comparison-overlap]
                frame = parser.next_frame()
                if frame is None:
                    break
                opcode = frame.opcode
                if plain and frame.fin and self._message_opcode is None:
                    if opcode == OP_BINARY:
                        events.append(BinaryMessage(frame.payload))
                        continue
                    if opcode == OP_TEXT:
                        events.append(TextMessage(self._decode(frame.payload)))
                        continue
                event = self._receive_frame(frame)
                if event is not None:
                    events.append(event)
        except ProtocolError as exc:
            self._fail(exc)
            exc.events = events
            raise
        return events

    def receive_eof(self) -> None:
        """The TCP connection ended; without a close frame first, the code is 1006."""
        if self.close_code is None:
            self.close_code, self.close_reason = ABNORMAL_CLOSURE, ""
        self.state = State.CLOSED

    def data_to_send(self) -> bytes:
        """The frames the protocol owes the peer (pongs, close replies), then empty."""
        output = b"".join(self._output)
        self._output.clear()
        return output

    def _receive_frame(self, frame: Frame) -> Event | None:
        opcode = frame.opcode
        if opcode in (OP_TEXT, OP_BINARY):
            if self._message_opcode is not None:
                raise ProtocolError(PROTOCOL_ERROR, "new message inside a fragmented message")
            self._message_opcode = opcode
            self._message_compressed = frame.rsv1
            return self._receive_fragment(frame)
        if opcode == OP_CONTINUATION:
            if self._message_opcode is None:
                raise ProtocolError(PROTOCOL_ERROR, "continuation frame without a message")
            if frame.rsv1:
                raise ProtocolError(PROTOCOL_ERROR, "RSV1 set on a continuation frame")
            return self._receive_fragment(frame)
        if opcode == OP_PING:
            if self.state is State.OPEN:
                self._output.append(self._frame(OP_PONG, frame.payload))
            return Ping(frame.payload)
        if opcode == OP_PONG:
            return Pong(frame.payload)
        return self._receive_close(frame.payload)

    def _receive_fragment(self, frame: Frame) -> Event | None:
        payload = frame.payload
        self._message_wire += len(payload)
        self._parser.max_payload = max(self._wire_limit - self._message_wire, 0)
        if self._message_compressed:
            limit = None if self.max_size is None else self.max_size - self._message_size
            assert self._deflate is not None  # RSV1 is allowed only with deflate
            payload = self._deflate.decompress(payload, frame.fin, limit)
        self._message_size += len(payload)
        if self.max_size is not None and self._message_size > self.max_size:
            raise ProtocolError(MESSAGE_TOO_BIG, "message over the size limit")
        is_text = self._message_opcode == OP_TEXT
        if frame.fin and not self._message_parts:  # the common case: one frame, one message
            self._end_message()
            return TextMessage(self._decode(payload)) if is_text else BinaryMessage(payload)
        if is_text:
            if self._text_decoder is None:
                self._text_decoder = codecs.getincrementaldecoder("utf-8")()
            try:
                self._message_parts.append(self._text_decoder.decode(payload, frame.fin))
            except UnicodeDecodeError:
                raise ProtocolError(INVALID_PAYLOAD, "text message is not valid UTF-8") from None
        else:
            self._message_parts.append(payload)
        if not frame.fin:
            return None
        parts = self._message_parts
        self._end_message()
        return TextMessage("".join(parts)) if is_text else BinaryMessage(b"".join(parts))

    def _end_message(self) -> None:
        self._message_opcode = None
        self._message_parts = []
        self._message_size = self._message_wire = 0
        self._text_decoder = None
        self._parser.max_payload = self._wire_limit

    @staticmethod
    def _decode(payload: bytes) -> str:
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(INVALID_PAYLOAD, "text message is not valid UTF-8") from None

    def _receive_close(self, payload: bytes) -> Close:
        if len(payload) == 1:
            raise ProtocolError(PROTOCOL_ERROR, "close frame with a 1-byte payload")
        code = NO_STATUS_RECEIVED
        reason = ""
        if payload:
            code = int.from_bytes(payload[:2], "big")
            if not is_valid_close_code(code):
                raise ProtocolError(PROTOCOL_ERROR, f"invalid close code {code}")
            try:
                reason = payload[2:].decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolError(INVALID_PAYLOAD, "close reason is not valid UTF-8") from None
        self.close_code, self.close_reason = code, reason
        if not self._close_sent:
            self._output.append(self._close_frame(None if code == NO_STATUS_RECEIVED else code))
        self.state = State.CLOSED
        return Close(code, reason)

    def _fail(self, exc: ProtocolError) -> None:
        if not self._close_sent:
            self._output.append(self._close_frame(exc.code, exc.reason))
        self.state = State.CLOSED
        self._failure = exc

    # --- sending ---

    def send_text(self, text: str) -> bytes:
        """One text message as a frame."""
        return self._data_frame(OP_TEXT, text.encode("utf-8"))

    def send_binary(self, data: bytes | bytearray | memoryview) -> bytes:
        """One binary message as a frame."""
        return self._data_frame(OP_BINARY, data)

    def send_binary_pieces(self, data: bytes | bytearray | memoryview
                           ) -> tuple[bytes | bytearray | memoryview, ...]:
        """``send_binary`` as pieces to write in order: a frame that goes out unmasked
        and uncompressed is its header and ``data`` itself, so a large payload is not
        copied into the frame (write the pieces before ``data`` changes)."""
        if self.state is State.OPEN and self._deflate is None and not self.is_client:
            return (self._frames.frame_header(OP_BINARY, len(data)), data)
        return (self.send_binary(data),)

    def send_ping(self, payload: bytes = b"") -> bytes:
        """A ping (at most 125 bytes of payload)."""
        return self._control_frame(OP_PING, payload)

    def send_pong(self, payload: bytes = b"") -> bytes:
        """An unsolicited pong, e.g. a heartbeat (pings are answered automatically)."""
        return self._control_frame(OP_PONG, payload)

    def send_close(self, code: int | None = NORMAL_CLOSURE, reason: str = "") -> bytes:
        """Start (or finish) the close handshake; b"" if our close was already sent.

        ``code`` None sends a close frame without a code (and ``reason`` must be empty).
        """
        if self._close_sent or self.state is State.CLOSED:
            return b""
        if code is not None and not is_valid_close_code(code):
            raise ValueError(f"{code} is not a close code that may be sent")
        if code is None and reason:
            raise ValueError("a close reason needs a close code")
        self.state = State.CLOSING
        return self._close_frame(code, reason)

    def _data_frame(self, opcode: int, payload: bytes | bytearray | memoryview) -> bytes:
        if self.state is not State.OPEN:
            self._check_open()
        if self._deflate is not None:
            return self._frame(opcode, self._deflate.compress(payload), rsv1=True)
        if self.is_client:
            return self._frame(opcode, payload)
        return self._serialize(opcode, payload)  # the common server case, without detours

    def _control_frame(self, opcode: int, payload: bytes) -> bytes:
        self._check_open()
        if len(payload) > MAX_CONTROL_PAYLOAD:
            raise ValueError("control frame payloads are at most 125 bytes")
        return self._frame(opcode, payload)

    def _check_open(self) -> None:
        if self.state is not State.OPEN:
            raise ConnectionClosed(f"the connection is {self.state.value}")

    def _close_frame(self, code: int | None, reason: str = "") -> bytes:
        self._close_sent = True
        if code is None:
            return self._frame(OP_CLOSE, b"")
        # The reason is cut to fit a control frame, on a character boundary.
        encoded = reason.encode("utf-8")[:123].decode("utf-8", "ignore").encode("utf-8")
        return self._frame(OP_CLOSE, code.to_bytes(2, "big") + encoded)

    def _frame(self, opcode: int, payload: bytes | bytearray | memoryview,
               rsv1: bool = False) -> bytes:
        mask = os.urandom(4) if self.is_client else None
        return self._serialize(opcode, payload, True, rsv1, mask)
