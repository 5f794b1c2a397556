"""``ResponseHead`` and ``ResponseError``: what the response writer makes and raises.

Their own module so that both twins of the writer (``outside.http.writer`` and its
compiled build, ``outside._speedups._writer``) make and raise the very same classes:
``isinstance`` and ``except`` hold whichever twin wrote a head. ``outside.http.writer``
re-exports every name here.
"""
from __future__ import annotations

# How the end of the body is marked (``ResponseHead.framing``).
FIXED = "fixed"          # Content-Length
CHUNKED = "chunked"      # Transfer-Encoding: chunked
UNTIL_CLOSE = "close"    # the server closes the connection (HTTP/1.0 stream of unknown length)
NO_BODY = "none"         # 1xx, 204, 304: no body and no framing fields

SERVER_NAME = "outside"
NO_BODY_STATUSES = frozenset((204, 304))  # with 1xx: never a body, never framing fields


class ResponseError(ValueError):
    """A response that must not be sent as it is: an invalid status, a field name that
    is not a token, CR/LF/NUL or non-latin-1 text in the head (response splitting), an
    invalid or conflicting Content-Length, a forbidden field, or a streamed body whose
    length or pieces do not match its head."""


class ResponseHead:
    """A response head as it goes on the wire.

    ``status`` and ``reason``: the status line's code and phrase; ``version``: always
    ``HTTP/1.1`` (the highest this server speaks, whatever the request's); ``fields``:
    the ``(name, value)`` pairs in wire order, ``Date``, ``Server`` and the framing fields
    included; ``framing``: ``FIXED``, ``CHUNKED``, ``UNTIL_CLOSE`` or ``NO_BODY``;
    ``length``: the Content-Length sent (``None`` when there is none); ``keep_alive``:
    whether the connection may carry another request after this response;
    ``sends_body``: False for HEAD and no-body statuses; ``data``: the serialized head,
    blank line included. Made by ``write_head``.
    """

    __slots__ = ("_lines", "data", "framing", "keep_alive", "length", "reason", "sends_body", "status")
    version = "HTTP/1.1"

    status: int
    reason: str
    _lines: list[str]  # the status line, "Name: value\r\n" each, the blank line: as written
    framing: str
    length: int | None
    keep_alive: bool
    sends_body: bool
    data: bytes

    @property
    def fields(self) -> list[tuple[str, str]]:
        """The ``(name, value)`` pairs in wire order (a name is a token: the first
        ``": "`` of a line ends it)."""
        pairs = []
        for line in self._lines[1:-1]:
            name, _, value = line[:-2].partition(": ")
            pairs.append((name, value))
        return pairs

    def __repr__(self) -> str:
        return f"<ResponseHead {self.status} {self.framing} keep_alive={self.keep_alive}>"
