"""The benchmark app on outside: the same program runs the new engine and the 1.5.8 release.

Only the seed API is used (``OutsideHTTP``, ``Response``, ``FilePath``, ``WebSocket``); the
1.5.x releases kept all but the first in submodules, and ignore config keys they do not know.
"""
from outside import OutsideHTTP

from _serve import HELLO, JSON_TYPE, json_message, parse_args, static_path

try:
    from outside import FilePath, Response
except ImportError:  # outside 1.5.x
    from outside.protocol_http import FilePath, Response


def hello(request):
    return Response(status_code=200, headers={"Content-Type": "text/plain"}, content=HELLO)


def json_hello(request):
    return Response(status_code=200, headers={"Content-Type": JSON_TYPE}, content=json_message())


def echo(request):
    return Response(status_code=200, headers={"Content-Type": "application/json"}, content=request.content)


def static(request):
    return Response(status_code=200, headers={}, content=FilePath(static_path(request.url)))


def add_websocket_echo(server) -> None:
    """Serve ``/ws`` as an echo, when this outside has WebSocket support."""
    try:
        from outside import WebSocket  # not in 1.5.x, whose WebSocket API differed
    except ImportError:
        return

    def echo_forever(connection):
        while True:
            connection.send(connection.recv())

    ws = WebSocket()
    ws.on_connection(echo_forever)
    ws.on_exit(lambda: None)
    server.set_route("/ws", ws)


def main() -> None:
    args = parse_args()
    server = OutsideHTTP(("127.0.0.1", args.port))
    # Same footing as the peers: no access log, no per-request output.
    server.config.update({"workers": args.workers, "access_log": False, "log_level": "WARNING"})
    server.set_route("/hello", hello)
    server.set_route("/json", json_hello)
    server.set_route("/echo", echo)
    server.set_route("/static/", static)
    add_websocket_echo(server)
    server.run()


if __name__ == "__main__":
    main()
