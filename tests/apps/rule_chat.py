"""An event-driven WebSocket as a rule target, ``/chat/<room>``, prefixing each message
with its room, and ``/link`` answering ``url_for("chat", room="red")``
(tests/test_routing_rules.py)."""
from outside import OutsideHTTP, Response, WebSocket

app = OutsideHTTP(("127.0.0.1", 0))
rooms = WebSocket()


@rooms.on_message
def say(connection, message):
    connection.send(connection.request.view_args["room"] + ": " + message)


app.add_url_rule("/chat/<room>", rooms, endpoint="chat")


def link(request):
    return Response(200, {}, app.url_for("chat", room="red"))


app.set_route("/link", link)
