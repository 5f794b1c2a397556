"""Pure-Python HTTP/1.1 request parser: the twin of the llhttp-based C parser.

THE CONTRACT (both twins, byte for byte):

    parser = RequestParser(max_header_size=65536, max_headers=100,
                           max_url_size=8192, max_body_size=None)
    events = parser.feed(data)   # list of RequestHead, bytes (body pieces), MessageEnd
    parser.feed_eof()            # end of input: raises BadRequest if a request is half read
    parser.upgraded              # True once an upgrade request's head and end were returned
    parser.take_upgrade_data()   # the bytes after the upgrade request, untouched (then b"")

- Several pipelined requests in one ``feed`` come back in order. Body pieces are
  returned as they arrive (never accumulated), so memory does not grow with the body.
- Errors raise a subclass of ``outside.http.errors.HttpParserError`` carrying the status
  (400, 413, 414, 431, 501, 505). After an error the parser is dead: every later
  ``feed`` raises the same error again (same class and reason, empty ``events``).
- A ``Content-Length`` over ``max_body_size`` raises ``PayloadTooLarge`` as soon as the
  head is complete (before the body); a chunked body raises it as a chunk header
  announces more than the limit allows.
- An error raised by ``feed`` carries in ``exc.events`` the events that the same call
  produced before it (so requests received whole before a bad one are still served, in
  order, before the error is answered and the connection closed).
- Errors are raised as soon as llhttp would raise them, whatever the splitting: mostly
  with the byte that makes the input invalid, so a request head is refused mid-line.
  A limit passed before that byte wins over the syntax error.

The grammar is llhttp's strict one (no lenient flags): after a request that does not
keep the connection alive only empty lines may follow (400). These rules are added at
the end of the head: one ``Host`` at most, exactly one in HTTP/1.1 (400);
``Transfer-Encoding`` must end in ``chunked`` (400), must not be used in HTTP/1.0 (400)
and may not list other codings (501); only versions 1.0 and 1.1 (505); only the HTTP
methods (501 for an unknown token, 400 for a byte that cannot be in a token). Limits:
``max_url_size`` (414), the request line plus headers over ``max_header_size`` or more
than ``max_headers`` fields (431; the same limits apply to a chunked trailer section),
``max_body_size`` (413).

How it is fast: a request head that arrives whole is checked by one regular expression
and split by one ``findall``; the line-by-line scanner below only runs on heads that
arrive in pieces or are invalid, to find where (and so which) error llhttp would report.
"""
from __future__ import annotations

import re
from typing import List, Optional, Tuple, Union

from .errors import (
    BadRequest,
    HeaderFieldsTooLarge,
    HttpParserError,
    NotImplementedMethodOrCoding,
    PayloadTooLarge,
    URITooLong,
    VersionNotSupported,
)
from .events import MessageEnd, RequestHead

__all__ = ["RequestParser"]

# -- the grammar (bytes) ------------------------------------------------------------------

METHODS = (
    "DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE", "COPY", "LOCK",
    "MKCOL", "MOVE", "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND",
    "ACL", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE",
    "UNSUBSCRIBE", "PATCH", "PURGE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE", "QUERY",
)
_METHOD_WORDS = tuple(method.encode() + b" " for method in METHODS)
# llhttp also knows the RTSP methods and PRI; the bytes it takes count in the head size.
_LLHTTP_METHOD_WORDS = _METHOD_WORDS + tuple(method + b" " for method in (
    b"DESCRIBE", b"ANNOUNCE", b"SETUP", b"PLAY", b"PAUSE", b"TEARDOWN", b"GET_PARAMETER",
    b"SET_PARAMETER", b"REDIRECT", b"RECORD", b"FLUSH", b"PRI"))
_TCHAR = rb"!#$%&'*+\-.^_`|~0-9A-Za-z"
_TCHARS = frozenset(b"".join(re.findall(rb"[" + _TCHAR + rb"]", bytes(range(128)))))
_VALUE = rb"\t\x20-\x7e\x80-\xff"        # field value bytes (no CTL but HTAB, no DEL)
_TARGET = rb"\x21-\x7e"                  # path, query and fragment bytes
_HOST = rb"!$%&'()*+,\-.0-9:;=A-Z\[\]_a-z~"  # authority bytes, without "@", "/" and "?"
# llhttp takes any number of "@" in the authority, but never two in a row.
_AUTHORITY = rb"[" + _HOST + rb"]*(?:@[" + _HOST + rb"]+)*@?(?:[/?][" + _TARGET + rb"]*)?"
# The longest valid start of a target, for finding where a bad one goes wrong.
_TARGET_START = re.compile(
    rb"(?:[/*][" + _TARGET + rb"]*|[A-Za-z]+(?::(?:/(?:/" + _AUTHORITY + rb")?)?)?)?")
