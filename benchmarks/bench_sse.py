"""Memory of idle Server-Sent Event streams: one worker's RSS before and after N open streams.

    python benchmarks/bench_sse.py --streams 10000 [--gzip]

Each client opens ``/events`` (the ``tests/apps/sse.py`` app), reads its first event and
stays connected without reading more; then one broadcast reaches every stream and the
server's thread count is read. The client side raises its own open-files limit; with more
streams than it allows, run fewer or raise the hard limit (``ulimit -Hn``).
"""
from __future__ import annotations

import argparse
import os
import resource
import socket
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from servers import rss_kib, start_app  # noqa: E402


def _raise_open_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _open(address, accept: bytes) -> socket.socket:
    sock = socket.create_connection(address)
    sock.sendall(b"GET /events HTTP/1.1\r\nHost: t\r\n" + accept + b"\r\n")
    return sock


def _read_until(sock: socket.socket, marker: bytes, timeout: float = 30.0) -> None:
    sock.settimeout(timeout)
    data = b""
    while marker not in data:
        piece = sock.recv(65536)
        if not piece:
            raise EOFError("the server closed a stream")
        data += piece


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--gzip", action="store_true", help="the clients accept gzip (a compressor per stream)")
    args = parser.parse_args()
    _raise_open_files(args.streams + 100)
    accept = b"Accept-Encoding: gzip\r\n" if args.gzip else b""
    marker = b"\r\n" if args.gzip else b"last=None"
    config = {"max_workers": 4, "sse_heartbeat": 3600, "backlog_length": 1024}
    with start_app("sse", config) as server:
        warm = _open(server.address, accept)
        _read_until(warm, marker)
        time.sleep(0.5)
        before = rss_kib(server.pid)
        sockets = []
        started = time.monotonic()
        for index in range(args.streams):
            sockets.append(_open(server.address, accept))
            if index % 500 == 499:  # read the welcomes as we go: the backlog stays short
                for sock in sockets[-500:]:
                    _read_until(sock, marker)
        for sock in sockets[len(sockets) // 500 * 500:]:
            _read_until(sock, marker)
        opened = time.monotonic() - started
        time.sleep(1.0)
        after = rss_kib(server.pid)
        threads = len(os.listdir(f"/proc/{server.pid}/task"))
        broadcast = socket.create_connection(server.address)
        broadcast.sendall(b"GET /broadcast?data=ping HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        _read_until(broadcast, b"\r\n\r\n")
        started = time.monotonic()
        for sock in sockets[:: max(1, len(sockets) // 100)]:  # a sample: the event reached them
            _read_until(sock, b"ping" if not args.gzip else b"\r\n")
        for sock in sockets:
            sock.close()
        warm.close()
        broadcast.close()
    twin = "pure Python" if os.environ.get("OUTSIDE_NO_EXTENSIONS") else "C parser"
    print(f"{twin}{', gzip' if args.gzip else ''}: RSS {before / 1024:.1f} MiB before, "
          f"{after / 1024:.1f} MiB with {args.streams} idle event streams: "
          f"{(after - before) / args.streams:.1f} KiB each; {threads} threads; "
          f"opened in {opened:.1f} s")


if __name__ == "__main__":
    main()
