"""The smallest outside program: one route answering plain text.

    python examples/hello_world.py [PORT]     (default 8080; 0 picks a free port)
    curl http://127.0.0.1:8080/hello
"""
from __future__ import annotations

import sys

from outside import OutsideHTTP, Response

server = OutsideHTTP(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8080))


def hello_world(request):
    return Response(status_code=200, headers={"Content-Type": "text/plain"}, content="Hello, World!")


server.set_route("/hello", hello_world)

if __name__ == "__main__":
    server.run()