_AUTHORITY_START = re.compile(_AUTHORITY)
_SCHEME = re.compile(rb"[A-Za-z]+:?")
_SCHEME_SLASH = re.compile(rb"[A-Za-z]+:/")
# Whole targets: origin-form, "*", absolute-form; authority-form for CONNECT.
_TARGET_WHOLE = re.compile(rb"[/*][" + _TARGET + rb"]*|[A-Za-z]+://" + _AUTHORITY)
_VERSION_START = re.compile(rb"(?:H(?:T(?:T(?:P(?:/(?:([0-9])(?:\.(?:([0-9])(?:\r(?:\n)?)?)?)?)?)?)?)?)?)?")

# A whole request head that needs no second look: checked by one match (a CONNECT
# target is checked again, as an authority).
_HEAD = re.compile(
    rb"(" + rb"|".join(re.escape(method.encode()) for method in METHODS) + rb") +"
    rb"(" + _TARGET_WHOLE.pattern + rb") +HTTP/1\.([01])\r\n"
    rb"((?:[" + _TCHAR + rb"]+:[" + _VALUE + rb"]*\r\n)*)\r\n")
_FIELD_START = re.compile(rb"([" + _TCHAR + rb"]*)(:[" + _VALUE + rb"]*(\r\n?)?)?")
# Split a checked field block (latin-1 text): name, value without its leading OWS.
_FIELDS = re.compile(r"([^:]+):[ \t]*([^\r]*)\r\n")

_CONTENT_LENGTH = re.compile(r"[ \t]*[0-9]*[ \t]*")
_MAX_LENGTH = 1 << 64                     # llhttp's Content-Length and chunk size type
# llhttp's Transfer-Encoding reading: "chunked" as a whole coding (after OWS, before
# spaces but not tabs) sets the chunked flag; a coding after it in a request is an error.
_TE_CHUNKED_LAST = re.compile(r"(?:.*,)?[ \t]*chunked[ ]*", re.IGNORECASE | re.DOTALL)
_TE_AFTER_CHUNKED = re.compile(r"(?:.*,)?[ \t]*chunked[ ]*,", re.IGNORECASE | re.DOTALL)
# Chunk extensions: ";name", ";name=token" or ';name="quoted"'; llhttp also takes an
# empty name before "=" or another ";", and a token with a quoted string after it.
_QUOTED_BYTE = rb"[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[" + _VALUE + rb"]"
_EXTENSION_VALUE = rb"[" + _TCHAR + rb']*(?:"(?:' + _QUOTED_BYTE + rb')*")?'
# (an unclosed quoted string only at the end of what arrived)
_PARTIAL_EXTENSION_VALUE = rb"[" + _TCHAR + rb']*(?:"(?:' + _QUOTED_BYTE + rb')*(?:"|\\?\Z))?'


def _extensions(value: bytes, empty_name_before: bytes) -> bytes:
    return (rb"(?:;(?:[" + _TCHAR + rb"]+(?:=" + value + rb")?|=" + value
            + rb"|(?=" + empty_name_before + rb")))*")


_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]+)" + _extensions(_EXTENSION_VALUE, rb";") + rb"\r\n")
# The longest valid start of a chunk-size line (a quoted value may be cut anywhere).
_CHUNK_LINE_START = re.compile(
    rb"(?:[0-9A-Fa-f]+" + _extensions(_PARTIAL_EXTENSION_VALUE, rb";|\Z") + rb"\r?)?")
_VALUE_RUN = re.compile(rb"[" + _VALUE + rb"]*")
_TARGET_BYTES = re.compile(rb"[" + _TARGET + rb"]*")

Fields = List[Tuple[str, str]]
Events = List[Union[RequestHead, bytes, MessageEnd]]  # a head, its body pieces, its end


