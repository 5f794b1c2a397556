"""HTTP-dates (RFC 9110 section 5.6.7) both ways."""
from __future__ import annotations

from datetime import timezone
from email.utils import formatdate, parsedate_to_datetime


def http_date(timestamp: float) -> str:
    """``timestamp`` as an IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``)."""
    return formatdate(timestamp, usegmt=True)


def parse_http_date(text: str) -> int | None:
    """An HTTP-date (any of the three RFC 9110 forms) as a Unix time, ``None`` if invalid."""
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # asctime form: always GMT, never the local zone
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())
