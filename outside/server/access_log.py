"""The access log: one line per response on the ``outside.access`` logger.

The line is the Common Log Format (host, identity, user, time, request line, status,
size), as web servers write it, so log tools read it as they are.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Optional

access_logger = logging.getLogger("outside.access")


def _size(body: Any) -> str:
    if type(body) is bytes:
        return str(len(body)) if body else "-"
    count = getattr(body, "count", None)
    return str(count) if count is not None else "-"


def log_access(address: Any, request: Optional[Any], rendered: Any) -> None:
    """Log one answered request (``request`` is None for a request that could not be parsed)."""
    host = address[0] if isinstance(address, tuple) and address else "-"
    line = f"{request.method} {request.target} {request.version}" if request is not None else "-"
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z")
    access_logger.info('%s - - [%s] "%s" %d %s', host, stamp, line, rendered.status, _size(rendered.body))
