"""A WebSocket chat room: every message goes to everyone connected, whichever worker
process serves them (``server.publish`` to the room's topic; docs/pubsub.md).

    python examples/websocket_chat.py [PORT]     (default 8000; 0 picks a free port)

Open http://127.0.0.1:8000/ in two browser tabs and chat between them, or connect any
WebSocket client to ws://127.0.0.1:8000/chat?name=ada.
"""
from __future__ import annotations

import sys

from outside import OutsideHTTP, Response, WebSocket

server = OutsideHTTP(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8000))
ROOM = "room"  # the pub/sub topic every member subscribes to

names = {}  # connection -> name, for the connections of this worker process

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>outside chat</title></head>
<body>
<ul id="log"></ul>
<form id="form"><input id="text" autocomplete="off"><button>Send</button></form>
<script>
const name = "guest" + Math.floor(Math.random() * 1000);
const socket = new WebSocket(`ws://${location.host}/chat?name=${name}`);
socket.onmessage = (event) => {
  const line = document.createElement("li");
  line.textContent = event.data;
  document.getElementById("log").appendChild(line);
};
document.getElementById("form").onsubmit = (event) => {
  event.preventDefault();
  socket.send(document.getElementById("text").value);
  document.getElementById("text").value = "";
};
</script>
</body></html>
"""


def broadcast(text):
    server.publish(ROOM, text)  # every subscriber, on every worker; never waits for one


@server.route("/")
def page(request):
    return Response(200, {"Content-Type": "text/html; charset=utf-8"}, PAGE)


# Event-driven: no thread waits on a member who is only listening.
room = WebSocket(max_message_size=64 * 1024)


@room.on_connection
def join(connection):
    name = connection.request.params.get("name", "someone")[:30]
    names[connection] = name
    connection.subscribe(ROOM)
    broadcast(f"{name} joined")


@room.on_message
def say(connection, message):
    if isinstance(message, str):
        broadcast(f"{names.get(connection, 'someone')}: {message[:500]}")


@room.on_exit
def leave(connection):  # the connection has left the topic by itself
    name = names.pop(connection, None)
    if name is not None:
        broadcast(f"{name} left")


server.set_route("/chat", room)


if __name__ == "__main__":
    server.run()
