"""RFC 6455 masking, both twins: known vectors, every small size, in-place and copying."""
from __future__ import annotations

import os
import threading
from types import ModuleType

import pytest

# Every size up to 4 KiB (all paths and tails of the pure and the C twin), then sizes
# around the larger thresholds, up to a MiB and odd sizes past it.
SMALL_SIZES = range(4097)
LARGE_SIZES = [4097, 4099, 8191, 65535, 65536, 65537, 262143, 262144, 262145,
               (1 << 20) - 1, 1 << 20, (1 << 20) + 3]


def reference_mask(data: bytes, key: bytes) -> bytes:
    """RFC 6455 section 5.3, byte by byte: independent of both twins."""
    return bytes(byte ^ key[index % 4] for index, byte in enumerate(data))


def test_rfc6455_example(mask: ModuleType) -> None:
    # Section 5.7: "Hello" masked with 37 fa 21 3d.
    key = bytes.fromhex("37fa213d")
    assert mask.apply_mask(b"Hello", key) == bytes.fromhex("7f9f4d5158")
    buffer = bytearray(bytes.fromhex("7f9f4d5158"))
    mask.mask_in_place(buffer, key)
    assert buffer == b"Hello"


def _check_size(mask: ModuleType, data: bytes, key: bytes) -> None:
    expected = reference_mask(data, key)
    masked = mask.apply_mask(data, key)
    assert isinstance(masked, bytes) and len(masked) == len(data)
    assert masked == expected, f"apply_mask differs from the reference at size {len(data)}"
    buffer = bytearray(data)
    mask.mask_in_place(buffer, key)
    assert buffer == expected, f"mask_in_place differs from the reference at size {len(data)}"
    mask.mask_in_place(buffer, key)
    assert buffer == data


def test_every_size_up_to_4_kib_matches_the_reference(mask: ModuleType) -> None:
    key = os.urandom(4)
    data = os.urandom(SMALL_SIZES[-1])
    for size in SMALL_SIZES:
        _check_size(mask, data[:size], key)


@pytest.mark.parametrize("size", LARGE_SIZES)
def test_large_sizes_match_the_reference(mask: ModuleType, size: int) -> None:
    _check_size(mask, os.urandom(size), os.urandom(4))


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_apply_mask_takes_any_bytes_like(mask: ModuleType, kind: type) -> None:
    data = os.urandom(1000)
    key = b"\x01\x02\x03\x04"
    assert mask.apply_mask(kind(data), key) == reference_mask(data, key)
    assert mask.apply_mask(memoryview(data)[3:900], key) == reference_mask(data[3:900], key)


@pytest.mark.parametrize("size", [5, 300, 300_000])
def test_in_place_on_a_memoryview_slice_touches_only_the_slice(mask: ModuleType,
                                                                 size: int) -> None:
    data = os.urandom(size + 20)
    key = os.urandom(4)
    buffer = bytearray(data)
    mask.mask_in_place(memoryview(buffer)[10:-10], key)
    assert buffer[:10] == data[:10] and buffer[-10:] == data[-10:]
    assert bytes(buffer[10:-10]) == mask.apply_mask(data[10:-10], key)


def test_refuses_read_only_buffers_and_bad_keys(mask: ModuleType) -> None:
    with pytest.raises(TypeError):
        mask.mask_in_place(b"read only", b"abcd")
    with pytest.raises(TypeError):
        mask.mask_in_place(memoryview(b"read only" * 100), b"abcd")
    for key in (b"", b"abc", b"abcde"):
        with pytest.raises(ValueError):
            mask.apply_mask(b"data", key)
        with pytest.raises(ValueError):
            mask.mask_in_place(bytearray(b"data"), key)


def test_large_buffers_from_several_threads(mask: ModuleType) -> None:
    # Buffers big enough to be masked without the GIL, in parallel.
    key = os.urandom(4)
    originals = [os.urandom(1 << 20) for _ in range(4)]
    expected = [mask.apply_mask(data, key) for data in originals]
    buffers = [bytearray(data) for data in originals]
    errors: list = []

    def work(buffer: bytearray) -> None:
        try:
            for _ in range(11):  # odd: ends masked
                mask.mask_in_place(buffer, key)
        except Exception as exc:  # noqa: BLE001 - any failure is reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(buffer,)) for buffer in buffers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert [bytes(buffer) for buffer in buffers] == expected
