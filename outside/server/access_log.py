"""The access log: one line per response on the ``outside.access`` logger.

``config["access_log_format"]`` chooses the line:

- ``"common"`` (default): the Common Log Format (host, identity, user, time, request
  line, status, size), as web servers write it, so log tools read it as they are.
- ``"combined"``: the same plus the quoted ``Referer`` and ``User-Agent`` (nginx's
  and Apache's "combined"); quotes, backslashes and control characters in them are
  escaped (``\\x22``), so a header cannot end its field early or start a new line.
- ``"json"``: one JSON object per line, made by ``json.dumps`` (never by formatting
  text), with ``time``, ``client``, ``method``, ``target``, ``status``, ``bytes``,
  ``duration`` (seconds), ``user_agent``, ``referer`` and ``request_id``.
"""
from __future__ import annotations

import json
import logging
import re
import time
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from ..request import Request
    from ..response import Rendered

access_logger = logging.getLogger("outside.access")
_UNSAFE = re.compile(r'["\\\x00-\x1f\x7f-\uffff]')


def body_size(body: object) -> Optional[int]:
    """The bytes a rendered body holds, when known (not for a streamed iterable)."""
    if type(body) is bytes:
        return len(body)
    return getattr(body, "count", None)


def _quoted(value: Optional[str]) -> str:
    """``value`` between quotes, escaped as nginx escapes it; ``"-"`` when absent."""
    if not value:
        return '"-"'
    return '"' + _UNSAFE.sub(lambda match: "".join(f"\\x{byte:02X}" for byte in
                                                    match.group().encode("utf-8")), value) + '"'


def log_access(address: Any, request: Optional[Request], rendered: Rendered, started: float = 0.0,
               style: str = "common") -> None:
    """Log one answered request (``request`` is None for a request that could not be
    parsed; ``started``: its ``time.monotonic()`` when it arrived, for the duration)."""
    client = request.address if request is not None else address
    host = client[0] if isinstance(client, tuple) and client else "-"
    size = body_size(rendered.body)
    if style == "json":
        headers = request.headers if request is not None else {}
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "client": host,
            "method": request.method if request is not None else None,
            "target": request.target if request is not None else None,
            "status": rendered.status,
            "bytes": size,
            "duration": round(time.monotonic() - started, 6) if started else None,
            "user_agent": headers.get("User-Agent"),
            "referer": headers.get("Referer"),
            "request_id": request.__dict__.get("_request_id") if request is not None else None,
        }
        access_logger.info("%s", json.dumps(record))
        return
    line = f"{request.method} {request.target} {request.version}" if request is not None else "-"
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z")
    text = f'{host} - - [{stamp}] {_quoted(line)} {rendered.status} {size if size else "-"}'
    if style == "combined":
        headers = request.headers if request is not None else {}
        text += f' {_quoted(headers.get("Referer"))} {_quoted(headers.get("User-Agent"))}'
    access_logger.info("%s", text)


def with_request_id(head: bytes, request_id: str) -> bytes:
    """A rendered response head with ``X-Request-ID`` added (the id is visible ASCII)."""
    if b"\r\nx-request-id:" in head.lower():
        return head  # the handler set one itself
    return head[:-2] + b"X-Request-ID: " + request_id.encode("ascii") + b"\r\n\r\n"
