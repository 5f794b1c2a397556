"""``GET /?sleep=S`` waits S seconds, then answers the worker's PID; ``GET /grow`` keeps
8 MB more in memory (tests of workers killed, stopped, recycled and reloaded under load)."""
import os
import time

from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))
_kept = []


def pid(request):
    time.sleep(float(request.params.get("sleep", "0")))
    return Response(200, {"Content-Type": "text/plain"}, str(os.getpid()))


def grow(request):
    _kept.append(bytearray(8 * 1024 * 1024))
    return Response(200, {"Content-Type": "text/plain"}, str(os.getpid()))


app.set_route("/", pid)
app.set_route("/grow", grow)
