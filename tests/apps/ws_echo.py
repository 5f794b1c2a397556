"""An echo WebSocket on ``/ws`` (every message back as binary) and plain HTTP on ``/page``.

``WS_MODE``: ``blocking`` (a handler on a thread of its own, ``recv()`` in a loop) or
``events`` (``on_message``, run by the event loop). ``WS_ROUTE_OPTIONS``: the
``WebSocket`` options, as JSON. ``WS_SOFT_FILE_LIMIT``: a soft limit on open files to
start with (the server lifts it to the hard limit). Each ending prints ``EXIT echo``.
"""
import json
import os

from outside import OutsideHTTP, Response, WebSocket

if os.environ.get("WS_SOFT_FILE_LIMIT"):
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(os.environ["WS_SOFT_FILE_LIMIT"]),
                                                resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

app = OutsideHTTP(("127.0.0.1", 0))
ws = WebSocket(**json.loads(os.environ.get("WS_ROUTE_OPTIONS", "{}")))
if os.environ.get("WS_MODE", "blocking") == "blocking":
    def websocket_handler(connection):
        while True:
            message = connection.recv()
            connection.send(message)
    ws.on_connection(websocket_handler)
else:
    @ws.on_message
    def echo_message(connection, message):
        connection.send(message.encode() if isinstance(message, str) else message)
ws.on_exit(lambda: print("EXIT echo", flush=True))
app.set_route("/ws", ws)


def page(request):
    return Response(200, {"Content-Type": "text/plain"}, "plain HTTP")


app.set_route("/page", page)
