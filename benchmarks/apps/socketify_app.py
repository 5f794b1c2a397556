"""The benchmark app on socketify's own App API (uWebSockets): ``/hello`` and ``/json``.

socketify has no process manager: with WORKERS above 1 the processes are forked before
they listen (uWebSockets binds with SO_REUSEPORT) and stay in the runner's process group.
"""
import os

from socketify import App

from _serve import HELLO, json_message, parse_args


def hello(response, request) -> None:
    response.send(HELLO, content_type=b"text/plain")


def json_hello(response, request) -> None:
    response.send(json_message(), content_type=b"application/json")


def serve(port: int) -> None:
    app = App()
    app.get("/hello", hello)
    app.get("/json", json_hello)
    app.listen(port, lambda config: None)
    app.run()


if __name__ == "__main__":
    args = parse_args()
    for _ in range(args.workers - 1):
        if os.fork() == 0:
            break
    serve(args.port)
