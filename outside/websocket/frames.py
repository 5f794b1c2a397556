# cython: annotation_typing=False
# (annotations here are for readers and type checkers; the C types come from the .pxd)
"""The RFC 6455 frame codec (section 5.2): bytes to frames and frames to bytes.

This one file is both twins. It runs as pure Python here, and the build compiles a copy
of it, ``outside/_speedups/_frames.py``, with Cython in pure-Python mode: the types in
``outside/_speedups/_frames.pxd`` (among them the compiled mask, cimported over the
Python one imported below) make that copy C, and nothing else differs.

The parser checks everything a single frame header can tell, before any payload is
buffered: the mask bit for the side we are on, the reserved bits, the opcode, the
rules for control frames, and the payload length against ``max_payload`` (which the
caller lowers as a fragmented message grows). Message-level rules (fragment order,
UTF-8, close payloads) belong to ``outside.websocket.protocol``.
"""
from __future__ import annotations

import sys

from outside.websocket.errors import MESSAGE_TOO_BIG, PROTOCOL_ERROR, ProtocolError
from outside.websocket.mask import apply_mask

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

MAX_CONTROL_PAYLOAD = 125
UNLIMITED = sys.maxsize

_FIN = 0x80
_RSV1 = 0x40
_RSV2_RSV3 = 0x30
_MASKED = 0x80
# A payload at least this long that has not all arrived is gathered as the pieces fed
# and joined once, instead of growing the buffer (each growth copies it into new memory).
_GATHER_SIZE = 64 * 1024


class Frame:
    """One frame: ``fin``, ``rsv1`` (the per-message-compressed bit), ``opcode``, ``payload``."""

    def __init__(self, fin: bool, rsv1: bool, opcode: int, payload: bytes) -> None:
        self.fin = fin
        self.rsv1 = rsv1
        self.opcode = opcode
        self.payload = payload

    def __repr__(self) -> str:
        return (f"Frame(fin={self.fin!r}, rsv1={self.rsv1!r}, opcode={self.opcode!r}, "
                f"payload=<{len(self.payload)} bytes>)")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return (self.fin == other.fin and self.rsv1 == other.rsv1
                and self.opcode == other.opcode and self.payload == other.payload)


