"""A blueprint with an HTTP route and a WebSocket route under ``/chat``
(tests/test_framework_hooks.py): ``/chat/`` answers the external URL of the main room,
``/chat/<room>`` echoes each message prefixed with the room."""
from outside import Blueprint, OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))
chat = Blueprint("chat", url_prefix="/chat")


@chat.websocket("/<room>")
def room(connection, room):
    for message in connection:
        connection.send(f"{room}: {message}")


@chat.route("/")
def lobby(request):
    return Response(200, {}, request.url_for(".room", room="main", _external=True))


app.register_blueprint(chat)
