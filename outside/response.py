"""``Response`` and ``render``: a handler's answer and its HTTP/1.1 serialization."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .files import FilePath, FileSpan, plan_file, regular_file_stat
from .http.cookies import ResponseCookie
from .http.writer import CHUNKED, NO_BODY_STATUSES, ResponseError, ResponseHead
from .request import Request
from .speedups import ResponseWriter

# The writer twin in use (compiled unless OUTSIDE_NO_EXTENSIONS); the same ResponseHead either way.
write_head = ResponseWriter.write_head
frame_body = ResponseWriter.frame_body

_MB = 1024 * 1024
# Refused in Response.headers (the writer reads the rest of its own fields from them).
_REFUSED = {"set-cookie": "Set-Cookie belongs in Response.cookies, not in headers"}


class Response:
    """What a handler returns.

    ``status_code``: the status. ``headers``: a dict of header fields (Content-Length,
    Transfer-Encoding, Connection and Date are the server's; ``Connection: close`` is
    honoured; ``Set-Cookie`` is refused: put cookies in ``cookies``). ``content``: ``str``
    (sent UTF-8, default ``text/plain; charset=utf-8``), ``bytes`` (default
    ``text/plain``), ``dict`` (sent as JSON, default ``application/json``), ``FilePath``
    (streamed from disk, type guessed from the name), a list or tuple of ``bytes`` pieces
    (joined) or any other iterable of them, e.g. a generator (sent as it is produced:
    chunked, or as is when ``headers`` has a ``Content-Length``), or an ``EventStream``.
    ``cookies``: name -> ``ResponseCookie`` (or a plain value string). ``compress``:
    False keeps the body as it is even when the client accepts gzip or brotli.
    """

    __slots__ = ("__dict__", "compress", "content", "cookies", "headers", "status_code")  # __dict__: room for extras

    def __init__(self, status_code: int = 200, headers: dict[str, Any] | None = None,
                 content: Any = b"", cookies: dict[str, ResponseCookie | str] | None = None,
                 compress: bool = True) -> None:
        self.status_code = status_code
        self.headers = {} if headers is None else headers
        self.content = content
        self.cookies = {} if cookies is None else cookies
        self.compress = compress

    def __repr__(self) -> str:
        return f"<Response {self.status_code} {type(self.content).__name__}>"


class Rendered(ResponseHead):
    """A serialized response: the writer's ``ResponseHead`` (``status``, ``fields``,
    ``framing``, ``keep_alive``...) with its body.

    ``head``: the status line and header section, ``bytes``, ending with the blank line
    (``data``). ``body``: ``bytes`` (possibly empty), a ``FileSpan`` to send with
    ``socket.sendfile``, or an iterator of wire-ready ``bytes`` (chunk framing included
    when chunked). The iterator may raise midway (``ResponseError`` for a wrong length
    or piece, or the handler's generator's own exception): the connection must then be
    closed, and the iterator closed (``close()``) when it is abandoned, so the generator
    can clean up. ``keep_alive``: whether the connection may carry another request
    afterwards. ``status``: the status code sent (a file response may turn 200 into
    206/304/412/416). ``payload``: the body without its transfer framing (the same
    object as ``body`` unless chunked), for a consumer that frames it itself; use either
    ``body`` or ``payload``, never both. ``response_head``: the head itself.
    """

    __slots__ = ("body", "payload")
    if TYPE_CHECKING:  # a slot's descriptor is not something mypy follows
        @property
        def head(self) -> bytes: ...
        @head.setter
        def head(self, value: bytes) -> None: ...
    else:
        head = ResponseHead.data  # the same slot, under the name the engine reads
    body: bytes | FileSpan | Iterator[bytes]
    payload: bytes | FileSpan | Iterator[bytes]

    @property
    def response_head(self) -> ResponseHead:
        return self


def render(response: Response, request: Request, keep_alive: bool, config: dict[str, Any],
           json_body: bytes | None = None) -> Rendered:
    """Serialize ``response`` to ``request`` as HTTP/1.1.

    ``keep_alive`` is the server's wish (request asked for it, config allows it, reuse
    limit not reached); the result's ``keep_alive`` is the final decision, also False
    when the response says ``Connection: close`` or its length is only known at the end
    of an HTTP/1.0 exchange. ``config`` supplies ``allow_range_from_mb``. ``json_body``:
    a ``dict`` content already encoded as JSON (by the compression step), sent as it is.

    Writes ``Date``, ``Server``, ``Content-Length`` (or ``Transfer-Encoding: chunked``),
    ``Connection`` when needed, the default ``Content-Type`` and one ``Set-Cookie`` per
    cookie. HEAD gets the GET's header fields and no body; 1xx, 204 and 304 get neither
    body nor Content-Length. Files get ``ETag``/``Last-Modified``, preconditions (304/412)
    and single byte ranges (206/416) as RFC 9110 sections 13 and 14 define.

    Raises ``ResponseError`` when the response must not be sent: a status outside
    100-999, headers that are not a dict, a header name that is not a token, a name or
    value holding CR, LF or NUL (response splitting) or characters outside latin-1, a
    ``Set-Cookie`` header, an invalid cookie, unsupported content or an unreadable file.
    """
    status = response.status_code
    headers = response.headers
    if not isinstance(headers, dict):
        raise ResponseError(f"headers must be a dict, not {type(headers).__name__}")
    content = response.content
    extra: Sequence[tuple[str, str]] = ()  # file validators, then the cookies
    body: bytes | FileSpan | Iterator[bytes] = b""
    length: int | None = None  # None: a stream
    default_type: str | None = None
    streamed = False
    if type(status) is int and (status < 200 or status in NO_BODY_STATUSES):
        _close_iterable(content)
    elif isinstance(content, str):
        body = content.encode("utf-8")
        length = len(body)
        default_type = "text/plain; charset=utf-8"
    elif isinstance(content, (bytes, bytearray, memoryview)):
        body = bytes(content)
        length = len(body)
        default_type = "text/plain"
    elif isinstance(content, dict):
        body = json_body if json_body is not None else json_bytes(content)
        length = len(body)
        default_type = "application/json"
    elif isinstance(content, FilePath):
        status, body, length, extra = _file_body(content, status, request, config)
        default_type = content.content_type() if isinstance(body, FileSpan) else None
    elif isinstance(content, FileSpan):  # a span chosen elsewhere (wsgi.file_wrapper): sent as it is
        body, length = content, content.count
    elif content is None:
        length = 0
    elif isinstance(content, (list, tuple)):  # pieces already in memory: checked and sent at once
        body = b"".join([_as_bytes(piece) for piece in content])
        length = len(body)
        default_type = "text/plain"
    elif hasattr(content, "__iter__"):
        default_type = "text/plain"
        streamed = True
    else:
        raise ResponseError(f"unsupported content type {type(content).__name__}")
    if response.cookies:
        extra = [*extra, *_set_cookie_fields(response.cookies)]

    try:
        rendered: Rendered = write_head(status, headers.items(), request.method, request.version, keep_alive,
                              length, default_type, extra, _REFUSED, None, Rendered)
    except ResponseError:
        if streamed:
            _close_iterable(content)
        raise
    if not streamed:
        rendered.body = rendered.payload = body if rendered.sends_body else b""
    elif not rendered.sends_body:
        _close_iterable(content)
        rendered.body = rendered.payload = b""
    else:
        pieces = _bytes_pieces(content)
        rendered.body = frame_body(rendered, pieces)
        rendered.payload = pieces if rendered.framing == CHUNKED else rendered.body
    return rendered


def json_bytes(content: Any) -> bytes:
    """``content`` as the JSON body sent for it (UTF-8); ``ResponseError`` when it cannot be."""
    try:
        return json.dumps(content).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise ResponseError(f"content is not JSON serializable: {exc}") from exc


def _file_body(file: FilePath, status: int, request: Request,
               config: dict[str, Any]) -> tuple[int, bytes | FileSpan, int | None, list[tuple[str, str]]]:
    """(status, body, length, fields) for a file; validators, preconditions and ranges for 200s."""
    try:
        if status != 200:
            size = regular_file_stat(file.path).st_size
            return status, FileSpan(file.path, 0, size), size, []
        threshold_mb = config.get("allow_range_from_mb", 50)
        min_range_size = None if threshold_mb is None or threshold_mb < 0 else int(threshold_mb * _MB)
        plan = plan_file(file, request.method, request.headers, min_range_size)
    except OSError as exc:
        raise ResponseError(f"cannot send the file: {exc.strerror or type(exc).__name__}") from exc
    if plan.span is not None:
        return plan.status, plan.span, plan.span.count, plan.headers
    if plan.status == 304:
        return 304, b"", None, plan.headers
    return plan.status, b"", 0, plan.headers  # 412, 416


def _set_cookie_fields(cookies: dict[str, Any]) -> list[tuple[str, str]]:
    fields = []
    for name, cookie in cookies.items():
        if not isinstance(cookie, ResponseCookie):
            cookie = ResponseCookie(str(cookie))
        try:
            fields.append(("Set-Cookie", cookie.header_value(name)))
        except ValueError as exc:
            raise ResponseError(str(exc)) from exc
    return fields


def _as_bytes(piece: Any) -> bytes:
    if isinstance(piece, bytes):
        return piece
    if isinstance(piece, str):
        return piece.encode("utf-8")
    if isinstance(piece, (bytearray, memoryview)):
        return bytes(piece)
    raise ResponseError(f"body pieces must be bytes, not {type(piece).__name__}")


def _close_iterable(content: Any) -> None:
    """Close a generator that will not be consumed, so its ``finally`` blocks run."""
    close = getattr(content, "close", None)
    if close is not None and not isinstance(content, FilePath):
        close()


def _bytes_pieces(content: Iterable[Any]) -> Iterator[bytes]:
    """The handler's pieces as bytes (``str`` sent UTF-8); ``content`` closed at the end."""
    try:
        for piece in content:
            yield _as_bytes(piece)
    finally:
        _close_iterable(content)
