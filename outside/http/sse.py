"""Server-Sent Events on the wire (HTML Living Standard, "Server-sent events"): bytes out.

An event is a block of ``field: value`` lines ended by a blank line. ``data`` may hold
several lines: every line break (``\\r\\n``, ``\\n`` or a lone ``\\r``) starts a new
``data:`` line, and the browser joins them back with ``\\n``. ``event`` and ``id`` are
single lines (``id`` must not hold NUL: the browser would ignore it); ``retry`` is the
reconnection delay in milliseconds, a non-negative integer. A line starting with ``:`` is a
comment, which browsers ignore: ``HEARTBEAT`` keeps idle proxies from closing the stream.
"""
from __future__ import annotations

import re
from typing import Optional, Union

HEARTBEAT = b": \n\n"
CONTENT_TYPE = "text/event-stream"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

Text = Union[str, bytes]


def format_event(data: Optional[Text] = None, event: Optional[str] = None,
                 id: Optional[str] = None, retry: Optional[int] = None) -> bytes:
    """One event as UTF-8 bytes, blank line included.

    ``data`` (``str``, or ``bytes`` in UTF-8) is split into one ``data:`` line per line;
    ``None`` writes no data field (an event that only sets ``id`` or ``retry``), ``""``
    writes one empty ``data:`` line. Raises ``ValueError`` for a line break in ``event``
    or ``id``, a NUL in ``id``, a ``retry`` that is not a non-negative integer, or an
    event with no field at all; ``TypeError`` for an ``event`` or ``id`` that is not a ``str``.
    """
    lines = []
    if event is not None:
        lines.append("event: " + _single_line(event, "event"))
    if id is not None:
        if "\0" in id:
            raise ValueError("an event id must not contain NUL")
        lines.append("id: " + _single_line(id, "id"))
    if retry is not None:
        if type(retry) is not int or retry < 0:
            raise ValueError(f"retry must be a non-negative integer (milliseconds), not {retry!r}")
        lines.append(f"retry: {retry}")
    if data is not None:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        lines.extend("data: " + line for line in _LINE_BREAK.split(text))
    if not lines:
        raise ValueError("an event needs data, event, id or retry")
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def format_comment(text: str = "") -> bytes:
    """A comment block (ignored by clients), one ``:`` line per line of ``text``."""
    return ("".join(": " + line + "\n" for line in _LINE_BREAK.split(text)) + "\n").encode("utf-8")


def _single_line(value: str, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if "\r" in value or "\n" in value:
        raise ValueError(f"{name} must not contain a line break: {value!r}")
    return value
