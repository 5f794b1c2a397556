"""A streaming ``multipart/form-data`` parser (RFC 7578 over RFC 2046), without I/O.

Contract, in the style of ``outside.http.parser``:

- ``MultipartParser(boundary)``; ``feed(data)`` takes the body in pieces of any size and
  returns the events they complete, in order: a ``PartHead`` (the part's header section),
  then its data as ``bytes`` pieces (possibly none, never empty), then ``PART_END``. After
  the closing delimiter ``finished`` is true and the rest (the epilogue) is ignored.
- ``end()`` says the body is over: it raises ``MultipartError`` unless the closing
  delimiter was seen (a truncated body).
- Anything malformed raises ``MultipartError`` (status 400, with a reason): a body
  without the boundary, a part header section over ``max_header_size`` bytes, a header
  line without a colon, a part whose ``Content-Disposition`` is missing, not
  ``form-data`` or has no ``name``. The error's ``events`` are those the failing
  ``feed`` completed before it (as for ``HttpParserError``). After an error the parser
  stays failed: every later call raises a ``MultipartError`` with the same reason.
- How the body is cut into pieces never changes the parts, only where data pieces end.
  Memory is bounded: the parser keeps at most one header section, or the few bytes at the
  end of a piece that may start a delimiter; data pieces are handed out as they arrive.

The delimiter is searched with ``bytes.find`` over each piece (C speed), never byte by byte.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple, Union
from urllib.parse import unquote

from .errors import BadRequest

__all__ = [
    "PART_END",
    "MultipartError",
    "MultipartEvent",
    "MultipartParser",
    "PartEnd",
    "PartHead",
    "boundary_from_content_type",
    "parse_options_header",
]

DEFAULT_MAX_HEADER_SIZE = 16 * 1024

# RFC 2046 section 5.1.1: 1 to 70 of these characters, not ending with a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
# One ``; key=value`` parameter: a quoted string (backslash escapes allowed) or a token.
_PARAM = re.compile(r';\s*([^\s;=]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)', re.DOTALL)
_ESCAPE = re.compile(r'\\([\\"])')


class MultipartError(BadRequest):
    """A multipart body that cannot be read; ``reason`` says why (status 400)."""


class PartHead:
    """The header section of one part.

    ``name``: the form field (from ``Content-Disposition``; ``name*`` wins when given).
    ``filename``: the file name as sent (``filename*`` wins), ``None`` for a plain field.
    ``content_type``: the part's ``Content-Type``, ``"text/plain"`` when absent (RFC 7578
    section 4.4). ``headers``: every field as ``(name, value)``, in order, decoded as
    UTF-8 (what browsers send), or latin-1 when that fails.
    """

    __slots__ = ("content_type", "filename", "headers", "name")

    def __init__(self, name: str, filename: Optional[str], content_type: str,
                 headers: List[Tuple[str, str]]) -> None:
        self.name = name
        self.filename = filename
        self.content_type = content_type
        self.headers = headers

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PartHead):
            return NotImplemented
        return (self.name, self.filename, self.content_type, self.headers) == (
            other.name, other.filename, other.content_type, other.headers)

    def __repr__(self) -> str:
        return f"PartHead(name={self.name!r}, filename={self.filename!r}, content_type={self.content_type!r})"


class PartEnd:
    """The end of the current part's data (one instance: ``PART_END``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PART_END"


PART_END = PartEnd()

MultipartEvent = Union[PartHead, bytes, PartEnd]

# Parser states.
_PREAMBLE, _AFTER_DELIMITER, _HEADERS, _DATA, _EPILOGUE = range(5)


