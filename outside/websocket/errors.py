"""Close codes (RFC 6455 section 7.4) and the exceptions of the WebSocket core."""
from __future__ import annotations

from typing import Any

NORMAL_CLOSURE = 1000
GOING_AWAY = 1001
PROTOCOL_ERROR = 1002
UNSUPPORTED_DATA = 1003
NO_STATUS_RECEIVED = 1005  # never sent: stands for "the close frame had no code"
ABNORMAL_CLOSURE = 1006    # never sent: stands for "the connection dropped without a close"
INVALID_PAYLOAD = 1007     # e.g. a text message that is not UTF-8
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
MANDATORY_EXTENSION = 1010
INTERNAL_ERROR = 1011

# Codes a peer may put in a close frame: the registered ones meant for the wire
# (1004-1006 and 1015 are reserved) and the ranges for libraries (3000-3999) and
# applications (4000-4999).
SENDABLE_CLOSE_CODES: frozenset[int] = frozenset(
    (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014)
)


def is_valid_close_code(code: int) -> bool:
    """Whether ``code`` may appear in a close frame on the wire."""
    return code in SENDABLE_CLOSE_CODES or 3000 <= code <= 4999


class ProtocolError(Exception):
    """The peer broke RFC 6455 (or a limit): the connection fails with close ``code``.

    ``events`` holds what the failing ``receive_data`` call decoded before the error,
    so messages that arrived whole ahead of the bad frame are still delivered.
    """

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.events: list[Any] = []


class ConnectionClosed(Exception):
    """Sending on a connection whose close handshake has started or ended."""


class ConnectionEnded(ConnectionClosed):
    """The connection is over; ``code`` and ``reason`` are the peer's close frame (1006
    when it vanished without one). Raised by ``recv`` and by sends on an ended connection."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"WebSocket connection ended ({code} {reason})".rstrip())
        self.code = code
        self.reason = reason
