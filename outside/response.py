"""``Response`` and ``render``: a handler's answer and its HTTP/1.1 serialization."""
from __future__ import annotations

import json
import time
from typing import Any, Dict, Iterable, Iterator, List, Optional, Union

from .cookies import ResponseCookie
from .files import FilePath, FileSpan, http_date, plan_file, regular_file_stat
from .headers import TOKEN
from .request import Request
from .status import get_description

_MB = 1024 * 1024
_CHECKED_NAMES: Dict[str, str] = {}  # valid header name -> its lower case; most repeat on every response
_STATUS_LINES: Dict[int, str] = {}
_NO_BODY_STATUSES = frozenset((204, 304))
# Fields the server writes itself; a handler's value is read from them, not copied.
_SERVER_FIELDS = frozenset(("content-type", "content-length", "connection", "transfer-encoding",
                            "set-cookie", "date", "server"))


class ResponseError(ValueError):
    """A response that must not be sent as it is (invalid status, header injection,
    ``Set-Cookie`` in ``headers``, unsupported content, unreadable file...).

    The server answers with the app's 500 handler instead. Raised by ``render``, and by a
    streamed body while it is being sent (then the connection is closed).
    """


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

    __slots__ = ("status_code", "headers", "content", "cookies", "compress", "__dict__")  # __dict__: room for extras

    def __init__(self, status_code: int = 200, headers: Optional[Dict[str, Any]] = None,
                 content: Any = b"", cookies: Optional[Dict[str, Union[ResponseCookie, str]]] = None,
                 compress: bool = True) -> None:
        self.status_code = status_code
        self.headers = {} if headers is None else headers
        self.content = content
        self.cookies = {} if cookies is None else cookies
        self.compress = compress

    def __repr__(self) -> str:
        return f"<Response {self.status_code} {type(self.content).__name__}>"


class Rendered:
    """A serialized response.

    ``head``: the status line and header section, ``bytes``, ending with the blank line.
    ``body``: ``bytes`` (possibly empty), a ``FileSpan`` to send with ``socket.sendfile``,
    or an iterator of wire-ready ``bytes`` (chunk framing included when chunked). The
    iterator may raise midway (``ResponseError`` for a wrong length or piece, or the
    handler's generator's own exception): the connection must then be closed, and the
    iterator closed (``close()``) when it is abandoned, so the generator can clean up.
    ``keep_alive``: whether the connection may carry another request afterwards.
    ``status``: the status code sent (a file response may turn 200 into 206/304/412/416).
    """

    __slots__ = ("head", "body", "keep_alive", "status")

    def __init__(self, head: bytes, body: Union[bytes, FileSpan, Iterator[bytes]],
                 keep_alive: bool, status: int) -> None:
        self.head = head
        self.body = body
        self.keep_alive = keep_alive
        self.status = status


_date_cache = (-1, "")  # (second, fields): one tuple, so threads never see half an update


def _date_and_server() -> str:
    """The ``Date`` and ``Server`` fields, formatted once per second."""
    global _date_cache
    now = int(time.time())
    second, fields = _date_cache
    if now != second:
        fields = f"Date: {http_date(now)}\r\nServer: outside\r\n"
        _date_cache = (now, fields)
    return fields


def _own_fields(overridden: List[str]) -> str:
    """``Date``/``Server`` minus those the handler set itself."""
    lines = _date_and_server().split("\r\n")[:2]
    return "".join(line + "\r\n" for line in lines if line.split(":", 1)[0].lower() not in overridden)


def _new_status_line(status: int) -> str:
    line = _STATUS_LINES[status] = f"HTTP/1.1 {status} {get_description(status)}\r\n"
    return line


def _checked_lower(name: Any) -> str:
    """``name`` in lower case, once it is known to be a token."""
    if not isinstance(name, str) or not TOKEN.match(name):
        raise ResponseError(f"invalid header name {name!r}")
    lower = name.lower()
    if len(_CHECKED_NAMES) < 4096:
        _CHECKED_NAMES[name] = lower
    return lower


