"""A WebSocket route that admits one Origin, speaks two subprotocols and greets with
what it agreed; the app's own 403 handler answers refused handshakes."""
from outside import OutsideHTTP, Response, WebSocket

app = OutsideHTTP(("127.0.0.1", 0))
ws = WebSocket(allowed_origins=["https://good.example"], subprotocols=["chat.v2", "chat"])


@ws.on_connection
def hello(connection):
    connection.send(f"{connection.subprotocol} {connection.request.url} {connection.request.params}")
    for message in connection:
        connection.send(message)


app.set_route("/ws", ws)
app.set_errorhandler(403, lambda request, message=None: Response(403, {}, "custom refusal"))
