"""The page of tests/test_websocket_browser.py and its WebSocket: ``/page`` serves
``tests/pages/websocket_echo.html``, ``/ws`` echoes (subprotocol ``echo``), and ``/hold``
answers once the WebSocket is over, which holds the page's load event until then."""
import os
import threading
import time

from outside import FilePath, OutsideHTTP, Response, WebSocket

PAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pages",
                    "websocket_echo.html")

app = OutsideHTTP(("127.0.0.1", 0))
ws = WebSocket(subprotocols=["echo"])
finished = threading.Event()


@ws.on_connection
def echo(connection):
    for message in connection:
        connection.send(message)


@ws.on_exit
def done():
    print("EXIT browser", flush=True)
    finished.set()


def hold(request):
    finished.wait(30)
    time.sleep(0.2)
    return Response(200, {}, "over")


app.set_route("/ws", ws)
app.set_route("/hold", hold)
app.set_route("/page", lambda request: Response(200, {}, FilePath(PAGE)))
