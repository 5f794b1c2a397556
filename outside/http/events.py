"""What a request parser hands back: a head, body pieces (plain ``bytes``), an end.

``RequestParser.feed(data)`` returns a list of these, in order. Both parser twins
return instances of these very classes, so results compare with ``==``.
"""
from __future__ import annotations

Headers = list[tuple[str, str]]


class RequestHead:
    """The request line and header section of one request.

    ``headers`` keeps every field in order, duplicates included, with the name's case
    as sent; names and values are decoded as latin-1. ``target`` is the raw request
    target (origin-form ``/a?b``, absolute-form ``http://h/a``, ``*`` or authority-form).
    """

    __slots__ = ("method", "target", "version", "headers", "keep_alive", "upgrade",  # noqa: RUF023 (the repr's order)
                 "expect_continue", "chunked", "content_length")

    def __init__(self, method: str, target: str, version: str, headers: Headers,
                 keep_alive: bool, upgrade: bool, expect_continue: bool,
                 chunked: bool, content_length: int | None) -> None:
        self.method = method
        self.target = target
        self.version = version            # "HTTP/1.1" or "HTTP/1.0"
        self.headers = headers
        self.keep_alive = keep_alive      # may the connection serve another request after this one
        # Connection: upgrade + Upgrade, or CONNECT: the parser stops after this request
        self.upgrade = upgrade
        self.expect_continue = expect_continue  # Expect: 100-continue
        self.chunked = chunked            # Transfer-Encoding: chunked
        self.content_length = content_length  # None when absent (or chunked)

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RequestHead) and self._key() == other._key()

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"RequestHead({fields})"


class MessageEnd:
    """The end of one request; ``trailers`` are the chunked trailer fields, if any."""

    __slots__ = ("trailers",)

    def __init__(self, trailers: Headers | None = None) -> None:
        self.trailers = trailers or []

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MessageEnd) and self.trailers == other.trailers

    def __repr__(self) -> str:
        return f"MessageEnd({self.trailers!r})"
