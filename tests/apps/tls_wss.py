"""WebSockets over TLS (tests/test_server_tls.py): the routes of ``tls_hello`` plus
``/ws`` (an echo) and ``/ticker`` (an echo while another thread sends 300 messages)."""
import os
import runpy
import threading

from outside import WebSocket

app = runpy.run_path(os.path.join(os.path.dirname(__file__), "tls_hello.py"))["app"]

echo = WebSocket()


@echo.on_connection
def talk(connection):
    for message in connection:
        connection.send(message)


ticker = WebSocket()


@ticker.on_connection
def echo_while_another_thread_sends(connection):
    def tick():
        for number in range(300):
            connection.send(f"tick {number}")
    sender = threading.Thread(target=tick)
    sender.start()
    for message in connection:
        connection.send(message)
    sender.join()


app.set_route("/ws", echo)
app.set_route("/ticker", ticker)