class _Framing:
    """What llhttp tracks while reading fields: counts and the framing headers' flags."""

    __slots__ = ("count", "content_length", "has_te", "chunked", "close", "keep_alive",
                 "connection_upgrade", "has_upgrade")

    def __init__(self) -> None:
        self.count = 0
        self.content_length: Optional[int] = None
        self.has_te = False
        self.chunked = False
        self.close = False
        self.keep_alive = False
        self.connection_upgrade = False
        self.has_upgrade = False

    def keeps_alive(self, http11: bool) -> bool:
        """Whether the connection stays open after this message (HTTP/1.1 unless "close")."""
        return not self.close if http11 else self.keep_alive

    def field_error(self, kind: str, value: str, complete: bool) -> Optional[Tuple[str, int]]:
        """The framing error in one (maybe partial) field, or None; commits when complete.

        ``kind`` is the lowercased name; ``value`` what follows the colon, CRLF excluded,
        as far as it arrived. An error comes with the index in ``value`` where llhttp
        reports it (limits passed before that byte win over it).
        """
        lead = len(value) - len(value.lstrip(" \t"))
        if kind == "content-length":
            if self.has_te:
                return "Content-Length can't be present with Transfer-Encoding", 0
            if lead < len(value) and self.content_length is not None:
                return "Duplicate Content-Length", lead
            valid = _CONTENT_LENGTH.match(value).end()  # type: ignore[union-attr]  # cannot fail here
            if valid < len(value):
                return "Invalid character in Content-Length", valid
            digits = value.strip(" \t")
            if digits and int(digits) >= _MAX_LENGTH:
                return "Content-Length overflow", lead + next(   # reported after the digit
                    end for end in range(1, len(digits) + 1) if int(digits[:end]) >= _MAX_LENGTH)
            if complete:
                if not digits:
                    return "Empty Content-Length", len(value) + 2
                self.content_length = int(digits)
        elif kind == "transfer-encoding":
            if self.content_length is not None:
                return "Transfer-Encoding can't be present with Content-Length", 0
            coding = value[lead:]
            if coding and self.chunked:
                return "Invalid `Transfer-Encoding` header value", lead + 1
            after_chunked = _TE_AFTER_CHUNKED.match(coding)
            if after_chunked:
                return "Invalid `Transfer-Encoding` header value", lead + after_chunked.end()
            if complete:
                if not coding:
                    return "Empty Transfer-Encoding", len(value) + 2
                self.has_te = True
                self.chunked = _TE_CHUNKED_LAST.fullmatch(coding) is not None
        elif complete and kind in ("connection", "proxy-connection"):
            for token in value.lower().split(","):
                token = token.strip(" \t")
                if token == "close":
                    self.close = True
                elif token == "keep-alive":
                    self.keep_alive = True
                elif token == "upgrade":
                    self.connection_upgrade = True
        elif complete and kind == "upgrade" and lead < len(value):
            self.has_upgrade = True    # llhttp notes an Upgrade field only with a value
        return None


def _common_prefix(words: Tuple[bytes, ...], start: bytes) -> Tuple[int, bool]:
    """(how many bytes of ``start`` some word begins with, whether one is all there)."""
    longest = 0
    for word in words:
        common = 0
        for expected, got in zip(word, start):
            if expected != got:
                break
            common += 1
        if common == len(word):
            return common, True
        longest = max(longest, common)
    return longest, False


def _method_error(line: bytes) -> Tuple[Optional[HttpParserError], int]:
    """Refuse a request line whose start leaves every "METHOD " at some byte.

    Also says how many bytes llhttp (which knows more methods) took before refusing.
    """
    start = line[:17]
    common, whole = _common_prefix(_METHOD_WORDS, start)
    if whole or common == len(start):
        return None, 0
    taken, whole = _common_prefix(_LLHTTP_METHOD_WORDS, start)
    taken -= whole             # the span of a method llhttp knows ends before its space
    if start[common] in _TCHARS:
        return NotImplementedMethodOrCoding("unknown method"), taken
    return BadRequest("invalid character in method"), taken


