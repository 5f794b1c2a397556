"""WSGI (PEP 3333) both ways.

- ``WSGIMount``: any WSGI application (Flask, Django...) served by outside under a
  path prefix: ``server.mount("/legacy", flask_app)``.
- ``WSGIApplication`` (``to_wsgi(server)``, ``server.wsgi_app``): an outside app as a
  WSGI callable, to run under gunicorn, uWSGI, mod_wsgi or ``wsgiref``:
  ``gunicorn module:server.wsgi_app``.
"""
from __future__ import annotations

import io
import logging
import sys
from collections.abc import Generator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import quote, unquote_to_bytes, urlsplit

from .cookies import ResponseCookie
from .files import FileSpan
from .http.events import RequestHead
from .http.writer import ResponseHead
from .request import Request
from .response import Response

if TYPE_CHECKING:  # the app imports this module on demand
    from .app import BaseApp

Environ = dict[str, Any]
StartResponse = Callable[..., Callable[[bytes], None]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

logger = logging.getLogger("outside")

_PIECE = 64 * 1024
# Fields a WSGI application must not send (PEP 3333), and those its server writes itself.
_HOP_BY_HOP = frozenset(("connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                         "te", "trailers", "transfer-encoding", "upgrade"))
_SERVER_WRITTEN = frozenset(("date", "server"))


# --- a WSGI application inside outside ---------------------------------------------

class WSGIMount:
    """A route handler serving the WSGI ``application`` under ``prefix``.

    ``SCRIPT_NAME`` is the prefix and ``PATH_INFO`` the rest of the path; the environ
    holds every CGI variable PEP 3333 asks for, the request headers as ``HTTP_*`` (names
    with ``_`` are dropped, so ``X_Forwarded_For`` cannot pose as ``X-Forwarded-For``),
    and the body as ``wsgi.input``. The application's output is streamed: the response
    starts with its first non-empty piece, and its iterable is closed when the response
    ends, whichever way. ``write()`` is supported, its data sent before the iterable's.

    ``config``: the serving app's config, read on each request for ``host`` (the
    ``SERVER_NAME``/``SERVER_PORT`` when the request has no ``Host``) and ``workers``
    (``wsgi.multiprocess``).
    """

    def __init__(self, application: WSGIApp, prefix: str = "",
                 config: dict[str, Any] | None = None) -> None:
        self.application = application
        self.script_name = _latin1(prefix.rstrip("/"))
        self.config = config if config is not None else {}

    def __call__(self, request: Request) -> Response:
        exchange = _Exchange(request.method)
        result = self.application(self.environ(request), exchange.start_response)
        return exchange.response(result)

    def environ(self, request: Request) -> Environ:
        """The WSGI environ for ``request``."""
        raw_path, _, query = request.target.partition("?")
        if not raw_path.startswith("/"):  # absolute-form or "*"
            raw_path = urlsplit(raw_path).path or "/" if "://" in raw_path else "/"
        path = unquote_to_bytes(_as_bytes(raw_path)).decode("latin-1")
        script_name = self.script_name if path.startswith(self.script_name) else ""
        server_name, server_port = _server_of(request, self.config.get("host") or ("localhost", 80))
        environ: Environ = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": script_name,
            "PATH_INFO": path[len(script_name):],
            "QUERY_STRING": query,
            "SERVER_NAME": server_name,
            "SERVER_PORT": str(server_port),
            "SERVER_PROTOCOL": request.version,
            "REMOTE_ADDR": str(request.address[0]) if request.address else "",
            "REMOTE_PORT": str(request.address[1]) if request.address else "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": request.scheme,
            "wsgi.input": io.BufferedReader(_BodyReader(request.body)),
            "wsgi.input_terminated": True,  # reading to the end is safe, even when chunked
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": (self.config.get("workers") or 1) > 1,
            "wsgi.run_once": False,
        }
        for name, value in request.header_list:
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            elif "_" not in name:
                key = "HTTP_" + key
                separator = "; " if key == "HTTP_COOKIE" else ","
                environ[key] = environ[key] + separator + value if key in environ else value
        return environ


class _BodyReader(io.RawIOBase):
    """The request body as a raw stream, so ``io.BufferedReader`` adds ``readline``."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


class _Exchange:
    """One call of a WSGI application: ``start_response`` and the response it builds."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.written: list[bytes] = []  # from write(), sent before the iterable's pieces
        self.committed = False  # once the head is handed to the server it cannot change

    def start_response(self, status: str, headers: list[tuple[str, str]],
                       exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.committed:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # no reference cycle through the traceback
        elif self.status is not None:
            raise RuntimeError("start_response() called twice without exc_info")
        self.status, self.headers = status, list(headers)
        return self.write

    def write(self, data: bytes) -> None:
        if self.status is None:
            raise RuntimeError("write() called before start_response()")
        self.written.append(bytes(data))

    def response(self, result: Iterable[bytes]) -> Response:
        """The ``Response`` for the application's ``result`` (read up to its first
        non-empty piece, so a lazily called ``start_response`` has run)."""
        iterator = iter(result)
        pieces = self.written
        finished = False
        try:
            while not any(pieces):
                try:
                    pieces.append(next(iterator))
                except StopIteration:
                    finished = True
                    break
            if self.status is None:
                raise RuntimeError("the WSGI application returned without calling start_response()")
            self.committed = True
            response = _to_response(self.status, self.headers)
        except BaseException:
            _close(result)
            raise
        declared = any(name.lower() == "content-length" for name, _ in self.headers)
        if finished and not (self.method == "HEAD" and declared):
            _close(result)
            response.content = b"".join(pieces)
        else:  # streamed (a HEAD keeps the length the application declared)
            response.content = _stream(pieces, iterator, result)
        return response


def _to_response(status: str, headers: list[tuple[str, str]]) -> Response:
    code = status.split(" ", 1)[0]
    if len(code) != 3 or not code.isdigit():
        raise ValueError(f"the WSGI application gave the status {status!r}, not '200 OK'-like")
    fields: dict[str, str] = {}
    cookies: dict[str, Any] = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            cookie_name = key = value.partition("=")[0].strip()
            while key in cookies:  # the same name again, for another path or domain
                key += " "
            cookies[key] = RawCookie(value, cookie_name)
            continue
        existing = next((key for key in fields if key.lower() == name.lower()), None)
        if existing is None:
            fields[name] = value
        else:
            fields[existing] += ", " + value
    return Response(int(code), fields, b"", cookies)


class RawCookie(ResponseCookie):
    """A ``Set-Cookie`` value written by a WSGI application, sent exactly as it was.

    ``name`` is the cookie's name; its key in ``Response.cookies`` may carry trailing
    spaces when the application set the same name more than once (other paths).
    """

    __slots__ = ("header", "name")

    def __init__(self, header: str, name: str) -> None:
        super().__init__(header.partition("=")[2].partition(";")[0])
        self.header = header
        self.name = name

    def header_value(self, name: str) -> str:
        return self.header


def _stream(pieces: list[bytes], iterator: Iterator[bytes], result: Iterable[bytes]) -> Iterator[bytes]:
    try:
        yield from pieces
        yield from iterator
    finally:
        _close(result)


def _close(result: Any) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()


def _server_of(request: Request, default: tuple[str, int]) -> tuple[str, int]:
    """SERVER_NAME and SERVER_PORT: from ``Host`` when sent (as gunicorn does), since
    a server on port 0 or behind a proxy does not know the name it is reached by."""
    host = request.headers.get("Host")
    standard_port = 443 if request.scheme == "https" else 80
    if not host:
        return str(default[0]), int(default[1]) or standard_port
    name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    if not name or not port.isdigit():
        name, port = host, ""
    return name.strip("[]"), int(port) if port else standard_port


def _latin1(text: str) -> str:
    """A path as WSGI carries it: its UTF-8 bytes, one character per byte."""
    return text.encode("utf-8").decode("latin-1")


def _as_bytes(text: str) -> bytes:
    try:
        return text.encode("latin-1")  # the parser's decoding of the raw bytes
    except UnicodeEncodeError:
        return text.encode("utf-8")


# --- outside as a WSGI application -------------------------------------------------

class WSGIApplication:
    """An outside app (``OutsideHTTP``) as a WSGI callable.

    Each call builds a ``Request`` from the environ (``url`` is ``PATH_INFO`` decoded as
    UTF-8; ``address`` is ``REMOTE_ADDR``/``REMOTE_PORT``; ``scheme`` is
    ``wsgi.url_scheme``; the environ itself is ``request.environ``), runs the app's
    ``dispatch`` (routes, error handlers, ``pre_send``, trusted proxies) and serializes
    the response with the same ``render`` the outside engine uses, so HEAD, ranges,
    conditional requests, cookies and streaming behave alike. The WSGI server gets the
    head's fields without the hop-by-hop ones and ``Date``/``Server`` (its own to write)
    and the body without transfer framing (it frames it). WebSocket routes cannot be
    served through WSGI: an upgrade request to one gets the app's 501 handler.
    ``config["post_callback"]`` runs once the body has been sent.
    """

    def __init__(self, server: BaseApp) -> None:
        self.server = server

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        head, body = self.respond(environ)
        start_response(f"{head.status} {head.reason}",
                       [(name, value) for name, value in head.fields
                        if name.lower() not in _HOP_BY_HOP and name.lower() not in _SERVER_WRITTEN])
        return body

    def respond(self, environ: Environ) -> tuple[ResponseHead, Generator[bytes, None, None]]:
        """The response to the request ``environ`` describes: the ``ResponseHead`` the
        outside engine would send (HTTP/1.1, every field) and the body's pieces without
        transfer framing (``post_callback`` runs when they are exhausted or closed)."""
        server = self.server
        request = request_from_environ(environ)
        answer = server.dispatch(request)
        if not isinstance(answer, Response):
            answer = server.error_response(
                501, request, "WebSocket routes need the outside server; WSGI cannot upgrade.")
        rendered = server.render(answer, request)
        body = _after_body(_body_pieces(rendered.payload), server.config.get("post_callback"), request, answer)
        return rendered.response_head, body


def to_wsgi(server: BaseApp) -> WSGIApplication:
    """``server`` (an ``OutsideHTTP``) as a WSGI application; same as ``server.wsgi_app``."""
    return WSGIApplication(server)


def request_from_environ(environ: Environ) -> Request:
    """The ``Request`` a WSGI environ describes (``request.environ`` is the environ)."""
    headers = [(key[5:].replace("_", "-").title(), value) for key, value in environ.items()
               if key.startswith("HTTP_")]
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers.append((key.replace("_", "-").title(), environ[key]))
    path_bytes = environ.get("PATH_INFO", "").encode("latin-1") or b"/"
    target = quote(path_bytes, safe="/:@!$&'()*+,;=-._~")
    if environ.get("QUERY_STRING"):
        target += "?" + environ["QUERY_STRING"]
    length_text = environ.get("CONTENT_LENGTH") or ""
    length = int(length_text) if length_text.isdigit() else None
    connection = next((value for name, value in headers if name == "Connection"), "")
    upgrade = "upgrade" in connection.lower() and any(name == "Upgrade" for name, _ in headers)
    head = RequestHead(environ["REQUEST_METHOD"], target, environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                       headers, keep_alive=False, upgrade=upgrade, expect_continue=False,
                       chunked=False, content_length=length)
    body = _LimitedInput(environ["wsgi.input"], length, bool(environ.get("wsgi.input_terminated")))
    address = (environ.get("REMOTE_ADDR", ""), int(environ.get("REMOTE_PORT") or 0))
    request = Request.from_head(head, address, body, environ.get("wsgi.url_scheme", "http"))
    request.environ = environ
    return request


class _LimitedInput:
    """``wsgi.input`` read no further than ``CONTENT_LENGTH`` (PEP 3333 leaves reading
    past it undefined); without a length, nothing unless the server marks the input
    as terminated."""

    def __init__(self, stream: Any, length: int | None, terminated: bool) -> None:
        self._stream = stream
        self._left = length if length is not None else (-1 if terminated else 0)

    def read(self, size: int = -1) -> bytes:
        if self._left == 0:
            return b""
        if self._left > 0 and (size is None or size < 0 or size > self._left):
            size = self._left
        data = self._stream.read(size if size is not None and size >= 0 else _PIECE)
        if self._left > 0:
            self._left = self._left - len(data) if data else 0
        return data


def _body_pieces(body: Any) -> Iterable[bytes]:
    if isinstance(body, bytes):
        return [body] if body else []
    if isinstance(body, FileSpan):
        return _file_pieces(body)
    return body


def _file_pieces(span: FileSpan) -> Iterator[bytes]:
    with span.open() as file:
        file.seek(span.offset)
        left = span.count
        while left > 0:
            piece = file.read(min(left, _PIECE))
            if not piece:
                return
            left -= len(piece)
            yield piece


def _after_body(pieces: Iterable[bytes], callback: Any, request: Request,
                response: Response) -> Generator[bytes, None, None]:
    """The pieces, then ``post_callback`` (errors logged, as the engine does)."""
    try:
        yield from pieces
    finally:
        _close(pieces)
        request.close()  # the uploads' temporary files go with the request
    if callback is not None:
        try:
            callback(request, response)
        except Exception:
            logger.exception("post_callback failed")
