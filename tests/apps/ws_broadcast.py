"""Broadcasts to WebSockets from other threads: a ticker thread sends ``tick <n>`` every
10 ms to every connection, ``/announce?text=`` (an HTTP handler) sends ``text``,
``/kick`` calls ``exit()`` on each connection; messages are echoed as ``echo:<message>``.

``WS_MODE``: ``blocking`` or ``events`` (the route's shape). Each ending prints
``EXIT broadcast``.
"""
import contextlib
import os
import threading
import time

from outside import ConnectionEnded, OutsideHTTP, Response, WebSocket

app = OutsideHTTP(("127.0.0.1", 0))
connections = set()
lock = threading.Lock()
ws = WebSocket()


def reply(connection, message):
    connection.send(b"echo:" + message if isinstance(message, bytes) else "echo:" + message)


if os.environ.get("WS_MODE", "blocking") == "blocking":
    @ws.on_connection
    def join(connection):
        with lock:
            connections.add(connection)
        try:
            for message in connection:
                reply(connection, message)
        finally:
            with lock:
                connections.discard(connection)
    ws.on_exit(lambda: print("EXIT broadcast", flush=True))
else:
    @ws.on_connection
    def join(connection):
        with lock:
            connections.add(connection)
    ws.on_message(reply)

    @ws.on_exit
    def leave(connection):
        with lock:
            connections.discard(connection)
        print("EXIT broadcast", flush=True)


def broadcast(text):
    with lock:
        targets = list(connections)
    for connection in targets:
        with contextlib.suppress(ConnectionEnded):  # it left meanwhile: its on_exit removes it
            connection.send(text)
    return len(targets)


def announce(request):  # HTTP handler: runs on another thread than the WebSockets
    return Response(200, {}, str(broadcast(request.params.get("text", ""))))


def kick(request):  # exit() from a thread that is not the connection's handler
    with lock:
        targets = list(connections)
    for connection in targets:
        connection.exit()
    return Response(200, {}, str(len(targets)))


def ticker():
    for number in range(1000000):
        broadcast(f"tick {number}")
        time.sleep(0.01)


app.set_route("/ws", ws)
app.set_route("/announce", announce)
app.set_route("/kick", kick)
threading.Thread(target=ticker, daemon=True).start()
