"""A broadcaster thread that keeps sending ``tick`` to every connection it ever saw and
prints ``SEND REFUSED <code>`` when a send raises ``ConnectionEnded``."""
import threading
import time

from outside import OutsideHTTP, WebSocket
from outside.websocket import ConnectionEnded

app = OutsideHTTP(("127.0.0.1", 0))
stale = []
ws = WebSocket()


@ws.on_connection
def keep(connection):
    stale.append(connection)  # never removed: the broadcaster finds out
    for _message in connection:
        pass


def broadcaster():
    while True:
        for connection in list(stale):
            try:
                connection.send("tick")
            except ConnectionEnded as exc:
                print("SEND REFUSED", exc.code, flush=True)
                stale.remove(connection)
        time.sleep(0.01)


app.set_route("/ws", ws)
threading.Thread(target=broadcaster, daemon=True).start()