class _Scan:
    """A head (or trailer section) read in pieces: finds the first error, line by line.

    Complete lines are checked once; the last, partial line again on each feed, as a
    prefix of a valid line, so an error shows as soon as its byte has arrived.
    """

    __slots__ = ("parser", "trailers", "framing", "offset", "first_line", "second_line",
                 "after_empty_value", "end", "plain", "plain_run", "plain_limit")

    def __init__(self, parser: RequestParser, trailers: bool, framing: _Framing) -> None:
        self.parser = parser
        self.trailers = trailers
        self.framing = framing
        self.offset = 0              # where the first unchecked line starts
        self.first_line = not trailers
        self.second_line = False     # the line right after the request line
        self.after_empty_value = False  # the last field line had an empty value
        self.end = -1                # where the section ends, once its empty line is seen
        self.plain = 0               # the partial line is valid this far (see read_plainly)
        self.plain_run = _VALUE_RUN
        self.plain_limit = 0

    def run(self, data: bytes, base: int) -> Optional[HttpParserError]:
        """Check ``data[base:]`` (the section so far); set ``end`` when it is complete."""
        limit = self.parser.max_header_size
        size = len(data) - base
        while True:
            start = base + self.offset
            newline = data.find(b"\n", start)
            # Only new bytes of a field value or a path: no need to read it all again.
            if (newline < 0 and self.plain and self.offset + self.plain <= size <= self.plain_limit
                    and self.plain_run.match(data, start + self.plain).end() == len(data)):  # type: ignore[union-attr]  # a run may be empty: it always matches
                self.plain = size - self.offset
                return self.too_large() if size > limit else None
            self.plain = 0
            line = data[start:] if newline < 0 else data[start:newline + 1]
            if newline == len(data) - 1 and line != b"\r\n":
                newline = -1           # llhttp judges a line once the next one has begun
            error, good = self.check_line(line, newline >= 0, data[newline + 1:newline + 2])
            if self.offset + good > limit:
                error = self.too_large()   # the limit was passed before the bad byte
            if error is not None:
                return error
            if newline < 0:
                return None
            self.offset = newline + 1 - base
            if line == b"\r\n" and not self.first_line:
                self.end = self.offset
                return None
            self.second_line = self.first_line
            self.first_line = False

    def read_plainly(self, checked: int, run: re.Pattern[bytes], limit: int) -> None:
        """The partial line is valid up to ``checked``; bytes matching ``run`` may follow
        (up to a line of ``limit`` bytes) without reading the line again."""
        self.plain = checked
        self.plain_run = run
        self.plain_limit = self.offset + limit

    def too_large(self) -> HttpParserError:
        return HeaderFieldsTooLarge("trailer section too large" if self.trailers
                                    else "request head too large")

    def check_line(self, line: bytes, complete: bool,
                   following: bytes) -> Tuple[Optional[HttpParserError], int]:
        """(the error in this line or None, how many of its bytes are valid).

        ``following`` is the byte after a complete line."""
        if not line:
            return None, 0
        if self.first_line:
            return self.check_request_line(line)
        if line[:1] == b"\r":
            if line == b"\r" or line == b"\r\n":
                return None, len(line)
            return BadRequest("Expected LF after headers"), 1
        match = _FIELD_START.match(line)
        name, rest, ending = match.group(1, 2, 3)  # type: ignore[union-attr]  # cannot fail here
        if name and self.framing.count >= self.parser.max_headers:
            return HeaderFieldsTooLarge("too many trailer fields" if self.trailers
                                        else "too many header fields"), 0
        if not name:
            # llhttp reports a bare LF, a space right after the request line and a fold
            # after an empty value one byte late (it takes them first).
            late = line[:1] == b"\n" or (line[:1] == b" " and self.second_line) or (
                line[:1] in b" \t" and self.after_empty_value)
            return BadRequest("Invalid header token"), int(late)
        if rest is None:               # the name so far, or a byte that cannot be in it
            if match.end() < len(line):  # type: ignore[union-attr]  # cannot fail here
                return BadRequest("Invalid header token"), match.end()  # type: ignore[union-attr]  # cannot fail here
            return None, len(line)
        value = rest[1:len(rest) - len(ending or b"")]
        problem = self.framing.field_error(name.decode("latin-1").lower(), value.decode("latin-1"),
                                           complete and match.end() == len(line))  # type: ignore[union-attr]  # cannot fail here
        if problem is not None:
            if problem[1] > len(value) and following in (b" ", b"\t"):
                # An empty value folded onto the next line: the fold is what llhttp reports.
                return BadRequest("Invalid header value char"), len(line) + 1
            return BadRequest(problem[0]), len(name) + 1 + problem[1]
        if match.end() < len(line):  # type: ignore[union-attr]  # cannot fail here
            return BadRequest("Invalid header value char"), match.end()  # type: ignore[union-attr]  # cannot fail here
        if complete:
            self.framing.count += 1
            self.after_empty_value = not rest[1:].strip(b" \t\r\n")
        elif not ending and _field_kind(name.decode("latin-1")) not in _FRAMING_KINDS:
            self.read_plainly(len(line), _VALUE_RUN, 1 << 62)
        return None, len(line)

    def target_too_long(self, target_start: int) -> Tuple[HttpParserError, int]:
        # The error comes with the byte that passes the limit: a head size limit passed
        # before it wins.
        return URITooLong("request target too long"), target_start + self.parser.max_url_size

    def check_request_line(self, line: bytes) -> Tuple[Optional[HttpParserError], int]:
        error, taken = _method_error(line)
        if error is not None:
            return error, taken
        space = line.find(b" ")
        if space < 0:
            return None, len(line)
        method = line[:space]
        position = space
        while position < len(line) and line[position] == 32:
            position += 1
        if position == len(line):
            return None, position
        target_end = _TARGET_BYTES.match(line, position).end()  # type: ignore[union-attr]  # cannot fail here
        target = line[position:target_end]
        pattern = _AUTHORITY_START if method == b"CONNECT" else _TARGET_START
        good = pattern.match(target).end()  # type: ignore[union-attr]  # cannot fail here
        # llhttp reports a second "@" in a row after taking it: it counts in the target.
        taken = good + 1 if target[good - 1:good + 1] == b"@@" else good
        if taken > self.parser.max_url_size:
            return self.target_too_long(position)
        if good < len(target):
            return BadRequest("Invalid characters in url"), position + taken
        if target_end == len(line):
            if target[:1] in (b"/", b"*"):   # a path: only more target bytes may follow
                self.read_plainly(len(line), _TARGET_BYTES, position + self.parser.max_url_size)
            return None, len(line)
        if line[target_end] != 32 or (method != b"CONNECT" and not _TARGET_WHOLE.fullmatch(target)):
            # llhttp takes a tab or a form feed after most of a target (and a space or a
            # line end after a bare scheme) before refusing it: that byte is in the target.
            ending = line[target_end]
            if (ending in b"\t\x0c" and not _SCHEME_SLASH.fullmatch(target)) or (
                    ending in b" \r\n" and _SCHEME.fullmatch(target)):
                if len(target) + 1 > self.parser.max_url_size:
                    return self.target_too_long(position)
                return BadRequest("Invalid characters in url"), target_end + 1
            return BadRequest("Invalid characters in url"), target_end
        position = target_end
        while position < len(line) and line[position] == 32:
            position += 1
        version = _VERSION_START.match(line, position)
        major, minor = version.group(1, 2)  # type: ignore[union-attr]  # cannot fail here
        if minor is not None and (major, minor) not in ((b"1", b"0"), (b"1", b"1")):
            return VersionNotSupported("Invalid HTTP version"), version.end(2)  # type: ignore[union-attr]  # cannot fail here
        if version.end() < len(line):  # type: ignore[union-attr]  # cannot fail here
            # llhttp takes a bare LF after the version before refusing it.
            late = minor is not None and line[version.end():version.end() + 1] == b"\n"  # type: ignore[union-attr]  # cannot fail here
            return BadRequest("Expected HTTP/ and a version, then CRLF"), version.end() + late  # type: ignore[union-attr]  # cannot fail here
        return None, len(line)