class MultipartParser:
    """Bytes of one ``multipart/form-data`` body in, events out (see the module docstring)."""

    def __init__(self, boundary: bytes, max_header_size: int = DEFAULT_MAX_HEADER_SIZE) -> None:
        if not _BOUNDARY.fullmatch(boundary.decode("latin-1")):
            raise MultipartError("invalid multipart boundary")
        self._first = b"--" + boundary           # the first delimiter may open the body
        self._delimiter = b"\r\n--" + boundary   # every other one follows a line break
        self._max_header_size = max_header_size
        self._buffer = b""
        self._state = _PREAMBLE
        self._at_start = True
        self._error: Optional[MultipartError] = None

    @property
    def finished(self) -> bool:
        """Whether the closing delimiter has been read."""
        return self._state == _EPILOGUE

    def feed(self, data: bytes) -> List[MultipartEvent]:
        """The events completed by ``data``, the next piece of the body."""
        if self._error is not None:
            raise MultipartError(self._error.reason)
        if self._state == _EPILOGUE:
            return []
        events: List[MultipartEvent] = []
        try:
            self._run(self._buffer + data if self._buffer else bytes(data), events)
        except MultipartError as exc:
            exc.events = events  # what this piece completed before the error
            self._error = exc
            raise
        return events

    def end(self) -> None:
        """The body is over: fails unless it was complete."""
        if self._error is not None:
            raise MultipartError(self._error.reason)
        if self._state != _EPILOGUE:
            self._error = MultipartError("the multipart body ended before its closing boundary"
                                         if self._state != _PREAMBLE else
                                         "the body does not contain the multipart boundary")
            raise self._error

    def _run(self, buffer: bytes, events: List[MultipartEvent]) -> None:
        position = 0
        delimiter = self._delimiter
        while True:
            state = self._state
            if state == _DATA:
                found = buffer.find(delimiter, position)
                if found < 0:
                    # Hand out all but a tail that begins a delimiter (it holds one CR, first).
                    keep = buffer.rfind(b"\r", max(position, len(buffer) - len(delimiter) + 1))
                    stop = keep if keep >= 0 and delimiter.startswith(buffer[keep:]) else len(buffer)
                    if stop > position:
                        events.append(buffer[position:stop] if position or stop < len(buffer) else buffer)
                    position = stop
                    break
                if found > position:
                    events.append(buffer[position:found])
                events.append(PART_END)
                position = found + len(delimiter)
                self._state = _AFTER_DELIMITER
            elif state == _AFTER_DELIMITER:
                position = self._after_delimiter(buffer, position)
                if position < 0:
                    position = -position - 1
                    break
            elif state == _HEADERS:
                if len(buffer) - position < 2:
                    break
                if buffer.startswith(b"\r\n", position):  # an empty header section
                    end = position - 2
                else:
                    end = buffer.find(b"\r\n\r\n", position)
                    if end < 0:
                        if len(buffer) - position > self._max_header_size:
                            raise MultipartError("a part's header section is too large")
                        break
                if end + 2 - position > self._max_header_size:
                    raise MultipartError("a part's header section is too large")
                events.append(_part_head(buffer[position:end + 2]))
                position = end + 4
                self._state = _DATA
            elif state == _PREAMBLE:
                if self._at_start:  # only the very first delimiter may lack its CRLF
                    first = self._first
                    if len(buffer) < len(first) and first.startswith(buffer):
                        break
                    self._at_start = False
                    if buffer.startswith(first):
                        position = len(first)
                        self._state = _AFTER_DELIMITER
                        continue
                found = buffer.find(delimiter, position)
                if found < 0:  # keep only what may still begin a delimiter
                    position = max(position, len(buffer) - len(delimiter) + 1)
                    break
                position = found + len(delimiter)
                self._state = _AFTER_DELIMITER
            else:  # _EPILOGUE
                position = len(buffer)
                break
        self._buffer = buffer[position:]

    def _after_delimiter(self, buffer: bytes, position: int) -> int:
        """Read what follows a delimiter: ``--`` (the close) or padding and CRLF.

        The position after it, or ``-(position + 1)`` when more bytes are needed."""
        if len(buffer) - position < 2:
            return -position - 1
        if buffer.startswith(b"--", position):
            self._state = _EPILOGUE
            return len(buffer)
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            if len(buffer) - position > 1024 or buffer[position:].strip(b" \t\r"):
                raise MultipartError("a multipart delimiter is followed by junk")
            return -position - 1
        if buffer[position:line_end].strip(b" \t"):  # RFC 2046 allows transport padding
            raise MultipartError("a multipart delimiter is followed by junk")
        self._state = _HEADERS
        return line_end + 2


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _part_head(section: bytes) -> PartHead:
    """The ``PartHead`` for a header section (its lines, each ending with CRLF)."""
    headers: List[Tuple[str, str]] = []
    disposition: Optional[str] = None
    content_type = "text/plain"
    for line in section.split(b"\r\n")[:-1]:
        raw_name, colon, value = line.partition(b":")
        if not colon or not raw_name or raw_name != raw_name.strip():
            raise MultipartError("a part has a malformed header line")
        field = (_decode(raw_name), _decode(value.strip(b" \t")))
        headers.append(field)
        lowered = field[0].lower()
        if lowered == "content-disposition":
            disposition = field[1]
        elif lowered == "content-type":
            content_type = field[1]
    if disposition is None:
        raise MultipartError("a part has no Content-Disposition")
    kind, params = parse_options_header(disposition)
    if kind != "form-data":
        raise MultipartError(f"a part's Content-Disposition is {kind or 'empty'}, not form-data")
    name = params.get("name")
    if name is None:
        raise MultipartError("a part has no field name")
    return PartHead(name, params.get("filename"), content_type, headers)


