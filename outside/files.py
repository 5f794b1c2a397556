"""Files as responses: ``FilePath``, and the RFC 9110 validators, preconditions and ranges.

The server always answers a ``FilePath`` with a ``FileSpan`` (path, offset, count) that
it streams with ``socket.sendfile``; nothing here reads the file for a response.
"""
from __future__ import annotations

import errno
import mimetypes
import os
import time
from datetime import timezone
from email.utils import formatdate, parsedate_to_datetime
from stat import S_ISDIR, S_ISREG
from typing import IO, Any, Dict, List, Optional, Tuple, Union

Range = Tuple[int, int]  # (start, end), end exclusive, like a slice
UNSATISFIABLE = "unsatisfiable"
_HUGE = 10 ** 18  # stands in for numbers too long to be a file offset


class FilePath:
    """A file to send as a response's content.

    ``path`` is the file; ``read_start`` (0) and ``read_end`` (the file's size when the
    ``FilePath`` was made, 0 if it did not exist) bound what ``read()`` returns by default.
    The Content-Type is guessed from the file name.
    """

    def __init__(self, path: Union[str, os.PathLike[str]]) -> None:
        self.path = os.fspath(path)
        self.read_start = 0
        try:
            self.read_end = os.path.getsize(self.path)
        except OSError:
            self.read_end = 0
        self._cache: Dict[Range, bytes] = {}

    def read(self, read_range: Optional[Range] = None, twice: bool = False) -> bytes:
        """The bytes of ``read_range`` = ``(start, end)`` (end exclusive), by default
        ``(read_start, read_end)``. The result is cached; ``twice=True`` reads the file
        again instead of answering from the cache.
        """
        start, end = read_range if read_range is not None else (self.read_start, self.read_end)
        if twice or (start, end) not in self._cache:
            with open(self.path, "rb") as file:
                file.seek(start)
                self._cache[(start, end)] = file.read(max(0, end - start))
        return self._cache[(start, end)]

    def content_type(self) -> str:
        """The media type guessed from the file name (``application/octet-stream`` if none)."""
        guessed, encoding = mimetypes.guess_type(self.path)
        if guessed is None or encoding is not None:  # e.g. .tar.gz: sent as is, not decoded
            return "application/octet-stream"
        return guessed

    def __repr__(self) -> str:
        return f"FilePath({self.path!r})"


class FileSpan:
    """``count`` bytes of the file at ``path`` from ``offset``: what the server sends."""

    __slots__ = ("path", "offset", "count")

    def __init__(self, path: str, offset: int, count: int) -> None:
        self.path = path
        self.offset = offset
        self.count = count

    def open(self) -> IO[bytes]:
        """The file opened for binary reading (the caller closes it), e.g. for
        ``socket.sendfile(file, offset, count)``."""
        return open(self.path, "rb")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FileSpan) and \
            (self.path, self.offset, self.count) == (other.path, other.offset, other.count)

    def __repr__(self) -> str:
        return f"FileSpan({self.path!r}, {self.offset}, {self.count})"


class FilePlan:
    """How to answer a request for a file: ``status``, extra header fields, the span to send."""

    __slots__ = ("status", "headers", "span")

    def __init__(self, status: int, headers: List[Tuple[str, str]], span: Optional[FileSpan]) -> None:
        self.status = status
        self.headers = headers
        self.span = span


def regular_file_stat(path: str) -> os.stat_result:
    """``os.stat(path)``; ``OSError`` as well when it is not a regular file (a directory...)."""
    result = os.stat(path)
    if not S_ISREG(result.st_mode):
        raise OSError(errno.EISDIR if S_ISDIR(result.st_mode) else errno.EINVAL, "not a regular file", path)
    return result


def entity_tag(stat: os.stat_result) -> str:
    """A weak ETag from the file's size and modification time (RFC 9110 section 8.8.3)."""
    return f'W/"{stat.st_size:x}-{stat.st_mtime_ns:x}"'


def http_date(timestamp: float) -> str:
    """``timestamp`` as an IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``)."""
    return formatdate(timestamp, usegmt=True)