class RequestParser:
    """Incremental HTTP/1.1 request parser (sans-I/O)."""

    def __init__(self, max_header_size: int = 65536, max_headers: int = 100,
                 max_url_size: int = 8192, max_body_size: int | None = None) -> None:
        self.max_header_size = max_header_size
        self.max_headers = max_headers
        self.max_url_size = max_url_size
        self.max_body_size = max_body_size
        self._buffer = bytearray()    # bytes kept for the next feed (an incomplete line)
        self._step = self._read_head
        self._scan: Optional[_Scan] = None
        self._framing = _Framing()
        self._remaining = 0           # body bytes left (Content-Length or current chunk)
        self._body_total = 0          # chunked bytes announced so far
        self._http11 = True
        self._upgrade = False
        self._error: Optional[HttpParserError] = None
        self._upgraded = False
        self._upgrade_data: List[bytes] = []

    # -- the public API -------------------------------------------------------------------

    @property
    def upgraded(self) -> bool:
        """True once an upgrade request's head and end were returned."""
        return self._upgraded

    def take_upgrade_data(self) -> bytes:
        """The bytes after the upgrade request, untouched; later calls return what came since."""
        data = b"".join(self._upgrade_data)
        self._upgrade_data = []
        return data

    def feed(self, data: Union[bytes, bytearray, memoryview]) -> Events:
        """Parse ``data``; return the events it completes (RequestHead, bytes, MessageEnd)."""
        if self._error is not None:
            raise self._repeat_error()
        if self._upgraded:
            if data:
                self._upgrade_data.append(bytes(data))
            return []
        events: Events = []
        try:
            if self._buffer:
                # An incomplete head, trailer section or chunk line: it grows in place, so
                # a head sent a byte at a time costs linear time.
                kept = self._buffer
                kept += data
                position = self._step(kept, 0, events)  # type: ignore[arg-type]  # a bytearray, read like bytes
                if position < 0:
                    del kept[:~position]
                    self._compact_kept()
                    return events
                buffer = bytes(kept)
                self._buffer = bytearray()
            else:
                buffer = bytes(data)
                position = 0
            while position < len(buffer) and not self._upgraded:
                position = self._step(buffer, position, events)
                if position < 0:       # waiting for more bytes from ~position on
                    self._buffer = bytearray(buffer[~position:])
                    self._compact_kept()
                    return events
            if self._upgraded and position < len(buffer):
                self._upgrade_data.append(buffer[position:])
        except HttpParserError as error:
            error.events = events
            self._error = error
            raise
        return events

    def feed_eof(self) -> None:
        """End of input: raise BadRequest if a request is half read."""
        if self._error is not None:
            raise self._repeat_error()
        if self._upgraded or (self._step in (self._read_head, self._read_closed)
                              and not self._buffer):
            return
        self._error = BadRequest("connection closed in the middle of a request")
        raise self._error

    def _compact_kept(self) -> None:
        # llhttp reads chunk extensions without keeping them: so must we, or an endless
        # extension would fill the memory. Heads and trailers have their size limit.
        if self._step == self._read_chunk_size and len(self._buffer) > _LONGEST_KEPT_CHUNK_LINE:
            self._buffer = _compact_chunk_line(self._buffer)

    def _repeat_error(self) -> HttpParserError:
        assert self._error is not None
        return type(self._error)(self._error.reason)

    # -- steps: each takes (buffer, position, events) and returns the new position, or
    # ~start when it needs more bytes and the buffer must be kept from ``start`` --------

    def _read_head(self, buffer: bytes, position: int, events: Events) -> int:
        if self._scan is None:
            if buffer[position] in (13, 10):
                while position < len(buffer) and buffer[position] in (13, 10):
                    position += 1      # llhttp skips empty lines between requests
                if position == len(buffer):
                    return position
            end = buffer.find(b"\r\n\r\n", position)
            if end >= 0:
                end += 4
                match = _HEAD.fullmatch(buffer, position, end)
                if match is not None and end - position <= self.max_header_size:
                    head = self._fast_head(match)
                    if head is not None:
                        return self._start_body(head, end, events)
        return self._scan_head(buffer, position, events)

    def _fast_head(self, match: re.Match[bytes]) -> Optional[RequestHead]:
        """The head of a request that matched ``_HEAD``, or None if it needs the scanner."""
        method, target, minor, block = match.groups()
        if len(target) > self.max_url_size or (
                method == b"CONNECT" and _AUTHORITY_START.fullmatch(target) is None):
            return None
        fields = _FIELDS.findall(block.decode("latin-1"))
        if len(fields) > self.max_headers:
            return None
        framing = _Framing()
        summary = _summarize(fields, framing)
        if summary is None:
            return None
        self._framing = framing
        if b" \r\n" in block or b"\t\r\n" in block:
            fields = _without_trailing_ows(fields)
        return self._head(method, target, minor == b"1", fields, summary)

    def _scan_head(self, buffer: bytes, position: int, events: Events) -> int:
        """The slow way: check the head as far as it arrived; emit it once complete."""
        if self._scan is None:
            self._framing = _Framing()
            self._scan = _Scan(self, False, self._framing)
        end = self._run_scan(buffer, position)
        if end < 0:
            return ~position
        request_line, _, block = bytes(buffer[position:position + end]).partition(b"\r\n")
        method, _, rest = request_line.partition(b" ")
        target, _, version = rest.lstrip(b" ").partition(b" ")
        fields = _FIELDS.findall(block[:-2].decode("latin-1"))
        summary = _summarize(fields, None)
        assert summary is not None
        head = self._head(method, target, version.strip(b" ") == b"HTTP/1.1",
                          _without_trailing_ows(fields), summary)
        return self._start_body(head, position + end, events)

    def _run_scan(self, buffer: bytes, position: int) -> int:
        """Run the scanner from ``position``: the section's length once complete, else -1."""
        scan = self._scan
        assert scan is not None
        error = scan.run(buffer, position)
        if error is not None:
            raise error
        if scan.end < 0:
            return -1
        self._scan = None
        return scan.end

    def _head(self, method: bytes, target: bytes, http11: bool, fields: Fields,
              summary: Tuple[int, int, bool, bool]) -> RequestHead:
        """Apply the end-of-head rules; the RequestHead or an error."""
        hosts, codings, final_chunked, expect_continue = summary
        framing = self._framing
        if hosts > 1:
            raise BadRequest("more than one Host header")
        if hosts == 0 and http11:
            raise BadRequest("missing Host header")
        if framing.has_te:
            if not http11:
                raise BadRequest("Transfer-Encoding in an HTTP/1.0 request")
            if not final_chunked:
                raise BadRequest("Transfer-Encoding whose final coding is not chunked")
            if codings > 1:
                raise NotImplementedMethodOrCoding("transfer codings other than chunked")
        if (framing.content_length is not None and self.max_body_size is not None
                and framing.content_length > self.max_body_size):
            raise PayloadTooLarge("Content-Length over the body size limit")
        method_name = _METHOD_NAMES[method]
        upgrade = (framing.has_upgrade and framing.connection_upgrade) or method == b"CONNECT"
        self._http11 = http11
        self._upgrade = upgrade
        return RequestHead(method_name, target.decode("latin-1"), "HTTP/1.1" if http11 else "HTTP/1.0",
                           fields, framing.keeps_alive(http11), upgrade, expect_continue, framing.chunked,
                           framing.content_length)

    def _start_body(self, head: RequestHead, position: int, events: Events) -> int:
        """After a head: choose how the body is framed, as llhttp does."""
        events.append(head)
        framing = self._framing
        has_body = framing.chunked or bool(framing.content_length)
        if self._upgrade and (head.method == "CONNECT" or not has_body):
            events.append(MessageEnd())
            self._upgraded = True
            return position
        if framing.chunked:
            self._body_total = 0
            self._step = self._read_chunk_size
        elif framing.has_te:
            raise BadRequest("Request has invalid `Transfer-Encoding`")
        elif framing.content_length:
            self._remaining = framing.content_length
            self._step = self._read_body
        else:
            return self._end_message(position, events, None)
        return position

    def _end_message(self, position: int, events: Events, trailers: Optional[Fields]) -> int:
        events.append(MessageEnd(trailers))
        if self._upgrade:
            self._upgraded = True
        else:
            # A trailer field may have said "Connection: close".
            self._step = self._read_head if self._framing.keeps_alive(self._http11) else self._read_closed
        return position

    def _body_piece(self, buffer: bytes, position: int, events: Events) -> int:
        piece = buffer[position:position + self._remaining]
        events.append(piece)
        self._remaining -= len(piece)
        return position + len(piece)

    def _read_body(self, buffer: bytes, position: int, events: Events) -> int:
        position = self._body_piece(buffer, position, events)
        if self._remaining:
            return position
        return self._end_message(position, events, None)

    def _read_chunk_size(self, buffer: bytes, position: int, events: Events) -> int:
        match = _CHUNK_LINE.match(buffer, position)
        if match is None:
            start = _CHUNK_LINE_START.fullmatch(buffer, position)
            digits = _HEX.match(buffer, position).group()  # type: ignore[union-attr]  # cannot fail here
            if start is None or (digits and int(digits, 16) >= _MAX_LENGTH):
                raise BadRequest("Invalid chunk size line")
            return ~position
        size = int(match.group(1), 16)
        if size >= _MAX_LENGTH:
            raise BadRequest("Chunk size overflow")
        if self.max_body_size is not None:
            if size > self.max_body_size - self._body_total:
                raise PayloadTooLarge("chunked body over the body size limit")
            self._body_total += size
        if size:
            self._remaining = size
            self._step = self._read_chunk
            return match.end()
        self._framing.count = 0        # trailers have their own count and size
        self._scan = _Scan(self, True, self._framing)
        self._step = self._read_trailers
        return match.end()

    def _read_chunk(self, buffer: bytes, position: int, events: Events) -> int:
        position = self._body_piece(buffer, position, events)
        if not self._remaining:
            self._step = self._read_chunk_end
        return position

    def _read_chunk_end(self, buffer: bytes, position: int, events: Events) -> int:
        ending = buffer[position:position + 2]
        if ending == b"\r\n":
            self._step = self._read_chunk_size
            return position + 2
        if ending != b"\r":
            raise BadRequest("Expected CRLF after chunk data")
        return ~position

    def _read_trailers(self, buffer: bytes, position: int, events: Events) -> int:
        end = self._run_scan(buffer, position)
        if end < 0:
            return ~position
        section = buffer[position:position + end - 2]
        trailers = _without_trailing_ows(_FIELDS.findall(section.decode("latin-1")))
        return self._end_message(position + end, events, trailers or None)

    def _read_closed(self, buffer: bytes, position: int, events: Events) -> int:
        rest = buffer[position:].lstrip(b"\r\n")
        if rest:
            raise BadRequest("Data after `Connection: close`")
        return len(buffer)


