"""A static site from examples/public, with one dynamic JSON route next to the files.

    python examples/static_site.py [PORT]     (default 8000; 0 picks a free port)

Then open http://127.0.0.1:8000/. Rules (``@server.route``) are tried before prefix
routes, so /api/time is answered by the function and every other path by the files.
"""
from __future__ import annotations

import os
import sys
import time

from outside import OutsideHTTP, Response, StaticFiles

PUBLIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "public")

server = OutsideHTTP(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8000))
server.config["allow_range_from_mb"] = 0  # answer Range requests for files of any size
server.set_route("/", StaticFiles(PUBLIC))


@server.route("/api/time")
def server_time(request):
    return Response(200, {"Cache-Control": "no-store"}, {"utc": time.strftime("%H:%M:%S", time.gmtime())})


if __name__ == "__main__":
    server.run()
