"""Memory of idle keep-alive connections: the server's RSS before and after opening N of them.

    python benchmarks/wrk/idle_rss.py --connections 1000

Each connection sends one request, reads the answer and then stays open, idle.
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests"))

from servers import rss_kib, start_app  # noqa: E402

APP = """
def hello(request):
    return Response(200, {}, "Hello, World!")
app.set_route("/", hello)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=1000)
    args = parser.parse_args()
    config = {"keep_alive_timeout": 300, "max_workers": 150}
    with start_app(APP, config) as server:
        warm = socket.create_connection(server.address)
        warm.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        warm.recv(4096)
        time.sleep(0.5)
        before = rss_kib(server.pid)
        sockets = []
        for _ in range(args.connections):
            sock = socket.create_connection(server.address)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            sockets.append(sock)
        for sock in sockets:
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(1.0)
        after = rss_kib(server.pid)
        threads = len(os.listdir(f"/proc/{server.pid}/task"))
        for sock in sockets:
            sock.close()
        warm.close()
    twin = "pure Python" if os.environ.get("OUTSIDE_NO_EXTENSIONS") else "C parser"
    print(f"{twin}: RSS {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB with "
          f"{args.connections} idle keep-alive connections: {(after - before) / args.connections:.1f} KiB "
          f"each; {threads} threads")


if __name__ == "__main__":
    main()
