"""``GET /?sleep=S`` waits S seconds, then answers the worker's PID
(tests/test_faults.py: workers killed or stopped under load)."""
import os
import time

from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))


def pid(request):
    time.sleep(float(request.params.get("sleep", "0")))
    return Response(200, {}, str(os.getpid()))


app.set_route("/", pid)
