"""Request ids: ``request.id``, the ``X-Request-ID`` of a trusted proxy or one made here.

A proxy or client listed in ``config["forwarded_allow_ips"]`` may send
``X-Request-ID``; it is kept when it is 1-200 visible ASCII characters (anything else
could break a log line or a header). Otherwise an id is made on first use: a random
per-process prefix and a counter, unique without a system call per request.
"""
from __future__ import annotations

import itertools
import os
from typing import Iterator, Optional

HEADER = "X-Request-ID"
MAX_LENGTH = 200


def valid(value: str) -> bool:
    """Whether ``value`` may be kept as a request id."""
    return 0 < len(value) <= MAX_LENGTH and value.isascii() and value.isprintable() and " " not in value


def _fresh() -> None:
    global _prefix, _counter
    _prefix = os.urandom(6).hex() + "-"
    _counter = itertools.count(1)


_prefix = ""
_counter: Iterator[int] = itertools.count(1)
_fresh()
if hasattr(os, "register_at_fork"):  # each worker process makes its own ids
    os.register_at_fork(after_in_child=_fresh)


def new_id() -> str:
    """A new id, unique across processes (``next`` on a count is atomic under the GIL)."""
    return f"{_prefix}{next(_counter):x}"


def trusted_id(headers: Optional[object]) -> Optional[str]:
    """The valid ``X-Request-ID`` in ``headers``, or None."""
    value = headers.get(HEADER) if headers is not None else None  # type: ignore[attr-defined]
    return value if isinstance(value, str) and valid(value) else None
