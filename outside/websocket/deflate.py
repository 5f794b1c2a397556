"""permessage-deflate (RFC 7692): negotiation and the per-message compressor.

The server accepts the first offer of ``Sec-WebSocket-Extensions`` that it can honour,
and declines the others: an offer with an unknown, repeated or malformed parameter is
declined (RFC 7692 section 5), and so is ``server_max_window_bits=8``, which zlib cannot
compress with (its raw deflate streams need a window of at least 2**9).

Decompression is bounded: the caller passes how many bytes the message may still grow,
and zlib stops there (``max_length``), so a small "zip bomb" frame costs no more memory
than the limit before it is refused with close code 1009.

The zlib contexts are created on first use and dropped after each message when context
takeover is off, so idle connections hold no compression memory until they need it.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

from .errors import MESSAGE_TOO_BIG, PROTOCOL_ERROR, ProtocolError

EXTENSION_NAME = "permessage-deflate"
# Each message ends with an empty stored block after a sync flush; senders strip it
# and receivers put it back (RFC 7692 section 7.2.1).
_SYNC_TAIL = b"\x00\x00\xff\xff"
_MIN_WINDOW_BITS = 9   # what zlib compresses with (RFC 7692 allows 8 on the wire)
_MAX_WINDOW_BITS = 15
_FLAG_PARAMETERS = ("server_no_context_takeover", "client_no_context_takeover")
_WINDOW_PARAMETERS = ("server_max_window_bits", "client_max_window_bits")


@dataclass(frozen=True)
class DeflateParameters:
    """The agreed parameters (RFC 7692 section 7.1) of one connection."""

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int | None = None
    client_max_window_bits: int | None = None

    def response_header(self) -> str:
        """The ``Sec-WebSocket-Extensions`` value a server answers with."""
        parts = [EXTENSION_NAME]
        if self.server_no_context_takeover:
            parts.append("server_no_context_takeover")
        if self.client_no_context_takeover:
            parts.append("client_no_context_takeover")
        if self.server_max_window_bits is not None:
            parts.append(f"server_max_window_bits={self.server_max_window_bits}")
        if self.client_max_window_bits is not None:
            parts.append(f"client_max_window_bits={self.client_max_window_bits}")
        return "; ".join(parts)


Offer = tuple[str, dict[str, list[Optional[str]]]]


def parse_extensions(header_values: Iterable[str]) -> list[Offer]:
    """``Sec-WebSocket-Extensions`` values as (name, {parameter: [values]}) in order.

    A parameter without ``=`` has the value None; quoted values are unquoted. Repeats are
    kept (as several values) so that the caller can refuse them.
    """
    offers = []
    for header in header_values:
        for offer in header.split(","):
            name, *parameters = (item.strip() for item in offer.split(";"))
            if not name:
                continue
            parsed: dict[str, list[str | None]] = {}
            for parameter in parameters:
                key, has_value, value = parameter.partition("=")
                parsed.setdefault(key.strip().lower(), []).append(
                    value.strip().strip('"') if has_value else None)
            offers.append((name.lower(), parsed))
    return offers


def _window_bits(value: str | None) -> int | None:
    """A max_window_bits value 8..15, or None when malformed."""
    if value is None or not value.isdigit() or value.startswith("0"):
        return None
    bits = int(value)
    return bits if 8 <= bits <= _MAX_WINDOW_BITS else None


def _accept_offer(parameters: dict[str, list[str | None]]) -> DeflateParameters | None:
    if any(key not in _FLAG_PARAMETERS + _WINDOW_PARAMETERS or len(values) > 1
           for key, values in parameters.items()):
        return None
    if any(parameters.get(flag, [None])[0] is not None for flag in _FLAG_PARAMETERS):
        return None
    server_bits = None
    if "server_max_window_bits" in parameters:
        server_bits = _window_bits(parameters["server_max_window_bits"][0])
        if server_bits is None or server_bits < _MIN_WINDOW_BITS:
            return None
    # client_max_window_bits needs no answer: without a value the client merely supports
    # it; with one, it has limited its own window, and our inflater (window 15) reads any.
    client_bits = parameters.get("client_max_window_bits", [None])[0]
    if client_bits is not None and _window_bits(client_bits) is None:
        return None
    return DeflateParameters(
        server_no_context_takeover="server_no_context_takeover" in parameters,
        client_no_context_takeover="client_no_context_takeover" in parameters,
        server_max_window_bits=server_bits,
    )


def negotiate(header_values: Iterable[str]) -> DeflateParameters | None:
    """The parameters of the first acceptable permessage-deflate offer, or None."""
    for name, parameters in parse_extensions(header_values):
        if name == EXTENSION_NAME:
            accepted = _accept_offer(parameters)
            if accepted is not None:
                return accepted
    return None


class PerMessageDeflate:
    """Compresses outgoing and inflates incoming messages of one connection.

    ``is_server`` says which half of the parameters is ours. ``mem_level`` 5 (zlib's
    default is 8) keeps a compressor at 144 KiB instead of 256 KiB (window 15) for a
    slightly lower ratio: it is held for the connection's life under context takeover.
    """

    def __init__(self, parameters: DeflateParameters, is_server: bool = True,
                 level: int = 6, mem_level: int = 5) -> None:
        self.parameters = parameters
        self.level = level
        self.mem_level = mem_level
        if is_server:
            self._compress_bits = parameters.server_max_window_bits or _MAX_WINDOW_BITS
            self._compress_reset = parameters.server_no_context_takeover
            self._inflate_reset = parameters.client_no_context_takeover
        else:
            self._compress_bits = max(parameters.client_max_window_bits or _MAX_WINDOW_BITS,
                                      _MIN_WINDOW_BITS)
            self._compress_reset = parameters.client_no_context_takeover
            self._inflate_reset = parameters.server_no_context_takeover
        self._compressor: zlib._Compress | None = None
        self._inflater: zlib._Decompress | None = None

    def compress(self, payload: bytes | bytearray | memoryview) -> bytes:
        """One whole message, compressed, ready to go in a frame with RSV1 set."""
        if self._compressor is None:
            self._compressor = zlib.compressobj(self.level, zlib.DEFLATED, -self._compress_bits,
                                                self.mem_level)
        data = self._compressor.compress(payload) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        if self._compress_reset:
            self._compressor = None
        if data.endswith(_SYNC_TAIL):
            data = data[:-4]
        return data or b"\x00"  # an empty message is one empty stored block, not nothing

    def decompress(self, data: bytes, final: bool, max_length: int | None) -> bytes:
        """Inflate one frame of a compressed message; ``final`` on its last frame.

        More than ``max_length`` bytes of output raise ProtocolError 1009 (None: no limit).
        """
        if self._inflater is None:
            self._inflater = zlib.decompressobj(-_MAX_WINDOW_BITS)
        inflater = self._inflater
        if final:
            data += _SYNC_TAIL
        try:
            if max_length is None:
                output = inflater.decompress(data)
            else:
                output = inflater.decompress(data, max_length + 1)
        except zlib.error as exc:
            raise ProtocolError(PROTOCOL_ERROR, f"invalid compressed data: {exc}") from None
        if max_length is not None and (len(output) > max_length or inflater.unconsumed_tail):
            raise ProtocolError(MESSAGE_TOO_BIG, "message over the size limit once inflated")
        # A sender may end a message with a final (BFINAL) block, which ends the stream:
        # the next message then starts a new one, with an empty window.
        if final and (self._inflate_reset or inflater.eof):
            self._inflater = None
        return output