def parse_http_date(text: str) -> Optional[int]:
    """An HTTP-date (any of the three RFC 9110 forms) as a Unix time, ``None`` if invalid."""
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # asctime form: always GMT, never the local zone
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def _entity_tags(field: str) -> List[str]:
    return [tag.strip() for tag in field.split(",") if tag.strip()]


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def _weak_match(tag: str, etag: str) -> bool:
    return _opaque(tag) == _opaque(etag)


def evaluate_preconditions(method: str, headers: Any, etag: str, mtime: int) -> Optional[int]:
    """304 or 412 when a precondition of RFC 9110 section 13.2.2 says so, else ``None``.

    Order: If-Match, else If-Unmodified-Since (412 on failure); then If-None-Match, else
    (GET/HEAD only) If-Modified-Since (304 for GET/HEAD, 412 for other methods). Our ETags
    are weak, so If-Match (strong comparison) only passes with ``*``.
    """
    if_match = headers.get("If-Match")
    if if_match is not None:
        if if_match.strip() != "*":
            return 412
    else:
        since = headers.get("If-Unmodified-Since")
        limit = parse_http_date(since) if since is not None else None
        if limit is not None and mtime > limit:
            return 412
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = _entity_tags(if_none_match)
        if "*" in tags or any(_weak_match(tag, etag) for tag in tags):
            return 304 if method in ("GET", "HEAD") else 412
    elif method in ("GET", "HEAD"):
        since = headers.get("If-Modified-Since")
        limit = parse_http_date(since) if since is not None else None
        if limit is not None and mtime <= limit:
            return 304
    return None


def _number(digits: str) -> Optional[int]:
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    return int(digits) if len(digits) <= 18 else _HUGE


def parse_range(field: str, size: int) -> Union[Range, str, None]:
    """The one byte range ``field`` asks of a ``size``-byte file (RFC 9110 section 14).

    Returns ``(start, end)`` (end exclusive, clipped to the file), ``UNSATISFIABLE``
    (the 416 case: a start at or past the end, a zero-length suffix or an empty file), or
    ``None`` when the whole file should be sent instead: a unit other than ``bytes``,
    invalid syntax (e.g. last < first) or several ranges (not served as multipart).
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


def _if_range_holds(field: str, etag: str, mtime: int) -> bool:
    """If-Range (RFC 9110 section 13.1.5) needs a strong match: our weak ETags never
    match; a date matches when it equals Last-Modified and that is at least a second old."""
    field = field.strip()
    if field.startswith(('W/"', '"')):
        return False
    date = parse_http_date(field)
    return date is not None and date == mtime and mtime + 1 <= time.time()


def plan_file(file: FilePath, method: str, headers: Any, min_range_size: Optional[int]) -> FilePlan:
    """How to answer ``method`` with the file, given the request ``headers``.

    Ranges are honoured (and advertised) for files larger than ``min_range_size`` bytes,
    never when it is ``None``. Adds ``ETag``, ``Last-Modified`` (and ``Accept-Ranges: bytes``);
    applies the preconditions (304/412) and, for GET, ``Range``/``If-Range`` (206 with
    ``Content-Range``, 416 with ``Content-Range: bytes */size``, or the whole file).
    Raises ``OSError`` when the file cannot be read.
    """
    stat = regular_file_stat(file.path)
    size = stat.st_size
    mtime = int(stat.st_mtime)
    etag = entity_tag(stat)
    ranges_allowed = min_range_size is not None and size > min_range_size
    fields = [("ETag", etag), ("Last-Modified", http_date(mtime))]
    if ranges_allowed:
        fields.append(("Accept-Ranges", "bytes"))
    precondition = evaluate_preconditions(method, headers, etag, mtime)
    if precondition is not None:
        return FilePlan(precondition, fields, None)
    range_field = headers.get("Range") if ranges_allowed and method == "GET" else None
    if range_field is not None:
        if_range = headers.get("If-Range")
        if if_range is None or _if_range_holds(if_range, etag, mtime):
            wanted = parse_range(range_field, size)
            if isinstance(wanted, str):  # UNSATISFIABLE, the only text parse_range returns
                fields.append(("Content-Range", f"bytes */{size}"))
                return FilePlan(416, fields, None)
            if wanted is not None:
                start, end = wanted
                fields.append(("Content-Range", f"bytes {start}-{end - 1}/{size}"))
                return FilePlan(206, fields, FileSpan(file.path, start, end - start))
    return FilePlan(200, fields, FileSpan(file.path, 0, size))
