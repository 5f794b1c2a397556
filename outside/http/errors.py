"""The one exception family raised for malformed or oversized requests.

Each class carries the status code the server answers with; after any of them the
connection is closed, because the framing of what follows can no longer be trusted.
"""
from __future__ import annotations

from typing import Sequence


class HttpParserError(Exception):
    """A request that cannot be served. ``status`` is the status code to answer with."""

    status: int = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        # events produced by the failing feed() before the error (each parser sets its own list)
        self.events: Sequence[object] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r})"


class BadRequest(HttpParserError):
    """400: malformed syntax or framing (includes every request-smuggling vector)."""

    status = 400


class PayloadTooLarge(HttpParserError):
    """413: the body is over the configured limit."""

    status = 413


class URITooLong(HttpParserError):
    """414: the request target is over the configured limit."""

    status = 414


class HeaderFieldsTooLarge(HttpParserError):
    """431: the header section is too large or has too many fields."""

    status = 431


class NotImplementedMethodOrCoding(HttpParserError):
    """501: an unknown method or transfer coding."""

    status = 501


class VersionNotSupported(HttpParserError):
    """505: an HTTP version other than 1.0 and 1.1."""

    status = 505


ERRORS_BY_STATUS = {cls.status: cls for cls in (
    BadRequest, PayloadTooLarge, URITooLong, HeaderFieldsTooLarge,
    NotImplementedMethodOrCoding, VersionNotSupported)}
