"""Run the multipart parser over chunks and check its contract (``outside/http/multipart.py``).

An outcome is the parts (each ``PartHead`` with its data joined: how data is cut into
pieces is not part of the contract) and the error, if any (class and reason). Every way
of cutting the same input must give the same outcome.

Input format: the first byte picks the boundary (``BOUNDARIES``) and, in its high bit,
which check runs: 0 parses the rest as a body; 1 reads the rest as a recipe for a valid
body (``recipe_body``), builds it, and checks that the parts come back exactly.
"""
from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from typing import List, NamedTuple, Optional, Tuple

from outside.http.multipart import PART_END, MultipartError, MultipartParser, PartHead

from .harness import chunkings

BOUNDARIES = (b"boundary", b"x", b"----WebKitFormBoundary7MA4YWxkTrZu0gW",
              b"--", b"a'()+_,-./:=? b", b"9" * 70, b"-x-", b"AaB03x")


class ContractViolation(AssertionError):
    """The parser broke its contract on this input."""


class Outcome(NamedTuple):
    parts: Tuple[Tuple[PartHead, bytes], ...]
    error: Optional[str]  # the reason of the MultipartError, if one was raised


def parse(boundary: bytes, chunks: Sequence[bytes], max_header_size: int = 1024) -> Outcome:
    """Feed ``chunks``, then end; the parts and the error, checking the event order."""
    parser = MultipartParser(boundary, max_header_size=max_header_size)
    parts: List[Tuple[PartHead, bytes]] = []
    head: Optional[PartHead] = None
    data = bytearray()
    def take(events: List[object]) -> None:
        nonlocal head, data
        for event in events:
            if isinstance(event, PartHead):
                _expect(head is None, "a PartHead inside a part")
                head, data = event, bytearray()
            elif event is PART_END:
                _expect(head is not None, "PART_END outside a part")
                parts.append((head, bytes(data)))  # type: ignore[arg-type]
                head = None
            else:
                _expect(type(event) is bytes and len(event) > 0, f"bad data event {event!r}")  # type: ignore[arg-type]
                _expect(head is not None, "data outside a part")
                data += event  # type: ignore[operator]

    try:
        for chunk in chunks:
            take(parser.feed(chunk))  # type: ignore[arg-type]
        parser.end()
    except MultipartError as exc:
        take(exc.events)
        _check_sticky(parser, exc)
        return Outcome(tuple(parts), exc.reason)
    _expect(head is None and parser.finished, "ended without error inside a part")
    return Outcome(tuple(parts), None)


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ContractViolation(message)


def _check_sticky(parser: MultipartParser, error: MultipartError) -> None:
    for call in (lambda: parser.feed(b"--x\r\n"), parser.end):
        try:
            call()
        except MultipartError as again:
            _expect(again.reason == error.reason and again.events == [], "a failed parser raised another error")
        else:
            raise ContractViolation("a failed parser accepted more input")


def same_every_way(boundary: bytes, body: bytes) -> Outcome:
    """The outcome, checked equal whole, byte by byte (short inputs) and in random splits."""
    expected = parse(boundary, [body])
    for chunks in chunkings(body):
        got = parse(boundary, chunks)
        if got != expected:
            raise ContractViolation(f"{len(chunks)} chunks gave {got!r}, whole gave {expected!r}")
    for _head, data in expected.parts:
        _expect(b"\r\n--" + boundary not in data, "a part's data holds the delimiter")
    return expected


def build_body(boundary: bytes, parts: Sequence[Tuple[List[Tuple[bytes, bytes]], bytes]],
               preamble: bytes = b"", epilogue: bytes = b"") -> bytes:
    """A multipart body from ``(header lines, data)`` parts, written out by hand."""
    out = [preamble + (b"\r\n" if preamble else b"")]
    for headers, data in parts:
        out.append(b"--" + boundary + b"\r\n")
        out.extend(name + b": " + value + b"\r\n" for name, value in headers)
        out.append(b"\r\n" + data + b"\r\n")
    out.append(b"--" + boundary + b"--" + epilogue)
    return b"".join(out)


_DATA_ALPHABET = b"ab\r\n-\x00\xff" + b"-" * 4


def recipe_body(boundary: bytes, recipe: bytes) -> Tuple[bytes, List[Tuple[str, Optional[str], bytes]]]:
    """A valid body chosen by ``recipe`` and the ``(name, filename, data)`` it holds."""
    rng = random.Random(zlib.crc32(recipe))
    delimiter = b"\r\n--" + boundary
    expected: List[Tuple[str, Optional[str], bytes]] = []
    parts = []
    for index in range(rng.randint(0, 6)):
        data = bytes(rng.choice(_DATA_ALPHABET) for _ in range(rng.randint(0, 40)))
        data += boundary[:rng.randint(0, len(boundary))] if rng.random() < 0.5 else b""
        if delimiter in data:
            data = data.replace(b"\r", b"r")  # a body may never hold its own delimiter
        name = f"f{index}-é"
        filename = rng.choice([None, "a.txt", "", "C:\\dir\\b.bin", "ü ñ.png"])
        disposition = b'form-data; name="' + name.encode() + b'"'
        if filename is not None:
            disposition += b'; filename="' + filename.replace("\\", "\\\\").encode() + b'"'
        headers = [(b"Content-Disposition", disposition)]
        if rng.random() < 0.5:
            headers.append((b"Content-Type", b"application/octet-stream"))
        parts.append((headers, data))
        expected.append((name, filename, data))
    preamble = recipe[:rng.randint(0, 8)].replace(b"\r", b"").replace(b"\n", b"").replace(b"-", b"")
    body = build_body(boundary, parts, preamble, epilogue=b"\r\n" if rng.random() < 0.5 else b"")
    return body, expected


def check(data: bytes) -> None:
    """The fuzz oracle for one input (see the module docstring)."""
    selector = data[0] if data else 0
    boundary = BOUNDARIES[selector & 7]
    rest = data[1:]
    if selector & 0x80:
        body, expected = recipe_body(boundary, rest)
        outcome = same_every_way(boundary, body)
        got = [(head.name, head.filename, part) for head, part in outcome.parts]
        if outcome.error is not None or got != expected:
            raise ContractViolation(f"a valid body came back as {outcome!r}, expected {expected!r}")
    else:
        same_every_way(boundary, rest)
