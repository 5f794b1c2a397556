"""``GET /`` answers the worker's PID; ``GET /grow`` keeps 8 MB more in memory."""
import os

from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))
_kept = []


def pid(request):
    return Response(200, {"Content-Type": "text/plain"}, str(os.getpid()))


def grow(request):
    _kept.append(bytearray(8 * 1024 * 1024))
    return Response(200, {"Content-Type": "text/plain"}, str(os.getpid()))


app.set_route("/", pid)
app.set_route("/grow", grow)
