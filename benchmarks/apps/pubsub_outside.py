"""The pub/sub benchmark's server on outside: ``sub`` subscribes the connection to
``bench``; ``go K`` publishes K 32-byte binary messages to it; ``rate R N`` starts a
thread publishing N messages at R per second, each the publish time (``time.time()``)
as text padded to 32 bytes.

    python benchmarks/apps/pubsub_outside.py PORT WORKERS PUBSUB
"""
import sys
import threading
import time

from outside import OutsideHTTP, WebSocket

MESSAGE = b"m" * 32
app = OutsideHTTP(("127.0.0.1", int(sys.argv[1])))
app.config.update(workers=int(sys.argv[2]), pubsub=sys.argv[3], access_log=False, log_level="WARNING")
ws = WebSocket(compression=False)


def paced(rate: float, count: int) -> None:
    start = time.monotonic()
    for number in range(count):
        delay = start + number / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        app.publish("bench", f"{time.time():.6f}".ljust(32))


@ws.on_message
def command(connection, message):
    if message == "sub":
        connection.subscribe("bench")
        connection.send("ok")
    elif message.startswith("go "):
        for _ in range(int(message[3:])):
            app.publish("bench", MESSAGE)
    elif message.startswith("rate "):
        _, rate, count = message.split()
        threading.Thread(target=paced, args=(float(rate), int(count)), daemon=True).start()


app.set_route("/ws", ws)
app.run()
