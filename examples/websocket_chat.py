"""A WebSocket chat room: every message goes to everyone connected.

    python examples/websocket_chat.py [PORT]     (default 8000; 0 picks a free port)

Open http://127.0.0.1:8000/ in two browser tabs and chat between them, or connect any
WebSocket client to ws://127.0.0.1:8000/chat?name=ada.
"""
from __future__ import annotations

import sys
import threading

from outside import ConnectionEnded, OutsideHTTP, Response

server = OutsideHTTP(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8000))
server.config["workers"] = 1  # one process, so every member is in the same room

members = set()
members_lock = threading.Lock()  # each connection's handler runs in its own thread

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
    with members_lock:
        everyone = list(members)
    for member in everyone:
        try:
            member.send(text)
        except ConnectionEnded:
            pass  # leaving right now; its own handler removes it


@server.route("/")
def page(request):
    return Response(200, {"Content-Type": "text/html; charset=utf-8"}, PAGE)


@server.websocket("/chat")
def chat(connection):
    name = connection.request.params.get("name", "someone")[:30]
    with members_lock:
        members.add(connection)
    broadcast(f"{name} joined")
    try:
        for message in connection:  # ends when the client leaves
            if isinstance(message, str):
                broadcast(f"{name}: {message[:500]}")
    finally:
        with members_lock:
            members.discard(connection)
        broadcast(f"{name} left")


if __name__ == "__main__":
    server.run()