def render(response: Response, request: Request, keep_alive: bool, config: Dict[str, Any]) -> Rendered:
    """Serialize ``response`` to ``request`` as HTTP/1.1.

    ``keep_alive`` is the server's wish (request asked for it, config allows it, reuse
    limit not reached); the result's ``keep_alive`` is the final decision, also False
    when the response says ``Connection: close`` or its length is only known at the end
    of an HTTP/1.0 exchange. ``config`` supplies ``allow_range_from_mb``.

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
    if type(status) is not int or not 100 <= status <= 999:
        raise ResponseError(f"invalid status code {status!r}")
    headers = response.headers
    if not isinstance(headers, dict):
        raise ResponseError(f"headers must be a dict, not {type(headers).__name__}")

    lines: List[str] = []  # "Name: value", the handler's first; checked in one pass below
    content_type_field = declared_length = None
    closing = False
    overridden: List[str] = []  # "date"/"server" when the handler set its own
    for name, value in headers.items():
        lower = _CHECKED_NAMES.get(name) or _checked_lower(name)
        if lower in _SERVER_FIELDS:
            if lower == "content-type":
                content_type_field = f"{name}: {value}"
            elif lower == "content-length":
                declared_length = value
            elif lower == "connection":
                closing = "close" in str(value).lower()
            elif lower == "set-cookie":
                raise ResponseError("Set-Cookie belongs in Response.cookies, not in headers")
            if lower not in ("date", "server"):
                continue
            overridden.append(lower)
        lines.append(f"{name}: {value}")

    content = response.content
    body: Union[bytes, FileSpan, Iterator[bytes]]
    length: Optional[int] = None  # None: no Content-Length field
    default_type: Optional[str] = None
    if status < 200 or status in _NO_BODY_STATUSES:
        body = b""
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
        try:
            body = json.dumps(content).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise ResponseError(f"content is not JSON serializable: {exc}") from exc
        length = len(body)
        default_type = "application/json"
    elif isinstance(content, FilePath):
        status, body, length = _file_body(content, status, request, config, lines)
        default_type = content.content_type() if isinstance(body, FileSpan) else None
    elif content is None:
        body = b""
        length = 0
    elif isinstance(content, (list, tuple)):  # pieces already in memory: checked and sent at once
        body = b"".join([_as_bytes(piece) for piece in content])
        length = len(body)
        default_type = "text/plain"
    elif hasattr(content, "__iter__"):
        default_type = "text/plain"
        length = _declared_length(declared_length)
        if length is not None:
            body = _exactly(content, length)
        elif request.version == "HTTP/1.1":
            lines.append("Transfer-Encoding: chunked")
            body = _chunked(content)
        else:  # HTTP/1.0: the end of the body is the end of the connection
            body = _pieces(content)
            keep_alive = keep_alive and request.method == "HEAD"
    else:
        raise ResponseError(f"unsupported content type {type(content).__name__}")

    if content_type_field is not None:
        lines.append(content_type_field)
    elif default_type is not None:
        lines.append(f"Content-Type: {default_type}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if response.cookies:
        lines.extend(_set_cookie_fields(response.cookies))
    keep_alive = keep_alive and not closing
    if not keep_alive:
        lines.append("Connection: close")
    elif request.version == "HTTP/1.0":
        lines.append("Connection: keep-alive")

    own = _date_and_server() if not overridden else _own_fields(overridden)
    text = "".join((_STATUS_LINES.get(status) or _new_status_line(status), own, "\r\n".join(lines),
                    "\r\n\r\n" if lines else "\r\n"))
    # One scan instead of one per field: every line break must be one of ours.
    breaks = 2 + (2 if not overridden else own.count("\n")) + len(lines)
    if text.count("\n") != breaks or text.count("\r") != breaks or "\0" in text:
        raise ResponseError("CR, LF or NUL in a header name or value")
    try:
        head = text.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise ResponseError("a header holds characters outside latin-1") from exc

    if request.method == "HEAD":
        if not isinstance(body, (bytes, FileSpan)):
            _close_iterable(body)  # an unstarted wrapper cannot close what it wraps
            _close_iterable(content)
        body = b""
    return Rendered(head, body, keep_alive, status)


def _file_body(file: FilePath, status: int, request: Request, config: Dict[str, Any],
               lines: List[str]) -> tuple:
    """(status, body, length) for a file; validators, preconditions and ranges for 200s."""
    try:
        if status != 200:
            size = regular_file_stat(file.path).st_size
            return status, FileSpan(file.path, 0, size), size
        threshold_mb = config.get("allow_range_from_mb", 50)
        min_range_size = None if threshold_mb is None or threshold_mb < 0 else int(threshold_mb * _MB)
        plan = plan_file(file, request.method, request.headers, min_range_size)
    except OSError as exc:
        raise ResponseError(f"cannot send the file: {exc.strerror or type(exc).__name__}") from exc
    lines.extend(f"{name}: {value}" for name, value in plan.headers)
    if plan.span is not None:
        return plan.status, plan.span, plan.span.count
    if plan.status == 304:
        return 304, b"", None
    return plan.status, b"", 0  # 412, 416


def _declared_length(value: Any) -> Optional[int]:
    if value is None:
        return None
    text = str(value).strip()
    if not text.isascii() or not text.isdigit():
        raise ResponseError(f"invalid Content-Length {value!r}")
    return int(text)


def _set_cookie_fields(cookies: Dict[str, Any]) -> List[str]:
    lines = []
    for name, cookie in cookies.items():
        if not isinstance(cookie, ResponseCookie):
            cookie = ResponseCookie(str(cookie))
        try:
            lines.append(f"Set-Cookie: {cookie.header_value(name)}")
        except ValueError as exc:
            raise ResponseError(str(exc)) from exc
    return lines


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


def _chunked(content: Iterable[Any]) -> Iterator[bytes]:
    """The pieces framed as HTTP/1.1 chunks, then the last chunk."""
    try:
        for piece in content:
            data = _as_bytes(piece)
            if data:  # an empty chunk would end the body
                yield b"%x\r\n%b\r\n" % (len(data), data)
        yield b"0\r\n\r\n"
    finally:
        _close_iterable(content)


def _exactly(content: Iterable[Any], length: int) -> Iterator[bytes]:
    """The pieces as they are, checked to add up to the declared ``length``."""
    sent = 0
    try:
        for piece in content:
            data = _as_bytes(piece)
            sent += len(data)
            if sent > length:
                raise ResponseError(f"body longer than its Content-Length {length}")
            if data:
                yield data
        if sent != length:
            raise ResponseError(f"body of {sent} bytes, shorter than its Content-Length {length}")
    finally:
        _close_iterable(content)


def _pieces(content: Iterable[Any]) -> Iterator[bytes]:
    """The pieces as they are (the connection's close ends the body)."""
    try:
        for piece in content:
            data = _as_bytes(piece)
            if data:
                yield data
    finally:
        _close_iterable(content)
