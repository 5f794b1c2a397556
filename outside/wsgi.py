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
import os
import stat
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
    holds every CGI variable PEP 3333 asks for, the request headers as ``HTTP_*``
    (repeated ones joined with ``", "``, ``"; "`` for ``Cookie``; names with ``_`` are
    dropped, so ``X_Forwarded_For`` cannot pose as ``X-Forwarded-For``), the body as
    ``wsgi.input`` and ``wsgi.file_wrapper``. A body the application has produced in
    full by the time the head is known (a list or tuple, or an iterable whose pieces
    already add up to the ``Content-Length`` it declared) is sent at once with its
    length; any other is streamed, starting with its first non-empty piece. The
    iterable is closed when the response ends, whichever way. ``write()`` is supported,
    its data sent before the iterable's.

    ``config``: the serving app's config, read on each request for ``host`` (the
    ``SERVER_NAME``/``SERVER_PORT`` when the request has no ``Host``) and ``workers``
    (``wsgi.multiprocess``).
    """

    def __init__(self, application: WSGIApp, prefix: str = "",
                 config: dict[str, Any] | None = None) -> None:
        self.application = application
        self.script_name = _latin1(prefix.rstrip("/"))
        self.config = config if config is not None else {}
        self._settings: tuple[Any, Any] | None = None  # the config values the template was made from
        self._template: Environ = {}

    def __call__(self, request: Request) -> Response:
        start_response = _StartResponse()
        result = self.application(self.environ(request), start_response)
        return start_response.response(result, request.method)

    def environ(self, request: Request) -> Environ:
        """The WSGI environ for ``request``."""
        config = self.config
        settings = (config.get("host"), config.get("workers"))
        if settings != self._settings:
            self._template = self._make_template(*settings)
            self._settings = settings
        environ = self._template.copy()
        raw_path, _, query = request.target.partition("?")
        if raw_path[:1] != "/":  # absolute-form or "*"
            raw_path = urlsplit(raw_path).path or "/" if "://" in raw_path else "/"
        if "%" in raw_path or not raw_path.isascii():
            raw_path = unquote_to_bytes(_as_bytes(raw_path)).decode("latin-1")
        script_name = self.script_name
        if script_name and raw_path.startswith(script_name):
            environ["SCRIPT_NAME"] = script_name
            raw_path = raw_path[len(script_name):]
        environ["PATH_INFO"] = raw_path
        environ["QUERY_STRING"] = query
        environ["REQUEST_METHOD"] = request.method
        environ["SERVER_PROTOCOL"] = request.version
        address = request.address
        if address:
            environ["REMOTE_ADDR"] = str(address[0])
            environ["REMOTE_PORT"] = str(address[1])
        scheme = request.scheme
        if scheme != "http":
            environ["wsgi.url_scheme"] = scheme
        keys = _ENVIRON_KEYS
        for name, value in request.headers.items():  # repeated fields already joined
            key = keys.get(name)
            if key is None:
                key = _environ_key(name)
            if key:
                environ[key] = value
        host = environ.get("HTTP_HOST")
        if host:
            server = _SERVERS.get(host) or _server_of(host)
            environ["SERVER_NAME"] = server[0]
            environ["SERVER_PORT"] = server[1] or ("443" if scheme == "https" else "80")
        elif scheme == "https" and environ["SERVER_PORT"] == "80":
            environ["SERVER_PORT"] = "443"
        if request._stream is None and request._body is None:  # the whole body is here
            environ["wsgi.input"] = io.BytesIO(request._content or b"")
        else:  # still arriving (or partly read already): read it through the request
            environ["wsgi.input"] = io.BufferedReader(_BodyReader(request.body))
        return environ

    def _make_template(self, host: Any, workers: Any) -> Environ:
        """The environ keys that are the same for every request (copied, then completed)."""
        name, port = host or ("localhost", 80)
        return {
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": "",
            "PATH_INFO": "",
            "QUERY_STRING": "",
            "SERVER_NAME": str(name),
            "SERVER_PORT": str(int(port) or 80),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "",
            "REMOTE_PORT": "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": None,
            "wsgi.input_terminated": True,  # reading to the end is safe, even when chunked
            "wsgi.errors": ERRORS,
            "wsgi.multithread": True,
            "wsgi.multiprocess": (workers or 1) > 1,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
        }


# Header name as sent -> its environ key ("" for a name WSGI must not see). Bounded:
# a client sending ever new names gets them converted without being remembered.
_ENVIRON_KEYS: dict[str, str] = {}
_MAX_CACHED = 1024
_UNPREFIXED = frozenset(("CONTENT_TYPE", "CONTENT_LENGTH"))


def _environ_key(name: str) -> str:
    """The environ key of the request header ``name``: ``HTTP_`` + upper case with
    ``-`` as ``_``, ``CONTENT_TYPE``/``CONTENT_LENGTH`` as they are, ``""`` for a name
    holding ``_`` (it would be indistinguishable from the dashed one, as gunicorn and
    Werkzeug also judge)."""
    if "_" in name:
        key = ""
    else:
        key = name.upper().replace("-", "_")
        if key not in _UNPREFIXED:
            key = "HTTP_" + key
    if len(_ENVIRON_KEYS) < _MAX_CACHED:
        _ENVIRON_KEYS[name] = key
    return key


# Host header -> (SERVER_NAME, SERVER_PORT or "" for the scheme's standard port); bounded.
_SERVERS: dict[str, tuple[str, str]] = {}


def _server_of(host: str) -> tuple[str, str]:
    """SERVER_NAME and SERVER_PORT from ``Host`` (as gunicorn does), since a server on
    port 0 or behind a proxy does not know the name it is reached by."""
    name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    if not name or not port.isdigit():
        name, port = host, ""
    server = (name.strip("[]"), str(int(port)) if port else "")
    if len(_SERVERS) < _MAX_CACHED:
        _SERVERS[host] = server
    return server


class _ErrorStream:
    """``wsgi.errors``: writes go to whatever ``sys.stderr`` is at the time."""

    __slots__ = ()

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def writelines(self, lines: Iterable[str]) -> None:
        sys.stderr.writelines(lines)

    def flush(self) -> None:
        sys.stderr.flush()


ERRORS = _ErrorStream()


class FileWrapper:
    """``wsgi.file_wrapper``: ``filelike`` read in blocks of ``block_size``; closing
    the wrapper closes the file (PEP 3333, optional platform-specific file handling)."""

    def __init__(self, filelike: Any, block_size: int = 8192) -> None:
        self.filelike = filelike
        self.block_size = block_size
        close = getattr(filelike, "close", None)
        if close is not None:
            self.close = close

    def span(self, declared: int | None) -> FileSpan | None:
        """What is left of the wrapped file as a ``FileSpan`` (the server sends it with
        ``sendfile``), when it is a regular file that its name still points at and that
        holds at least the ``declared`` length; else None (the blocks are read)."""
        filelike = self.filelike
        name = getattr(filelike, "name", None)
        if not isinstance(name, str):
            return None
        try:
            opened = os.fstat(filelike.fileno())
            named = os.stat(name)
            offset = filelike.tell()
        except (AttributeError, OSError, ValueError):
            return None
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (named.st_dev, named.st_ino):
            return None
        left = max(0, opened.st_size - offset)
        if declared is not None:
            if declared > left:
                return None  # the file is shorter than the length: the stream reports it
            left = declared
        return FileSpan(os.path.abspath(name), offset, left)

    def __iter__(self) -> Iterator[bytes]:
        read, size = self.filelike.read, self.block_size
        while True:
            piece = read(size)
            if not piece:
                return
            yield piece


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


class _StartResponse:
    """The ``start_response`` callable of one application call, and the ``Response``
    it builds."""

    __slots__ = ("committed", "headers", "status", "written")

    def __init__(self) -> None:
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.written: list[bytes] | None = None  # from write(), sent before the iterable's pieces
        self.committed = False  # once the head is handed to the server it cannot change

    def __call__(self, status: str, headers: list[tuple[str, str]],
                 exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.committed:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # no reference cycle through the traceback
        elif self.status is not None:
            raise RuntimeError("start_response() called twice without exc_info")
        if type(status) is not str or not (status[:3].isdigit() and status[3:4] == " " and status.isascii()):
            raise ValueError(f"the WSGI application gave the status {status!r}, not '200 OK'-like")
        self.status = status
        self.headers = headers if type(headers) is list else list(headers)  # PEP 3333 says a list
        return self.write

    def write(self, data: bytes) -> None:
        if self.status is None:
            raise RuntimeError("write() called before start_response()")
        if self.written is None:
            self.written = []
        self.written.append(bytes(data))

    def response(self, result: Iterable[bytes], method: str) -> Response:
        """The ``Response`` for the application's ``result``: its body as one ``bytes``
        when it is all there, else streamed (read up to its first non-empty piece, so a
        lazily called ``start_response`` has run)."""
        try:
            if isinstance(result, (list, tuple)):  # the body is all here: no need to iterate lazily
                if self.status is None:
                    raise RuntimeError("the WSGI application returned without calling start_response()")
                self.committed = True
                response, declared = _to_response(self.status, self.headers)
                pieces: list[bytes] = [*self.written, *result] if self.written else result  # type: ignore[assignment]
                if method == "HEAD" and declared is not None:  # a HEAD keeps the declared length
                    response.content = _Streamed(pieces, iter(()), result)
                    return response
                response.content = pieces[0] if len(pieces) == 1 and type(pieces[0]) is bytes else _joined(pieces)
                if type(result) is not list and type(result) is not tuple:
                    _close(result)  # a subclass may have a close()
                return response
            if type(result) is FileWrapper and not self.written and self.status is not None:
                response, declared = _to_response(self.status, self.headers)
                span = result.span(declared)
                if span is not None:  # a file on disk: sent with sendfile, not read here
                    self.committed = True
                    response.content = span
                    _close(result)
                    return response
            iterator = iter(result)
            pieces = self.written if self.written is not None else []
            finished = False
            while not any(pieces):
                try:
                    pieces.append(next(iterator))
                except StopIteration:
                    finished = True
                    break
            if self.status is None:
                raise RuntimeError("the WSGI application returned without calling start_response()")
            self.committed = True
            response, declared = _to_response(self.status, self.headers)
            if not finished and declared is not None and sum(map(len, pieces)) >= declared:
                try:  # every declared byte is here: the iterable should be at its end
                    pieces.append(next(iterator))
                except StopIteration:
                    finished = True
        except BaseException:
            _close(result)
            raise
        if finished and not (method == "HEAD" and declared is not None):
            try:
                response.content = _joined(pieces)
            finally:
                _close(result)
        else:  # streamed (a HEAD keeps the length the application declared)
            response.content = _Streamed(pieces, iterator, result)
        return response


def _joined(pieces: list[bytes] | tuple[bytes, ...]) -> bytes:
    if len(pieces) == 1 and type(pieces[0]) is bytes:
        return pieces[0]
    try:
        return b"".join(pieces)
    except TypeError:
        kinds = sorted({type(piece).__name__ for piece in pieces if not isinstance(piece, bytes)})
        raise TypeError(f"a WSGI body yields bytes, not {', '.join(kinds)}") from None


def _to_response(status: str, headers: list[tuple[str, str]]) -> tuple[Response, int | None]:
    """The ``Response`` (without content) for a WSGI status and headers, and the
    ``Content-Length`` they declare (None if none, or not a number)."""
    code = _STATUS_CODES.get(status)
    if code is None:
        code = int(status[:3])  # start_response checked its form
        if len(_STATUS_CODES) < _MAX_CACHED:
            _STATUS_CODES[status] = code
    fields: dict[str, str] = {}
    cookies: dict[str, Any] | None = None
    seen: dict[str, str] = {}  # lower-case name -> the name it is stored under
    declared: int | None = None
    for name, value in headers:
        lower = name.lower()
        if lower == "set-cookie":
            if cookies is None:
                cookies = {}
            cookie_name = key = value.partition("=")[0].strip()
            while key in cookies:  # the same name again, for another path or domain
                key += " "
            cookies[key] = RawCookie(value, cookie_name)
            continue
        if lower == "content-length" and value.isdigit():
            declared = int(value)
        existing = seen.get(lower)
        if existing is None:
            seen[lower] = name
            fields[name] = value
        else:
            fields[existing] += ", " + value
    return Response(code, fields, b"", cookies), declared


_STATUS_CODES: dict[str, int] = {}  # status line -> its code; bounded


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


class _Streamed:
    """A body sent as the application produces it: the pieces read so far, then the
    rest of ``iterator``. ``close()`` (which render and the engine call, also when they
    never iterate, e.g. for HEAD) closes the application's iterable once."""

    __slots__ = ("iterator", "pieces", "result")

    def __init__(self, pieces: list[bytes], iterator: Iterator[bytes], result: Iterable[bytes]) -> None:
        self.pieces = pieces
        self.iterator = iterator
        self.result: Iterable[bytes] | None = result

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.pieces
            yield from self.iterator
        finally:
            self.close()

    def close(self) -> None:
        result, self.result = self.result, None
        if result is not None:
            _close(result)


def _close(result: Any) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()


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