def parse_options_header(value: str) -> Tuple[str, Dict[str, str]]:
    """``'form-data; name="a"'`` -> ``("form-data", {"name": "a"})``.

    The first part is lowercased; parameter names too. Quoted values lose their quotes
    and backslash escapes (``\\"`` and ``\\\\`` only: a Windows path sent unescaped keeps
    its backslashes). ``key*=charset'lang'percent-encoded`` (RFC 8187) wins over ``key``.
    Raises ``MultipartError`` for a value that is not ``type; key=value...``.
    """
    kind, semicolon, rest = value.partition(";")
    params: Dict[str, str] = {}
    extended: Dict[str, str] = {}
    position = 0
    rest = semicolon + rest
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if match is None:
            if rest[position:].strip(" \t;"):
                raise MultipartError("a malformed header parameter")
            break
        key, raw = match.group(1).lower(), match.group(2).strip(" \t")
        if raw.startswith('"'):
            raw = _ESCAPE.sub(r"\1", raw[1:-1])
        if key.endswith("*"):
            extended[key[:-1]] = _extended_value(raw)
        else:
            params[key] = raw
        position = match.end()
    params.update(extended)
    return kind.strip().lower(), params


def _extended_value(raw: str) -> str:
    """An RFC 8187 ``charset'language'value``: percent-decoded in its charset."""
    charset, quote1, rest = raw.partition("'")
    _language, quote2, encoded = rest.partition("'")
    if not (quote1 and quote2):
        raise MultipartError("a malformed extended header parameter")
    try:
        return unquote(encoded, encoding=charset or "utf-8", errors="strict")
    except (LookupError, ValueError):  # an unknown charset, one with a NUL, invalid bytes
        raise MultipartError(f"an extended header parameter is not valid {charset}") from None


def boundary_from_content_type(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` ``Content-Type``; ``MultipartError`` if none."""
    kind, params = parse_options_header(content_type)
    if kind != "multipart/form-data":
        raise MultipartError(f"expected multipart/form-data, got {kind or 'no Content-Type'}")
    boundary: Optional[str] = params.get("boundary")
    if not boundary or not _BOUNDARY.fullmatch(boundary):
        raise MultipartError("the multipart Content-Type has no valid boundary")
    return boundary.encode("latin-1")
