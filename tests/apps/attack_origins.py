"""A WebSocket on ``/ws`` allowed from ``https://good.example`` only (tests/test_attacks.py).

Environment: ``RECORD`` (required), the file each accepted connection's ``Origin`` is
appended to: a refused connection must never reach the handler.
"""
import os

from outside import OutsideHTTP

app = OutsideHTTP(("127.0.0.1", 0))


@app.websocket("/ws", allowed_origins=["https://good.example"])
def guarded(connection):
    with open(os.environ["RECORD"], "a") as log:
        log.write(connection.request.headers.get("Origin", "-") + "\n")
    connection.send("welcome")