class FrameParser:
    """Incremental frame parser (sans-I/O): ``feed(data)``, then ``next_frame()`` until None.

    ``masked``: whether the peer's frames must be masked (True on a server, which reads
    client frames; False on a client). ``allow_rsv1``: a negotiated extension
    (permessage-deflate) gave RSV1 a meaning on data frames. ``max_payload``: data
    frames declaring a longer payload raise close code 1009 before it is read. Violations raise
    ``ProtocolError`` with the close code to answer.
    """

    def __init__(self, masked: bool, allow_rsv1: bool = False,
                 max_payload: int = UNLIMITED) -> None:
        self.masked = masked
        self.allow_rsv1 = allow_rsv1
        self.max_payload = max_payload
        self._buffer = bytearray()
        self._header_done = False
        self._first = 0      # first header byte of the frame being read
        self._length = 0     # its payload length
        self._mask = b""     # its masking key, if masked
        self._pieces: list[bytes | bytearray | memoryview] | None = None  # a large payload's pieces, while it arrives
        self._gathered = 0   # their total length

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append received bytes."""
        if self._pieces is None:
            self._buffer += data
        else:
            piece = data if type(data) is bytes else bytes(data)
            self._pieces.append(piece)
            self._gathered += len(piece)

    @property
    def buffered(self) -> int:
        """Bytes received and not yet returned as frames."""
        return len(self._buffer) + self._gathered

    def next_frame(self) -> Frame | None:
        """The next complete frame, or None until more bytes are fed."""
        if not self._header_done and not self._read_header():
            return None
        length = self._length
        buffer = self._buffer
        if self._pieces is not None:
            if self._gathered < length:
                return None
            payload = self._join_pieces()
            if self._mask:
                payload = apply_mask(payload, self._mask)
        elif len(buffer) < length:
            if length >= _GATHER_SIZE:
                self._pieces = [bytes(buffer)]
                self._gathered = len(buffer)
                buffer.clear()
            return None
        else:
            if self._mask:
                with memoryview(buffer) as view:
                    payload = apply_mask(view[:length], self._mask)
            else:
                payload = bytes(buffer[:length])
            del buffer[:length]
        self._header_done = False
        first = self._first
        return Frame(bool(first & _FIN), bool(first & _RSV1), first & 0x0F, payload)

    def _join_pieces(self) -> bytes:
        """The gathered payload in one piece; bytes past its end go back to the buffer."""
        pieces = self._pieces
        assert pieces is not None  # called only while a payload is gathered
        extra = self._gathered - self._length
        self._pieces = None
        self._gathered = 0
        if extra:
            index = len(pieces) - 1  # (no negative indices: the C twin does not wrap them)
            last = pieces[index]
            cut = len(last) - extra
            self._buffer += memoryview(last)[cut:]
            pieces[index] = memoryview(last)[:cut]
        return b"".join(pieces)

    def _read_header(self) -> bool:
        buffer = self._buffer
        available = len(buffer)
        if available < 2:
            return False
        first = buffer[0]
        second = buffer[1]
        opcode = first & 0x0F
        is_control = opcode >= OP_CLOSE
        if first & _RSV2_RSV3:
            raise ProtocolError(PROTOCOL_ERROR, "reserved bits RSV2/RSV3 set")
        if first & _RSV1 and (is_control or not self.allow_rsv1):
            raise ProtocolError(PROTOCOL_ERROR, "reserved bit RSV1 set")
        if opcode > OP_BINARY and not (OP_CLOSE <= opcode <= OP_PONG):
            raise ProtocolError(PROTOCOL_ERROR, f"unknown opcode {opcode:#x}")
        if bool(second & _MASKED) != self.masked:
            raise ProtocolError(PROTOCOL_ERROR,
                                "unmasked frame from a client" if self.masked
                                else "masked frame from a server")
        length = second & 0x7F
        if is_control and (length > MAX_CONTROL_PAYLOAD or not first & _FIN):
            raise ProtocolError(PROTOCOL_ERROR, "control frame fragmented or over 125 bytes")
        size = 2
        if length == 126:
            size = 4
        elif length == 127:
            size = 10
        if self.masked:
            size += 4
        if available < size:
            return False
        if length == 126:
            length = (buffer[2] << 8) | buffer[3]
        elif length == 127:
            if buffer[2] & 0x80:
                raise ProtocolError(PROTOCOL_ERROR, "payload length with its top bit set")
            # Checked before it is stored: a length over the limit may not fit a C size.
            extended = int.from_bytes(buffer[2:10], "big")
            if extended > self.max_payload:
                raise ProtocolError(MESSAGE_TOO_BIG, "message over the size limit")
            length = extended
        if length > self.max_payload and not is_control:
            raise ProtocolError(MESSAGE_TOO_BIG, "message over the size limit")
        self._mask = bytes(buffer[size - 4:size]) if self.masked else b""
        del buffer[:size]
        self._first = first
        self._length = length
        self._header_done = True
        return True


def frame_header(opcode: int, length: int, fin: bool = True, rsv1: bool = False,
                 masked: bool = False) -> bytes:
    """The header of a frame whose payload is ``length`` bytes, up to the masking key."""
    first = opcode
    if fin:
        first |= _FIN
    if rsv1:
        first |= _RSV1
    mask_bit = _MASKED if masked else 0
    if length < 126:
        return bytes((first, mask_bit | length))
    if length < 65536:
        return bytes((first, mask_bit | 126, length >> 8, length & 0xFF))
    return bytes((first, mask_bit | 127)) + length.to_bytes(8, "big")


def serialize_frame(opcode: int, payload: bytes | bytearray | memoryview, fin: bool = True,
                    rsv1: bool = False, mask: bytes | None = None) -> bytes:
    """One frame as bytes; ``mask`` (4 bytes) masks it, as clients must."""
    header = frame_header(opcode, len(payload), fin, rsv1, mask is not None)
    if mask is not None:
        return header + mask + apply_mask(payload, mask)
    return header + payload
