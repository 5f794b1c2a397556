"""Cut off clients that read a response too slowly (``min_send_rate``).

A client that reads a large response at a trickle holds the thread writing it for as
long as it likes: ``process_timeout`` only ends a write that makes no progress at all.
The worker's sweep samples, for each connection that is writing, how many bytes the
client has acknowledged (the kernel counts them: ``TCP_INFO``'s ``tcpi_bytes_acked``,
Linux). Over each window of ``min_send_rate_grace`` seconds during which the socket's
send buffer stayed full (the server waits for the client, not the other way round),
the client must have taken ``min_send_rate`` bytes per second, or the connection is
shut down, which makes the blocked write fail and frees its thread.

Default 1,024 B/s over 10 s: a phone on a poor 2G link still receives several KB/s,
so only a client that reads on purpose slowly (or has stalled) falls below it, while
a 10 s window rides out a congestion stall or a radio hand-over.
"""
from __future__ import annotations

import socket
import struct
from typing import TYPE_CHECKING, Optional

from . import io

if TYPE_CHECKING:
    from .connection import Connection

_TCP_INFO = getattr(socket, "TCP_INFO", None)
_BYTES_ACKED = 120  # offset of tcpi_bytes_acked (u64) in Linux's struct tcp_info (since 4.1)
_INFO_SIZE = _BYTES_ACKED + 8


def bytes_acked(sock: socket.socket) -> Optional[int]:
    """How many bytes the peer has acknowledged on ``sock``; None where unknown."""
    if _TCP_INFO is None:
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, _INFO_SIZE)
    except OSError:
        return None
    if len(info) < _INFO_SIZE:
        return None
    return struct.unpack_from("=Q", info, _BYTES_ACKED)[0]


def too_slow(conn: Connection, now: float, rate: float, grace: float) -> bool:
    """Called by each sweep for a connection that is writing: whether it read less than
    ``rate`` bytes/s over the last ``grace`` seconds of a full send buffer."""
    sock = conn.sock
    if io.can_write(sock):  # room in the buffer: the server, not the client, is behind
        conn.send_mark = None
        return False
    acked = bytes_acked(sock)
    if acked is None:
        return False
    mark = conn.send_mark
    if mark is None:
        conn.send_mark = (now, acked)
        return False
    since, acked_then = mark
    if now - since < grace:
        return False
    conn.send_mark = (now, acked)
    return (acked - acked_then) / (now - since) < rate
