"""The target of the wire attacks (tests/test_attacks.py): ``/`` records each request
line, ``/reflect`` echoes user input into a header (rendering must refuse a split),
``/big`` sends 4 MiB, ``/upload`` counts the body, ``/slow`` takes 50 ms.

Environment: ``RECORD`` (required), the file ``/`` appends ``<method> <target>`` to.
"""
import os
import time

from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))


def record(request):
    with open(os.environ["RECORD"], "a") as log:
        log.write(f"{request.method} {request.target}\n")
    return Response(200, {}, "seen " + request.target)


def reflect(request):
    return Response(200, {request.params.get("name", "X-Name"): request.params.get("value", "v")}, "ok")


def big(request):
    return Response(200, {}, b"b" * (4 * 1024 * 1024))


def upload(request):
    return Response(200, {}, str(len(request.body.read())))


def slow(request):
    time.sleep(0.05)
    return Response(200, {}, "slow")


app.set_route("/reflect", reflect)
app.set_route("/big", big)
app.set_route("/slow", slow)
app.set_route("/upload", upload)
app.set_route("/", record)
