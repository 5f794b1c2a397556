"""Response compression: the step between a handler's ``Response`` and ``render``.

``compress_response`` returns the response to render: the handler's own when nothing
changes, else a copy (a handler may return the same ``Response`` object every time) with
a gzip- or brotli-coded body, ``Content-Encoding``, ``Vary: Accept-Encoding`` and a
suffixed ``ETag``. In-memory bodies are compressed whole; iterables piece by piece, each
piece flushed so the client can use it at once.

Never compressed: bodies under 1 KiB (``MIN_SIZE``, checked first, so small answers pay
almost nothing), types that do not compress (images, archives...), 1xx/204/206/304, a
body that already has a ``Content-Encoding``, ``Cache-Control: no-transform``,
``Response(..., compress=False)``, ``config["compression"] = False``. ``FilePath`` bodies
are not compressed either: they go out with ``sendfile`` (no copy through Python), keep
their ranges and validators, and cost no CPU per request; ``StaticFiles`` serves the
precompressed ``.br``/``.gz`` sibling of a file instead when there is one. An
``EventStream`` is compressed by the engine, event by event.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Iterator, Optional, Tuple

from .files import FilePath
from .http.compression import (
    MIN_SIZE,
    StreamCompressor,
    choose_encoding,
    compress,
    is_compressible,
    suffixed_etag,
)
from .http.writer import ResponseError
from .request import Request
from .response import Response, _as_bytes, _close_iterable, json_bytes

_UNCOMPRESSED_STATUSES = frozenset((204, 206, 304))
_IN_MEMORY = (bytes, bytearray, memoryview, list, tuple, dict)
_SMALL_KINDS = frozenset((str, bytes))
_SURELY_SMALL = MIN_SIZE // 4  # characters: under MIN_SIZE bytes whatever their UTF-8 length


def compress_response(response: Response, request: Request, config: Dict[str, Any]) -> Response:
    """``response`` as it should be rendered for ``request`` (see the module's docstring)."""
    return compress_for_render(response, request, config)[0]


def compress_for_render(response: Response, request: Request,
                        config: Dict[str, Any]) -> Tuple[Response, Optional[bytes]]:
    """``compress_response``, and the JSON a ``dict`` body was encoded to on the way when
    it is sent uncompressed (else ``None``): ``render`` takes it instead of encoding again."""
    content = response.content
    if type(content) in _SMALL_KINDS and len(content) < _SURELY_SMALL:  # the common small answer
        return response, None
    unchanged = (response, None)
    if not getattr(response, "compress", True) or not config.get("compression", True):
        return unchanged
    status = response.status_code
    if type(status) is not int or status < 200 or status in _UNCOMPRESSED_STATUSES:
        return unchanged
    if not isinstance(response.headers, dict):
        return unchanged  # render refuses it with a clear error
    body: Any = None
    json_body: Optional[bytes] = None
    if type(content) is dict:  # its size is known once encoded: most JSON answers are small
        try:
            body = json_body = json_bytes(content)
        except ResponseError:  # render raises it again, with its message
            return unchanged
        if len(body) < MIN_SIZE:
            return response, json_body
    if isinstance(content, (str,) + _IN_MEMORY):
        streamed = False
        default_type = "application/json" if isinstance(content, dict) else "text/plain"
        if isinstance(content, str):
            default_type = "text/plain; charset=utf-8"
    elif content is not None and not isinstance(content, FilePath) and hasattr(content, "__iter__") \
            and not getattr(content, "is_event_stream", False):
        streamed, default_type = True, "text/plain"
    else:
        return unchanged
    kept = (response, json_body)
    fields = _fields(response.headers)
    content_type = fields.get("content-type", (None, default_type))[1]
    if "content-encoding" in fields or not is_compressible(str(content_type)):
        return kept
    if "no-transform" in str(fields.get("cache-control", ("", ""))[1]).lower():
        return kept
    if not streamed and body is None:
        body = _body_bytes(content)
        if body is None or len(body) < MIN_SIZE:
            return kept
    headers = _vary_on_encoding(response.headers, fields)
    encoding = choose_encoding(request.headers.get("Accept-Encoding"))
    if encoding is None:
        return _copy(response, headers, content), json_body
    if "content-type" not in fields:
        headers["Content-Type"] = default_type
    headers["Content-Encoding"] = encoding
    if "etag" in fields:
        name, etag = fields["etag"]
        headers[name] = suffixed_etag(str(etag), encoding)
    if streamed:
        if "content-length" in fields:
            del headers[fields["content-length"][0]]  # the coded length is known only at the end
        return _copy(response, headers, compressed_pieces(content, encoding)), None
    return _copy(response, headers, compress(body, encoding)), None


def compressed_pieces(content: Iterable[Any], encoding: str) -> Iterator[bytes]:
    """The pieces of ``content`` compressed, one flushed piece out per piece in."""
    compressor = StreamCompressor(encoding)
    try:
        for piece in content:
            data = compressor.compress(_as_bytes(piece))
            if data:
                yield data
        yield compressor.finish()
    finally:
        _close_iterable(content)


def _fields(headers: Dict[str, Any]) -> Dict[str, Tuple[str, Any]]:
    """The header fields that matter here: lower-case name -> (name as given, value)."""
    wanted = ("content-type", "content-encoding", "cache-control", "etag", "vary", "content-length")
    found: Dict[str, Tuple[str, Any]] = {}
    for name, value in headers.items():
        lower = name.lower() if isinstance(name, str) else ""
        if lower in wanted:
            found[lower] = (name, value)
    return found


def _body_bytes(content: Any) -> Optional[bytes]:
    """An in-memory body as render would send it; None if render would refuse it."""
    try:
        if isinstance(content, str):
            return content.encode("utf-8")
        if isinstance(content, dict):
            return json_bytes(content)
        if isinstance(content, (list, tuple)):
            return b"".join([_as_bytes(piece) for piece in content])
        return bytes(content)
    except (TypeError, ValueError):  # render gives the error its message (ResponseError is one)
        return None


def _vary_on_encoding(headers: Dict[str, Any], fields: Dict[str, Tuple[str, Any]]) -> Dict[str, Any]:
    """A copy of ``headers`` whose ``Vary`` names ``Accept-Encoding``."""
    copy = dict(headers)
    if "vary" not in fields:
        copy["Vary"] = "Accept-Encoding"
        return copy
    name, value = fields["vary"]
    listed = [item.strip().lower() for item in str(value).split(",")]
    if "accept-encoding" not in listed and "*" not in listed:
        copy[name] = f"{value}, Accept-Encoding"
    return copy


def _copy(response: Response, headers: Dict[str, Any], content: Any) -> Response:
    copy = Response(response.status_code, headers, content, response.cookies, compress=False)
    extras = getattr(response, "__dict__", None)
    if extras:
        copy.__dict__.update(extras)
    return copy
