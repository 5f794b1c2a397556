"""Event-driven WebSocket handlers (``on_message``) beyond the shared contract
(``ws_contract.py``): a greeting ``on_connection``, one that wrongly calls ``recv``, a
handler that blocks, one that floods a client that reads nothing. Each route prints
``EXIT <name> <close code>`` when a connection ends; ``/page`` is plain HTTP."""
import time

from outside import OutsideHTTP, Response, WebSocket

app = OutsideHTTP(("127.0.0.1", 0))


def track(name):
    ws = WebSocket()
    ws.on_exit(lambda connection: print("EXIT", name, connection.close_code, flush=True))
    app.set_route("/" + name, ws)
    return ws


greets = track("greets")


@greets.on_connection
def greet(connection):
    connection.send("hello " + connection.request.params.get("name", "?"))


greets.on_message(lambda connection, message: connection.send(message))

receives = track("receives")


@receives.on_connection
def wrong(connection):
    connection.recv()


receives.on_message(lambda connection, message: None)


@track("slow").on_message
def slow(connection, message):
    if message == "sleep":
        time.sleep(2)
    connection.send(message)


@track("flood").on_message
def flood(connection, message):
    connection.send(b"x" * (64 * 1024 * 1024))  # more than any socket buffers hold
    print("FLOOD SENT", flush=True)


track("echo").on_message(lambda connection, message: connection.send(message))


def page(request):
    return Response(200, {}, "plain HTTP")


app.set_route("/page", page)
