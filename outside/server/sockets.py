"""Listening sockets: one shared, or one per worker process with ``SO_REUSEPORT``."""
from __future__ import annotations

import socket
from typing import Tuple

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

REUSE_PORT = hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def listen(address: Tuple[str, int], backlog: int, reuse_port: bool = False) -> socket.socket:
    """A non-blocking socket listening on ``address`` (port 0: any free port)."""
    sock = socket.create_server(address, family=_family(address[0]), backlog=backlog,
                                reuse_port=reuse_port)
    sock.setblocking(False)
    return sock


def reserve_port(address: Tuple[str, int]) -> socket.socket:
    """A bound socket that holds the port for workers that each ``listen(reuse_port=True)``.

    It never listens, so the kernel spreads connections over the workers' sockets only.
    """
    sock = socket.socket(_family(address[0]), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


def url(sock: socket.socket, tls: bool) -> str:
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{host}:{port}"


def raise_descriptor_limit() -> None:
    """Lift this process's soft limit on open files to its hard limit, as Go's runtime
    does: the soft default (often 1,024) caps a server at about that many connections,
    and the engine waits with ``poll``/``epoll``, which have no such ceiling."""
    if resource is None:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # an unlimited hard limit: Linux's default ceiling (fs.nr_open)
    target = 1 << 20 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):  # e.g. above fs.nr_open: keep the soft limit
            pass
