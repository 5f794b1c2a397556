# cython: annotation_typing=False
# (annotations here are for readers and type checkers; the C types come from the .pxd)
"""Writing HTTP/1.1 responses, sans-I/O: bytes out, no sockets.

``write_head`` decides everything a response head says about the exchange, in one
place: the status line, the fields (each name a token, no CR, LF or NUL anywhere: the
only header-injection check), the body's framing (``Content-Length``, chunked, or the
end of the connection for HTTP/1.0 clients; none for HEAD's body, 1xx, 204 and 304),
``Connection`` and the ``Date``/``Server`` fields. ``frame_body`` then frames a streamed
body the way its head announced.

This one file is both twins: it runs as pure Python here, and the build compiles a copy
of it, ``outside/_speedups/_writer.py``, with Cython in pure-Python mode (the types in
``outside/_speedups/_writer.pxd``); ``outside.speedups.ResponseWriter`` is the one in
use. ``ResponseHead`` and ``ResponseError`` live in ``outside.http.response_head`` so that
both twins make and raise the same classes.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from time import time
from typing import Any, TypeVar

# Absolute imports: the build compiles a copy of this file as outside._speedups._writer.
from outside.http.dates import http_date
from outside.http.headers import TOKEN
from outside.http.response_head import (
    CHUNKED,
    FIXED,
    NO_BODY,
    NO_BODY_STATUSES,
    SERVER_NAME,
    UNTIL_CLOSE,
    ResponseError,
    ResponseHead,
)
from outside.http.status import get_description

__all__ = ["CHUNKED", "FIXED", "NO_BODY", "NO_BODY_STATUSES", "SERVER_NAME", "UNTIL_CLOSE",
           "ResponseError", "ResponseHead", "chunked", "close_source", "exactly", "frame_body",
           "until_close", "write_head"]

# Fields the writer decides; a caller's value is read from them, not copied.
_DECIDED = frozenset(("content-type", "content-length", "connection", "transfer-encoding", "date", "server"))
_NOTHING: Mapping[str, str] = {}
_checked_names: dict[str, str] = {}  # valid field name -> its lower case; most repeat on every response
_status_lines: dict[int, tuple[str, str]] = {}  # status -> (its status line, its reason)
# (second, the Date and Server lines): one tuple, so threads never see half an update
_own_lines: tuple[int, list[str]] = (-1, [])


_Head = TypeVar("_Head", bound=ResponseHead)


def _date_and_server(now: int) -> list[str]:
    """The ``Date`` and ``Server`` lines for the second ``now`` (kept until the next)."""
    global _own_lines
    lines = [f"Date: {http_date(now)}\r\n", f"Server: {SERVER_NAME}\r\n"]
    _own_lines = (now, lines)
    return lines


def _checked_lower(name: object) -> str:
    """``name`` in lower case, once it is known to be a token."""
    if not isinstance(name, str) or not TOKEN.match(name):
        raise ResponseError(f"invalid header name {name!r}")
    lower = name.lower()
    if len(_checked_names) < 4096:
        _checked_names[name] = lower
    return lower


def _status_line(status: int) -> tuple[str, str]:
    reason = get_description(status)
    line = _status_lines[status] = (f"HTTP/1.1 {status} {reason}\r\n", reason)
    return line


def _declared_length(values: Sequence[object]) -> int:
    """The one Content-Length the caller declared (repeats must agree, RFC 9110 section 8.6)."""
    lengths = set()
    for value in values:
        text = str(value).strip()
        if not text.isascii() or not text.isdigit():
            raise ResponseError(f"invalid Content-Length {value!r}")
        lengths.add(int(text))
    if len(lengths) > 1:
        raise ResponseError(f"conflicting Content-Length values {sorted(lengths)}")
    return lengths.pop()


def _asks_to_close(values: Sequence[object]) -> bool:
    return any(token.strip() == "close" for value in values for token in str(value).lower().split(","))


def write_head(status: int, fields: Iterable[tuple[Any, Any]], request_method: str = "GET",
               request_version: str = "HTTP/1.1", keep_alive: bool = True, length: int | None = None,
               default_type: str | None = None, extra: Sequence[tuple[str, str]] = (),
               forbidden: Mapping[str, str] = _NOTHING, reason: str | None = None,
               cls: type[_Head] = ResponseHead) -> _Head:  # type: ignore[assignment]
    """The head of a response to a ``request_method`` request in ``request_version``.

    ``fields``: the response's own ``(name, value)`` pairs (values written as ``str``
    writes them). Among them the writer reads, and writes itself: ``Content-Length``
    (used only for a body of unknown ``length``; several must agree), ``Connection``
    (``close`` is honoured), ``Content-Type`` (kept; else ``default_type`` is sent when
    given), ``Date`` and ``Server`` (kept instead of ours); ``Transfer-Encoding`` is
    dropped. ``extra``: fields sent as they are after those (``Set-Cookie``,
    validators), also checked. ``forbidden``: lower-case names (other than those above)
    -> the message of the ``ResponseError`` raised when ``fields`` holds one.
    ``length``: the body's size when known; ``None`` for a stream.

    ``keep_alive`` is the caller's wish (the request allows it, limits not reached); the
    head's ``keep_alive`` is the decision: also False for ``Connection: close`` and for
    a stream to an HTTP/1.0 client (delimited by the close). It writes
    ``Connection: close`` when closing, ``Connection: keep-alive`` to an HTTP/1.0
    client that stays. ``cls``: the class made, ``ResponseHead`` or a subclass of it
    (one that also carries the body saves an object per response). Raises
    ``ResponseError`` (see there).
    """
    if type(status) is not int or not 100 <= status <= 999:
        raise ResponseError(f"invalid status code {status!r}")
    if reason is None:
        status_line, reason = _status_lines.get(status) or _status_line(status)
    else:
        status_line = f"HTTP/1.1 {status} {reason}\r\n"
    second, own = _own_lines
    now = int(time())
    if now != second:
        own = _date_and_server(now)
    lines = [status_line, own[0], own[1]]  # each ends with its CRLF, the status line's included
    lengths: list[Any] | None = None
    connection: list[Any] | None = None
    has_type = False
    for name, value in fields:
        lower = _checked_names.get(name) or _checked_lower(name)
        if lower in _DECIDED:
            if lower == "content-type":
                has_type = True
            elif lower == "content-length":
                lengths = [value] if lengths is None else [*lengths, value]
                continue
            elif lower == "connection":
                connection = [value] if connection is None else [*connection, value]
                continue
            elif lower == "transfer-encoding":
                continue
            else:  # the caller's Date or Server replaces ours
                replaced = own[0] if lower == "date" else own[1]
                lines = [line for line in lines if line is not replaced]
        elif forbidden and lower in forbidden:
            raise ResponseError(forbidden[lower])
        lines.append(f"{name}: {value}\r\n")
    if extra:
        lines.extend([f"{name}: {value}\r\n" for name, value in extra])
    if not has_type and default_type is not None:
        lines.append(f"Content-Type: {default_type}\r\n")

    if status < 200 or status in NO_BODY_STATUSES:
        framing, length = NO_BODY, None
    elif length is not None:
        framing = FIXED
    elif lengths is not None:
        framing, length = FIXED, _declared_length(lengths)
    elif request_version == "HTTP/1.1":
        framing = CHUNKED
        lines.append("Transfer-Encoding: chunked\r\n")
    else:
        framing = UNTIL_CLOSE
        keep_alive = keep_alive and request_method == "HEAD"  # a HEAD has no body to delimit
    if length is not None:
        lines.append(f"Content-Length: {length}\r\n")
    if connection is not None and _asks_to_close(connection):
        keep_alive = False
    if not keep_alive:
        lines.append("Connection: close\r\n")
    elif request_version == "HTTP/1.0":
        lines.append("Connection: keep-alive\r\n")

    lines.append("\r\n")
    text = "".join(lines)
    # One scan instead of one per field: every line break must be one of ours.
    breaks = len(lines)
    if text.count("\n") != breaks or text.count("\r") != breaks or "\0" in text:
        raise ResponseError("CR, LF or NUL in a header name or value")
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise ResponseError("a header holds characters outside latin-1") from exc
    head = cls.__new__(cls)  # made here only: no __init__ call on the hot path
    head.status = status
    head.reason = reason
    head._lines = lines
    head.framing = framing
    head.length = length
    head.keep_alive = keep_alive
    head.sends_body = framing != NO_BODY and request_method != "HEAD"
    head.data = data
    return head


def close_source(source: object) -> None:
    """Close an iterable that will not be (fully) consumed, so its ``finally`` blocks run."""
    close = getattr(source, "close", None)
    if close is not None:
        close()


def frame_body(head: ResponseHead, pieces: Iterable[bytes]) -> Iterator[bytes]:
    """``pieces`` of a streamed body as they go on the wire after ``head``: checked
    against its Content-Length (``ResponseError`` midway when they do not add up),
    chunk-framed, or as they are until the close. Nothing when the head sends no body
    (``pieces`` is closed). Empty pieces are dropped; ``pieces`` is closed at the end."""
    if not head.sends_body:
        close_source(pieces)
        return iter(())
    if head.framing == CHUNKED:
        return chunked(pieces)
    if head.framing == FIXED:
        return exactly(pieces, head.length or 0)
    return until_close(pieces)


def chunked(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The pieces framed as HTTP/1.1 chunks, then the last chunk (no trailers)."""
    try:
        for data in pieces:
            if data:  # an empty chunk would end the body
                yield b"%x\r\n%b\r\n" % (len(data), data)
        yield b"0\r\n\r\n"
    finally:
        close_source(pieces)


def exactly(pieces: Iterable[bytes], length: int) -> Iterator[bytes]:
    """The pieces as they are, checked to add up to the declared ``length``."""
    sent = 0
    try:
        for data in pieces:
            sent += len(data)
            if sent > length:
                raise ResponseError(f"body longer than its Content-Length {length}")
            if data:
                yield data
        if sent != length:
            raise ResponseError(f"body of {sent} bytes, shorter than its Content-Length {length}")
    finally:
        close_source(pieces)


def until_close(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The non-empty pieces as they are (the connection's close ends the body)."""
    try:
        for data in pieces:
            if data:
                yield data
    finally:
        close_source(pieces)