_METHOD_NAMES = {method.encode(): method for method in METHODS}
# Fields that llhttp reads (framing, connection) and those read at the end of the head.
_FRAMING_KINDS = frozenset(("content-length", "transfer-encoding", "connection",
                            "proxy-connection", "upgrade"))
_KINDS = _FRAMING_KINDS | {"host", "expect"}
_KIND_CACHE: dict[str, str] = {}   # field name as sent -> its kind, or "" if none of those
_KIND_CACHE_SIZE = 1024


def _field_kind(name: str) -> str:
    kind = _KIND_CACHE.get(name)
    if kind is None:
        lowered = name.lower()
        kind = lowered if lowered in _KINDS else ""
        if len(_KIND_CACHE) >= _KIND_CACHE_SIZE:
            _KIND_CACHE.clear()        # a client sending ever new names gets no memory
        _KIND_CACHE[name] = kind
    return kind


def _summarize(fields: Fields, framing: Optional[_Framing]) -> Optional[Tuple[int, int, bool, bool]]:
    """(Host count, transfer codings, is the last one chunked, Expect: 100-continue).

    With ``framing``, the framing fields are also read into it; None on a framing error.
    """
    hosts = codings = 0
    final_chunked = expect_continue = False
    cached = _KIND_CACHE.get
    for name, value in fields:
        kind = cached(name)
        if kind is None:
            kind = _field_kind(name)
        if not kind:
            continue
        if kind == "host":
            hosts += 1
        elif kind == "expect":
            expect_continue = expect_continue or value.rstrip(" \t").lower() == "100-continue"
        else:
            if framing is not None and framing.field_error(kind, value, True) is not None:
                return None
            if kind == "transfer-encoding":
                for coding in value.split(","):
                    coding = coding.strip(" \t")
                    if coding:
                        codings += 1
                        final_chunked = coding.lower() == "chunked"
    return hosts, codings, final_chunked, expect_continue


