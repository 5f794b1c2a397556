"""RFC 6455 masking (section 5.3) in pure Python: the twin of ``outside._speedups._mask``.

Masking XORs the payload with a 4-byte key repeated over its length. Python has no
vectorised XOR on bytes, so this works with C-speed whole-buffer primitives instead of
a per-byte loop: small buffers become one big integer XORed at once; larger ones go
through ``bytes.translate`` with one XOR table per key byte on the four interleaved
columns (``data[i::4]``), which converts faster than ``int.from_bytes`` does.
"""
from __future__ import annotations

from typing import Union

# Buffers up to this size take the big-integer path (fewer calls beat faster bytes).
_INT_XOR_MAX_SIZE = 96


def _xor_table(key_byte: int) -> bytes:
    identity = int.from_bytes(bytes(range(256)), "big")
    return (identity ^ int.from_bytes(bytes((key_byte,)) * 256, "big")).to_bytes(256, "big")


_XOR_TABLES: list[bytes] = [_xor_table(key_byte) for key_byte in range(256)]

Buffer = Union[bytes, bytearray, memoryview]


def _check(mask: bytes) -> None:
    if len(mask) != 4:
        raise ValueError("a WebSocket mask is exactly 4 bytes")


def mask_in_place(data: bytearray | memoryview, mask: bytes) -> None:
    """XOR ``data`` (a bytearray or any writable buffer) with ``mask``, in place."""
    _check(mask)
    size = len(data)
    if size <= _INT_XOR_MAX_SIZE:
        data[:] = _int_xor(data, mask, size)
        return
    if not isinstance(data, bytearray):
        data[:] = apply_mask(data, mask)
        return
    _translate_columns(data, mask)


def apply_mask(data: Buffer, mask: bytes) -> bytes:
    """Return ``data`` (any bytes-like object) XORed with ``mask``, as new bytes."""
    _check(mask)
    size = len(data)
    if size <= _INT_XOR_MAX_SIZE:
        return _int_xor(data, mask, size)
    copy = bytearray(data)
    _translate_columns(copy, mask)
    return bytes(copy)


def _translate_columns(data: bytearray, mask: bytes) -> None:
    for column in range(4):
        data[column::4] = data[column::4].translate(_XOR_TABLES[mask[column]])


def _int_xor(data: Buffer, mask: bytes, size: int) -> bytes:
    repeats, rest = divmod(size, 4)
    key = int.from_bytes(mask * repeats + mask[:rest], "little")
    return (int.from_bytes(data, "little") ^ key).to_bytes(size, "little")
