"""What every script app shares: its command line and the files it serves.

Script apps are run as ``python benchmarks/apps/<name>.py PORT WORKERS``; the directory of
static files comes from ``OUTSIDE_BENCH_STATIC`` so that apps loaded by gunicorn and
uvicorn (which take no app arguments) see it the same way. This module imports nothing
from the repository: the old outside release runs these apps from its own venv.
"""
from __future__ import annotations

import json
import os
import socket
import sys
from typing import Callable, NamedTuple

HELLO = b"Hello, World!"
JSON_TYPE = "application/json"


def json_message() -> bytes:
    """The body of ``GET /json``, built anew for every request (as TechEmpower asks)."""
    return json.dumps({"message": "Hello, World!"}).encode()


class Args(NamedTuple):
    port: int
    workers: int


def parse_args() -> Args:
    """PORT and WORKERS from the command line."""
    return Args(port=int(sys.argv[1]), workers=int(sys.argv[2]) if len(sys.argv) > 2 else 1)


def static_dir() -> str:
    """The directory whose files are served under ``/static/``."""
    return os.environ.get("OUTSIDE_BENCH_STATIC", ".")


def static_path(url_path: str) -> str:
    """The file for ``/static/<name>`` (the name only: no way out of the directory)."""
    return os.path.join(static_dir(), os.path.basename(url_path))


def prefork(port: int, workers: int, serve: Callable[[socket.socket], None]) -> None:
    """Run ``serve(listening_socket)`` in ``workers`` processes sharing one socket.

    For servers without a process manager of their own (aiohttp, websockets); the
    children stay in the parent's process group, so the runner stops them all at once.
    """
    sock = socket.create_server(("127.0.0.1", port), backlog=1024)
    for _ in range(workers - 1):
        if os.fork() == 0:
            serve(sock)
            os._exit(0)
    serve(sock)


def wsgi_app_argument() -> Callable:
    """The WSGI app named by the third argument: ``wsgi_plain`` or ``wsgi_flask``."""
    import importlib

    return importlib.import_module(sys.argv[3]).app
