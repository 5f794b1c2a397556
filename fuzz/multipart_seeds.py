"""Seed inputs for the multipart target: selector byte (``multipart_outcome``), then the body."""
from __future__ import annotations

from typing import Dict

_CD = b'Content-Disposition: form-data; name="'
SEEDS: Dict[str, bytes] = {
    "one-field": b"\x00" + b"--boundary\r\n" + _CD + b'a"\r\n\r\nvalue\r\n--boundary--\r\n',
    "file-and-field": b"\x00" + b"--boundary\r\n" + _CD + b'f"; filename="a.txt"\r\nContent-Type: text/plain'
                      b"\r\n\r\n\r\n--boundar\r\n--boundary\r\n" + _CD + b'b"\r\n\r\n\r\n--boundary--',
    "preamble-epilogue": b"\x01" + b"junk\r\n--x\r\n" + _CD + b'a"\r\n\r\n1\r\n--x--\r\nepilogue',
    "padding-after-delimiter": b"\x01" + b"--x \t\r\n" + _CD + b'a"\r\n\r\n1\r\n--x--',
    "extended-filename": b"\x07" + b"--AaB03x\r\n" + _CD + b"f\"; filename*=UTF-8''caf%C3%A9.txt\r\n\r\nz"
                         b"\r\n--AaB03x--",
    "no-name": b"\x00" + b"--boundary\r\nContent-Disposition: form-data\r\n\r\nz\r\n--boundary--",
    "truncated": b"\x00" + b"--boundary\r\n" + _CD + b'a"\r\n\r\nvalue',
    "no-boundary": b"\x00" + b"nothing here",
    "junk-after-delimiter": b"\x00" + b"--boundaryX\r\n" + _CD + b'a"\r\n\r\n\r\n--boundary--',
    "empty-headers": b"\x00" + b"--boundary\r\n\r\nz\r\n--boundary--",
    "recipe-1": b"\x80recipe one",
    "recipe-2": b"\x82\x00\x01\x02",
    "recipe-3": b"\x85" + bytes(range(64)),
}
