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
  ``feed`` raises the same error again.
- A ``Content-Length`` over ``max_body_size`` raises ``PayloadTooLarge`` as soon as the
  head is complete (before the body); a chunked body raises it as it grows past it.
- An error raised by ``feed`` carries in ``exc.events`` the events that the same call
  produced before it (so requests received whole before a bad one are still served, in
  order, before the error is answered and the connection closed).
"""
from __future__ import annotations

from .errors import BadRequest, HttpParserError  # noqa: F401
from .events import MessageEnd, RequestHead  # noqa: F401


class RequestParser:
    """Incremental HTTP/1.1 request parser (sans-I/O)."""

    def __init__(self, max_header_size: int = 65536, max_headers: int = 100,
                 max_url_size: int = 8192, max_body_size: "int | None" = None) -> None:
        raise NotImplementedError("being written")
