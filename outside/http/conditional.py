"""Conditional and range requests (RFC 9110 sections 13 and 14), evaluated for one
representation described by its entity tag, modification time and size.

Pure functions of the request's header fields: no files, no clock unless passed in.
``headers`` is anything with a case-insensitive ``get`` (``Headers``).
"""
from __future__ import annotations

import time
from collections.abc import Mapping

from .dates import parse_http_date

Range = tuple[int, int]  # (start, end), end exclusive, like a slice
UNSATISFIABLE = "unsatisfiable"
_HUGE = 10 ** 18  # stands in for numbers too long to be a file offset
_SAFE_METHODS = ("GET", "HEAD")


def entity_tags(field: str) -> list[str]:
    """The entity tags of an ``If-Match``/``If-None-Match`` list (``*`` included as is)."""
    return [tag.strip() for tag in field.split(",") if tag.strip()]


def is_weak(tag: str) -> bool:
    """Whether ``tag`` is a weak validator (``W/"..."``)."""
    return tag.startswith("W/")


def _opaque(tag: str) -> str:
    return tag[2:] if is_weak(tag) else tag


def weak_match(tag: str, other: str) -> bool:
    """Weak comparison (RFC 9110 section 8.8.3.2): the opaque tags are equal, weak or not."""
    return _opaque(tag) == _opaque(other)


def strong_match(tag: str, other: str) -> bool:
    """Strong comparison: neither tag is weak and they are equal."""
    return not is_weak(tag) and not is_weak(other) and tag == other


def evaluate_preconditions(method: str, headers: Mapping[str, str], etag: str, mtime: int) -> int | None:
    """304 or 412 when a precondition of RFC 9110 section 13.2.2 says so, else ``None``.

    Order: If-Match (strong comparison), else If-Unmodified-Since (412 on failure); then
    If-None-Match (weak comparison), else (GET/HEAD only) If-Modified-Since (304 for
    GET/HEAD, 412 for other methods). ``mtime`` is the Last-Modified time in seconds.
    """
    if_match = headers.get("If-Match")
    if if_match is not None:
        tags = entity_tags(if_match)
        if "*" not in tags and not any(strong_match(tag, etag) for tag in tags):
            return 412
    else:
        since = headers.get("If-Unmodified-Since")
        limit = parse_http_date(since) if since is not None else None
        if limit is not None and mtime > limit:
            return 412
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = entity_tags(if_none_match)
        if "*" in tags or any(weak_match(tag, etag) for tag in tags):
            return 304 if method in _SAFE_METHODS else 412
    elif method in _SAFE_METHODS:
        since = headers.get("If-Modified-Since")
        limit = parse_http_date(since) if since is not None else None
        if limit is not None and mtime <= limit:
            return 304
    return None


def _number(digits: str) -> int | None:
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    return int(digits) if len(digits) <= 18 else _HUGE


def parse_range(field: str, size: int) -> Range | str | None:
    """The one byte range ``field`` asks of a ``size``-byte representation (RFC 9110 section 14).

    Returns ``(start, end)`` (end exclusive, clipped to the size), ``UNSATISFIABLE``
    (the 416 case: a start at or past the end, a zero-length suffix or an empty
    representation), or ``None`` when the whole should be sent instead: a unit other
    than ``bytes``, invalid syntax (e.g. last < first) or several ranges (not served as
    multipart).
    """
    unit, equals, spec = field.partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return None
    ranges = [part.strip() for part in spec.split(",") if part.strip()]
    if len(ranges) != 1:
        return None
    first, dash, last = ranges[0].partition("-")
    if not dash:
        return None
    if first == "":
        length = _number(last)
        if length is None:
            return None
        if length == 0 or size == 0:
            return UNSATISFIABLE
        return (max(0, size - length), size)
    start = _number(first)
    end = _number(last) if last else _HUGE
    if start is None or end is None or end < start:
        return None
    if start >= size:
        return UNSATISFIABLE
    return (start, min(end + 1, size))


def if_range_holds(field: str, etag: str, mtime: int, now: float | None = None) -> bool:
    """Whether ``If-Range`` lets the range apply (RFC 9110 section 13.1.5).

    An entity tag must match ``etag`` by strong comparison (a weak one never does); a
    date must equal ``mtime`` exactly, and only counts as strong when ``mtime`` is at
    least a second before ``now`` (the current time by default).
    """
    field = field.strip()
    if field.startswith(('W/"', '"')):
        return strong_match(field, etag)
    date = parse_http_date(field)
    current = time.time() if now is None else now
    return date is not None and date == mtime and mtime + 1 <= current


class RangeAnswer:
    """What a ``Range`` request gets: ``status`` 200 (the whole), 206 or 416;
    ``start``/``end`` (end exclusive) of the bytes to send; ``content_range``, the
    ``Content-Range`` value for 206 and 416 (``bytes */size``), else ``None``."""

    __slots__ = ("content_range", "end", "start", "status")

    def __init__(self, status: int, start: int, end: int, content_range: str | None) -> None:
        self.status = status
        self.start = start
        self.end = end
        self.content_range = content_range

    def __repr__(self) -> str:
        return f"RangeAnswer({self.status}, {self.start}, {self.end}, {self.content_range!r})"


def answer_range(headers: Mapping[str, str], size: int, etag: str, mtime: int,
                 now: float | None = None) -> RangeAnswer:
    """How to answer a GET for a ``size``-byte representation given ``Range`` and
    ``If-Range`` (the caller decides whether ranges are offered at all)."""
    range_field = headers.get("Range")
    if range_field is not None:
        if_range = headers.get("If-Range")
        if if_range is None or if_range_holds(if_range, etag, mtime, now):
            wanted = parse_range(range_field, size)
            if wanted == UNSATISFIABLE:
                return RangeAnswer(416, 0, 0, f"bytes */{size}")
            if isinstance(wanted, tuple):
                start, end = wanted
                return RangeAnswer(206, start, end, f"bytes {start}-{end - 1}/{size}")
    return RangeAnswer(200, 0, size, None)
