"""The WebSocket handler contract, in the route shape ``WS_MODE`` names.

``blocking``: ``on_connection`` handlers that read with ``recv``; ``events``: ``on_message``
handlers. Either way each route prints ``EXIT <name> <close code>`` when a connection
ends: ``/kinds`` answers the message's type name then the message, ``/exit`` calls
``exit()``, ``/raises`` fails, ``/closes`` closes with 4001 "done here".
"""
import os

from outside import OutsideHTTP, WebSocket

app = OutsideHTTP(("127.0.0.1", 0))
BLOCKING = os.environ.get("WS_MODE", "blocking") == "blocking"


def route(name, on_message):
    """A route ``/name`` whose handler runs ``on_message(connection, message)`` for the
    first message (blocking) or for each one (events)."""
    ws = WebSocket()
    ws.on_exit(lambda connection: print("EXIT", name, connection.close_code, flush=True))
    if BLOCKING:
        ws.on_connection(lambda connection: on_message(connection, connection.recv_message()))
    else:
        ws.on_message(on_message)
    app.set_route("/" + name, ws)


def kinds(connection, message):
    connection.send(type(message).__name__)
    connection.send(message)
    if BLOCKING:  # and the next ones, until the client leaves
        for more in connection:
            connection.send(type(more).__name__)
            connection.send(more)


def exit_now(connection, message):
    connection.exit()
    print("AFTER EXIT", connection.closed, flush=True)  # reached only in an on_message handler


def raises(connection, message):
    raise RuntimeError("handler bug")


def closes(connection, message):
    connection.close(4001, "done here")
    print("AFTER CLOSE", connection.closed, flush=True)


route("kinds", kinds)
route("exit", exit_now)
route("raises", raises)
route("closes", closes)