def _without_trailing_ows(fields: Fields) -> Fields:
    return [(name, value.rstrip(" \t")) for name, value in fields]


# -- a partial chunk-size line kept between feeds -----------------------------------------

_HEX = re.compile(rb"[0-9A-Fa-f]*")
_LONGEST_KEPT_CHUNK_LINE = 1024
_EXTENSION = re.compile(rb";[" + _TCHAR + rb"]*(?:=" + _PARTIAL_EXTENSION_VALUE + rb")?")
_PARTIAL_QUOTED = re.compile(rb'"(?:' + _QUOTED_BYTE + rb')*(?:(")|(\\))?')


def _compact_chunk_line(line: bytearray) -> bytearray:
    """A short chunk-size line that continues exactly as the (valid) partial ``line`` would:
    the same size, then the last extension cut down to what decides the next byte."""
    digits = _HEX.match(line).group()  # type: ignore[union-attr]  # cannot fail here
    extensions = line[len(digits):]
    ending = extensions[-1:] if extensions[-1:] == b"\r" else b""
    last = b""
    for extension in _EXTENSION.finditer(extensions[:len(extensions) - len(ending)]):
        last = extension.group()
    name, equals, value = last.partition(b"=")
    if not last or not equals:
        last = name[:2]                 # ";" and ";x" differ: only a name may end the line
    elif b'"' in value:
        quoted = _PARTIAL_QUOTED.fullmatch(value[value.index(b'"'):])
        last = b';x="' + (b'"' if quoted.group(1) else b"\\" if quoted.group(2) else b"")  # type: ignore[union-attr]  # cannot fail here
    else:
        last = b";x=" + value[:1]
    return bytearray(b"%x" % int(digits, 16) + last + ending)
