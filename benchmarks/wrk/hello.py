"""Hello world on outside, for wrk: ``python hello.py PORT [--engine leader|pool|thread] [--workers N]``."""
from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(os.path.dirname(HERE))]  # prototypes, and outside uninstalled

from outside import OutsideHTTP, Response  # noqa: E402
from outside.server import sockets  # noqa: E402
from outside.server.settings import Settings  # noqa: E402


def hello_world(request):
    return Response(status_code=200, headers={"Content-Type": "text/plain"}, content="Hello, World!")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--engine", default="leader", choices=["leader", "pool", "thread"])
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    app = OutsideHTTP(("127.0.0.1", args.port))
    app.config["workers"] = args.workers
    app.set_route("/", hello_world)
    if args.engine == "leader":
        app.run()
        return
    from prototypes import ENGINES
    settings = Settings(app.config)
    ENGINES[args.engine](app, sockets.listen(settings.host, settings.backlog), settings).run()


if __name__ == "__main__":
    main()
