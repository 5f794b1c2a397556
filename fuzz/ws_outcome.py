"""Run the WebSocket frame codec and protocol over chunks; reduce the runs to outcomes.

The first input byte is a configuration (``Config.from_byte``), the rest is what the
peer sends. Each twin of the frame codec is a module (``outside.speedups.WebSocketFrames*``);
the protocol is one class driven by either twin through its ``frames`` argument.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any, List, NamedTuple, Optional, Tuple

from outside.speedups import WebSocketFramesPy
from outside.websocket.deflate import DeflateParameters
from outside.websocket.errors import ProtocolError
from outside.websocket.frames import OP_CLOSE, OP_PING, OP_PONG, UNLIMITED
from outside.websocket.protocol import BinaryMessage, Close, Ping, TextMessage, WebSocketProtocol

from .harness import chunkings

MAX_SIZES = (None, 0, 125, 1024)
DEFLATES = (
    None,
    DeflateParameters(),
    DeflateParameters(server_no_context_takeover=True, client_no_context_takeover=True),
    DeflateParameters(server_max_window_bits=9, client_max_window_bits=9),
)
ROUNDTRIP_MASK = b"\x5a\xc3\x01\xff"

FrameTuple = Tuple[bool, bool, int, bytes]


class Config(NamedTuple):
    """Which side we play and the limits and extension agreed."""

    is_client: bool
    max_size: Optional[int]
    deflate: Optional[DeflateParameters]

    @classmethod
    def from_byte(cls, selector: int) -> Config:
        return cls(bool(selector & 1), MAX_SIZES[selector >> 1 & 3], DEFLATES[selector >> 3 & 3])

    @property
    def parser_options(self) -> dict:
        """The frame parser's options on this side: peers' frames are masked towards a server."""
        return {"masked": not self.is_client, "allow_rsv1": self.deflate is not None,
                "max_payload": UNLIMITED if self.max_size is None else self.max_size}


class CodecViolation(AssertionError):
    """The codec or protocol broke its contract on this input."""


def split_input(data: bytes) -> Tuple[Config, bytes]:
    """The configuration byte and the bytes the peer sends."""
    return Config.from_byte(data[0] if data else 0), data[1:]


def _as_tuple(frame: Any) -> FrameTuple:
    return (frame.fin, frame.rsv1, frame.opcode, frame.payload)


# --- the frame codec ------------------------------------------------------------------

class FramesOutcome(NamedTuple):
    frames: Tuple[FrameTuple, ...]
    error: Optional[int]   # the close code of the ProtocolError raised
    buffered: Optional[int]  # bytes left over at the end, when no error


def parse_frames(frames: ModuleType, options: dict, chunks: List[bytes]) -> FramesOutcome:
    """Feed chunks to a FrameParser, taking every complete frame after each."""
    parser = frames.FrameParser(**options)
    parsed: List[FrameTuple] = []
    try:
        for chunk in chunks:
            parser.feed(chunk)
            while (frame := parser.next_frame()) is not None:
                parsed.append(_as_tuple(frame))
    except ProtocolError as exc:
        return FramesOutcome(tuple(parsed), exc.code, None)
    return FramesOutcome(tuple(parsed), None, parser.buffered)


def check_roundtrip(frames: ModuleType, options: dict, outcome: FramesOutcome) -> None:
    """Every parsed frame, serialized again by the same twin, parses back to itself."""
    mask = ROUNDTRIP_MASK if options["masked"] else None
    for fin, rsv1, opcode, payload in outcome.frames:
        if not isinstance(payload, bytes):
            raise CodecViolation(f"payload is {type(payload).__name__}, not bytes")
        wire = frames.serialize_frame(opcode, payload, fin, rsv1, mask)
        again = parse_frames(frames, options, [wire])
        if again != FramesOutcome(((fin, rsv1, opcode, payload),), None, 0):
            raise CodecViolation(f"frame {(fin, rsv1, opcode, payload)!r} came back as {again}")


# --- the protocol ----------------------------------------------------------------------

class ProtocolOutcome(NamedTuple):
    events: Tuple[Any, ...]
    error: Optional[int]
    sent: Tuple[FrameTuple, ...]  # the frames we owed the peer, unmasked


def run_protocol(frames: ModuleType, config: Config, chunks: List[bytes]) -> ProtocolOutcome:
    """Drive a WebSocketProtocol with ``chunks``; collect its events and replies."""
    protocol = WebSocketProtocol(is_client=config.is_client, max_size=config.max_size,
                                 deflate=config.deflate, frames=frames)
    events: List[Any] = []
    error = None
    sent = b""
    try:
        for chunk in chunks:
            events.extend(protocol.receive_data(chunk))
            sent += protocol.data_to_send()
    except ProtocolError as exc:
        events.extend(exc.events)
        error = exc.code
        sent += protocol.data_to_send()
        _check_sticky(protocol, exc)
    # Clients mask what they send with random keys: compare the frames, not the bytes.
    replies = parse_frames(WebSocketFramesPy, {"masked": config.is_client}, [sent])
    if replies.error is not None or replies.buffered:
        raise CodecViolation(f"the protocol sent malformed frames: {sent!r}")
    return ProtocolOutcome(tuple(events), error, replies.frames)


def _check_sticky(protocol: WebSocketProtocol, error: ProtocolError) -> None:
    try:
        protocol.receive_data(b"\x81\x00")
    except ProtocolError as again:
        if again.code != error.code:
            raise CodecViolation(f"error changed after failure: {error} then {again}") from again
        return
    raise CodecViolation(f"the protocol read on after failing with {error}")


def check_protocol(config: Config, outcome: ProtocolOutcome) -> None:
    """Invariants of one run: limits kept, pings answered, closes echoed, one close sent."""
    pings = [event.payload for event in outcome.events if isinstance(event, Ping)]
    pongs = [payload for _, _, opcode, payload in outcome.sent if opcode == OP_PONG]
    if pings != pongs:
        raise CodecViolation(f"pings {pings!r} answered with pongs {pongs!r}")
    for event in outcome.events:
        size = len(event.text.encode("utf-8", "surrogatepass")) if isinstance(event, TextMessage) \
            else len(event.data) if isinstance(event, BinaryMessage) else 0
        if config.max_size is not None and size > config.max_size:
            raise CodecViolation(f"a {size}-byte message passed max_size {config.max_size}")
    closes = [payload for _, _, opcode, payload in outcome.sent if opcode == OP_CLOSE]
    if len(closes) > 1 or (closes and outcome.sent[-1][2] != OP_CLOSE):
        raise CodecViolation(f"close frames sent out of place: {outcome.sent!r}")
    if outcome.error is not None:
        if not closes or int.from_bytes(closes[0][:2], "big") != outcome.error:
            raise CodecViolation(f"failure {outcome.error} not answered with its close code")
    elif any(isinstance(event, Close) for event in outcome.events) and (
            not isinstance(outcome.events[-1], Close) or not closes):
        raise CodecViolation("events after the peer's close, or the close not echoed")
    if any(opcode == OP_PING for _, _, opcode, _ in outcome.sent):
        raise CodecViolation("the protocol pinged on its own")


# --- the oracle for one twin -------------------------------------------------------------

def self_consistency_check(frames: ModuleType):
    """One twin's oracle: sane codec and protocol outcomes, the same however the input is cut."""
    def check(data: bytes) -> None:
        config, stream = split_input(data)
        options = config.parser_options
        whole_frames = parse_frames(frames, options, [stream])
        check_roundtrip(frames, options, whole_frames)
        whole_protocol = run_protocol(frames, config, [stream])
        check_protocol(config, whole_protocol)
        for chunks in chunkings(stream):
            split_frames = parse_frames(frames, options, chunks)
            if split_frames != whole_frames:
                raise CodecViolation(f"frames, fed whole: {whole_frames}\nfed as {chunks!r}: {split_frames}")
            split_protocol = run_protocol(frames, config, chunks)
            if split_protocol != whole_protocol:
                raise CodecViolation(
                    f"protocol, fed whole: {whole_protocol}\nfed as {chunks!r}: {split_protocol}")
    return check
