"""``Request``: one HTTP request as handlers see it."""
from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Tuple, Union
from urllib.parse import parse_qsl, unquote, urlsplit

from .cookies import parse_cookie
from .forms import FormLimits, MultiDict, parse_form
from .headers import Headers
from .http.events import RequestHead

if TYPE_CHECKING:  # the app imports this module
    from .app import OutsideHTTP
    from .response import Response

_PIECE = 64 * 1024


class RequestBody:
    """The request body as a stream: ``read(size=-1)`` and iteration in pieces.

    Wraps what the server hands over (any object with ``read(size=-1) -> bytes`` that
    returns ``b""`` at the end), so a handler can consume a large upload piece by piece
    without holding it in memory.
    """

    __slots__ = ("_source",)

    def __init__(self, source: Any) -> None:
        self._source = source

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that is left when ``size`` < 0); ``b""`` at the end."""
        if size is None or size < 0:
            chunks: List[bytes] = []
            while True:
                chunk = self._source.read(-1)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        return self._source.read(size)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            chunk = self._source.read(_PIECE)
            if not chunk:
                return
            yield chunk


class Request:
    """One HTTP request.

    Attributes (1.5.x): ``method`` (``"GET"``...), ``headers`` (a case-insensitive dict
    keeping the names as sent; repeated fields joined with ``", "``), ``cookies`` (name ->
    value from ``Cookie``), ``content`` (the whole body as bytes), ``version``
    (``"HTTP/1.1"``), ``url`` (the path without the query string), ``params`` (query
    parameters, first value of each), ``address`` (the client's ``(ip, port)``) and
    ``json()``.

    Added: ``query`` (every value of each query parameter, as lists), ``body`` (the body
    as a stream, for uploads too large to hold), ``header_list`` (the fields in wire
    order, duplicates kept), ``target`` (the request target as sent), ``scheme``
    (``"http"``/``"https"``) and ``upgrade`` (the client asked to switch protocols);
    ``form`` and ``files`` (a submitted form, parsed from the body as a stream) with
    ``close()`` (deletes the uploads' temporary files; the server calls it); the form
    limits are those of the dispatching app's config (``app``).

    ``url`` is percent-decoded as UTF-8 (invalid sequences become U+FFFD), as Werkzeug's
    ``request.path`` is, so ``/caf%C3%A9`` reads ``/café`` and ``%2F`` becomes ``/``; routes
    match against it. ``target`` keeps the raw form for code that needs the exact bytes.
    """

    __slots__ = ("method", "_headers", "header_list", "version", "url", "address", "target",
                 "scheme", "upgrade", "_query_string", "_content", "_stream", "_body",
                 "_cookies", "_query", "_params", "_form", "_files",
                 "__dict__")  # __dict__: handlers may add attributes

    # Set on some requests only (in ``__dict__``): the rule's variables when a rule
    # matched (``OutsideHTTP.dispatch``), the WSGI environ under ``outside.wsgi``.
    view_args: Dict[str, Any]
    environ: Dict[str, Any]
    _headers: Any  # the headers mapping once built (or assigned); None until then

    def __init__(self, method: str, headers: Dict[str, str], content: Union[bytes, Any],
                 version: str, url: str, address: Tuple[str, int], *,
                 target: Optional[str] = None, scheme: str = "http") -> None:
        self.method = method
        self._headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.header_list: List[Tuple[str, str]] = list(self._headers.items())
        self.version = version
        self.target = url if target is None else target
        self._query_string = self.target.partition("?")[2]
        self.url = url.partition("?")[0]
        self.address = address
        self.scheme = scheme
        self.upgrade = "upgrade" in self._headers.get("Connection", "").lower() and "Upgrade" in self._headers
        self._set_body(content)

    @classmethod
    def from_head(cls, head: RequestHead, address: Tuple[str, int],
                  body: Union[bytes, Any], scheme: str = "http") -> Request:
        """The ``Request`` for a parsed request head; the server's entry point.

        ``head``: the parser's ``RequestHead``. ``address``: the client's address as
        ``socket.accept`` gave it. ``body``: the whole body as ``bytes`` (``b""`` when
        there is none), or a stream (any object with ``read(size=-1) -> bytes`` returning
        ``b""`` at the end) that the server fills while the handler reads it; reading
        ``content`` then drains that stream. ``scheme``: ``"https"`` behind TLS.

        Cheap by design: nothing is parsed or copied that a handler may not read. The
        ``headers`` mapping is built on first use from the parser's list (``header_list``);
        cookies, params and query are parsed on first use too. The path is decoded here
        only when it holds ``%`` or non-ASCII (routing reads it on every request). Never
        raises for any head the parser accepted.
        """
        request = cls.__new__(cls)
        request.method = head.method
        request.header_list = head.headers
        request.version = head.version
        request.target = target = head.target
        path, _, request._query_string = target.partition("?")
        if path[:1] != "/" and "://" in path:  # absolute-form (RFC 9112 section 3.2.2)
            path = urlsplit(path).path or "/"
        request.url = path if path.isascii() and "%" not in path else _decode_path(path)
        request.address = address
        request.scheme = scheme
        request.upgrade = head.upgrade
        request._headers = request._stream = request._body = request._cookies = None
        request._query = request._params = request._form = request._files = None
        if type(body) is bytes:  # the common case, inlined: one Request per request
            request._content = body
        else:
            request._set_body(body)
        return request

    @property
    def headers(self) -> Headers:
        """The header fields, a case-insensitive dict (``outside.headers.Headers``) keeping
        the names as sent; repeated fields joined with ``", "`` (``"; "`` for ``Cookie``).
        Built from ``header_list`` on first use; assigning replaces it (as in 1.5.x, where
        it was a plain attribute)."""
        headers: Headers = self._headers
        if headers is None:
            headers = self._headers = Headers.from_pairs(self.header_list)
        return headers

    @headers.setter
    def headers(self, value: Any) -> None:
        self._headers = value

    @property
    def id(self) -> str:
        """This request's id: the ``X-Request-ID`` of a trusted proxy, else one made on
        first use (``outside/request_id.py``). The response carries it back."""
        value = self.__dict__.get("_request_id")
        if value is None:
            from .request_id import new_id
            value = self.__dict__["_request_id"] = new_id()
        return value

    @classmethod
    def blank(cls, method: str = "GET", url: str = "/") -> Request:
        """A minimal request (no headers, no body), for handlers called without one."""
        return cls(method, {}, b"", "HTTP/1.1", url, ("", 0))

    def _set_body(self, body: Union[bytes, Any]) -> None:
        if isinstance(body, (bytes, bytearray, memoryview)):
            self._content: Optional[bytes] = bytes(body)
            self._stream = None
        else:
            self._content = None
            self._stream = body
        self._body: Optional[RequestBody] = None
        self._cookies: Optional[Dict[str, str]] = None
        self._query: Optional[Dict[str, List[str]]] = None
        self._params: Optional[Dict[str, str]] = None
        self._form: Optional[MultiDict] = None
        self._files: Optional[MultiDict] = None

    @property
    def content(self) -> bytes:
        """The whole body as bytes (what is left of it, if ``body`` was read from first)."""
        if self._content is None:
            self._content = self.body.read()
        return self._content

    @property
    def body(self) -> RequestBody:
        """The body as a stream: ``read(size)`` and iteration in pieces of up to 64 KiB."""
        if self._body is None:
            source = self._stream if self._content is None else io.BytesIO(self._content)
            self._body = RequestBody(source)
        return self._body

    @property
    def cookies(self) -> Dict[str, str]:
        """Cookie name -> value, parsed from the ``Cookie`` header (non-ASCII read as UTF-8,
        which is what browsers send)."""
        if self._cookies is None:
            self._cookies = parse_cookie(_as_utf8(self.headers.get("Cookie", "")))
        return self._cookies

    @property
    def query(self) -> Dict[str, List[str]]:
        """Query parameter -> every value in order (``?a=1&a=2`` -> ``{"a": ["1", "2"]}``).

        Decoded as HTML forms are: ``+`` is a space, ``%XX`` UTF-8; blank values kept.
        """
        if self._query is None:
            query: Dict[str, List[str]] = {}
            text = self._query_string
            if "%" in text or "+" in text:
                pairs = parse_qsl(text, keep_blank_values=True)
            else:  # nothing to decode: what parse_qsl gives, without its per-item unquoting
                pairs = [piece.partition("=")[::2] for piece in text.split("&") if piece]
            for name, value in pairs:
                query.setdefault(name, []).append(value)
            self._query = query
        return self._query

    @property
    def params(self) -> Dict[str, str]:
        """Query parameter -> its first value."""
        if self._params is None:
            self._params = {name: values[0] for name, values in self.query.items()}
        return self._params

    app: Optional[OutsideHTTP] = None  # the app dispatching this request (set by dispatch)
    blueprint: Optional[str] = None  # the name of the blueprint whose rule matched

    @property
    def session(self) -> Dict[str, Any]:
        """The signed-cookie session, a dict (``outside.sessions``); read on first use."""
        session = self.__dict__.get("_session")
        if session is None:
            from .sessions import load_session
            session = self.__dict__["_session"] = load_session(self)
        return session

    def url_for(self, endpoint: str, _external: bool = False, **values: Any) -> str:
        """``app.url_for`` for this request: ``".name"`` is relative to its blueprint and
        ``_external=True`` gives ``scheme://host/path`` from its scheme and ``Host``."""
        return self._dispatching_app().url_for(endpoint, _external, self, **values)

    def render_template(self, name: str, **context: Any) -> Response:
        """``app.render_template(name, self, **context)``."""
        return self._dispatching_app().render_template(name, self, **context)

    def _dispatching_app(self) -> OutsideHTTP:
        if self.app is None:
            raise RuntimeError("this request was not dispatched by an app: use server.url_for/render_template")
        return self.app

    @property
    def form(self) -> MultiDict:
        """The fields of a submitted form: name -> values (``MultiDict``), text.

        Parsed on first access of ``form`` or ``files`` from an
        ``application/x-www-form-urlencoded`` or ``multipart/form-data`` body; any other
        body gives an empty mapping. The body is read as a stream, so an upload is never
        held whole: reading the form consumes ``body``, and ``content`` is ``b""``
        afterwards, unless ``content`` was read first (the form is then parsed from it)
        or the body had arrived whole before the handler ran. A malformed body raises
        ``MultipartError`` (answered 400), a body over a limit ``PayloadTooLarge`` (413):
        see ``max_form_parts``, ``max_form_memory_size`` and ``max_body_size_mb``.
        """
        if self._form is None:
            self._parse_form()
        return self._form  # type: ignore[return-value]

    @property
    def files(self) -> MultiDict:
        """The files of a ``multipart/form-data`` submission: field name ->
        ``UploadedFile`` values (see ``form``). Their temporary files are removed when
        the request ends (``close()``)."""
        if self._files is None:
            self._parse_form()
        return self._files  # type: ignore[return-value]

    def _parse_form(self) -> None:
        limits = FormLimits.from_config(self.app.config if self.app is not None else None)
        content_type = self.headers.get("Content-Type", "")
        if self._content is not None:
            pieces: Any = (self._content,) if self._content else ()
        else:
            pieces = self.body
        self._form, self._files = MultiDict(), MultiDict()  # what a failed parse leaves
        self._form, self._files = parse_form(content_type, pieces, limits)

    def close(self) -> None:
        """Release what the request holds: the uploaded files (temporary files are
        deleted). The server calls it once the response is sent; idempotent."""
        files = self._files
        if files:
            for _, upload in files.items(multi=True):
                upload.close()

    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it is not valid JSON."""
        try:
            return json.loads(self.content)
        except (ValueError, RecursionError):
            return None

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.target!r} from {self.address!r}>"


def _as_utf8(text: str) -> str:
    """``text`` read as UTF-8: the parser decodes raw bytes as latin-1."""
    return text if text.isascii() else text.encode("latin-1", "replace").decode("utf-8", "replace")


def _decode_path(path: str) -> str:
    path = _as_utf8(path)
    return unquote(path) if "%" in path else path
