"""A compressed WebSocket echo on ``/ws`` limited to 1 MiB messages, and ``/alive``
(tests/test_attacks.py: a deflate bomb must be closed with 1009)."""
from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))


@app.websocket("/ws", max_message_size=1024 * 1024)
def echo(connection):
    for message in connection:
        connection.send(message)


app.set_route("/alive", lambda request: Response(200, {}, "alive"))
