"""Files as responses: ``FilePath``, ``FileSpan`` and the plan for answering a request
for a file (its validators, then the RFC 9110 preconditions and ranges that
``outside.http.conditional`` evaluates; the date and range helpers are re-exported here).

The server always answers a ``FilePath`` with a ``FileSpan`` (path, offset, count) that
it streams with ``socket.sendfile``; nothing here reads the file for a response.
"""
from __future__ import annotations

import errno
import mimetypes
import os
from stat import S_ISDIR, S_ISREG
from typing import IO, Any

from .http.conditional import (
    UNSATISFIABLE,
    Range,
    answer_range,
    evaluate_preconditions,
    parse_range,
)
from .http.dates import http_date, parse_http_date

__all__ = ["UNSATISFIABLE", "FilePath", "FilePlan", "FileSpan", "Range", "entity_tag", "evaluate_preconditions",
           "http_date", "parse_http_date", "parse_range", "plan_file", "regular_file_stat"]


class FilePath:
    """A file to send as a response's content.

    ``path`` is the file; ``read_start`` (0) and ``read_end`` (the file's size when the
    ``FilePath`` was made, 0 if it did not exist) bound what ``read()`` returns by default.
    The Content-Type is guessed from the file name.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.read_start = 0
        try:
            self.read_end = os.path.getsize(self.path)
        except OSError:
            self.read_end = 0
        self._cache: dict[Range, bytes] = {}

    def read(self, read_range: Range | None = None, twice: bool = False) -> bytes:
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

    __slots__ = ("count", "offset", "path")

    def __init__(self, path: str, offset: int, count: int) -> None:
        self.path = path
        self.offset = offset
        self.count = count

    def open(self) -> IO[bytes]:
        """The file opened for binary reading (the caller closes it), e.g. for
        ``socket.sendfile(file, offset, count)``."""
        return open(self.path, "rb")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FileSpan) and (
            (self.path, self.offset, self.count) == (other.path, other.offset, other.count))

    def __repr__(self) -> str:
        return f"FileSpan({self.path!r}, {self.offset}, {self.count})"


class FilePlan:
    """How to answer a request for a file: ``status``, extra header fields, the span to send."""

    __slots__ = ("headers", "span", "status")

    def __init__(self, status: int, headers: list[tuple[str, str]], span: FileSpan | None) -> None:
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


def plan_file(file: FilePath, method: str, headers: Any, min_range_size: int | None) -> FilePlan:
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
    if not ranges_allowed or method != "GET":
        return FilePlan(200, fields, FileSpan(file.path, 0, size))
    answer = answer_range(headers, size, etag, mtime)
    if answer.content_range is not None:
        fields.append(("Content-Range", answer.content_range))
    span = FileSpan(file.path, answer.start, answer.end - answer.start) if answer.status != 416 else None
    return FilePlan(answer.status, fields, span)
