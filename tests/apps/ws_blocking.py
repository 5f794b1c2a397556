"""Blocking WebSocket handlers (``on_connection``) beyond the shared contract
(``ws_contract.py``): returning, pinging, iterating, a failing ``on_exit``. Each route
prints ``EXIT <name>`` when a connection ends."""
from outside import OutsideHTTP, WebSocket

app = OutsideHTTP(("127.0.0.1", 0))


def track(name):
    ws = WebSocket()
    ws.on_exit(lambda: print("EXIT", name, flush=True))
    app.set_route("/" + name, ws)
    return ws


@track("returns").on_connection
def returns(connection):
    connection.send(connection.recv())


@track("pings").on_connection
def pings(connection):
    connection.ping(b"hb")
    for message in connection:
        connection.send(message)
    print("ITERATION ENDED", connection.close_code, flush=True)


@track("echo").on_connection
def echo(connection):
    for message in connection:
        connection.send(message)


def raising_exit():
    raise ValueError("exit bug")


failing_exit = WebSocket()
failing_exit.on_connection(echo)
failing_exit.on_exit(raising_exit)
app.set_route("/exit-raises", failing_exit)
