"""For operations tests: access lines on stdout prefixed ``ACCESS ``, and routes.

``/`` hello; ``/id`` answers ``request.id``; ``/big`` 32 MB; ``/stuck`` sleeps in
``a_stuck_handler`` for 30 s.
"""
import logging
import sys
import time

from outside import OutsideHTTP, Response

handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(logging.Formatter("ACCESS %(message)s"))
access = logging.getLogger("outside.access")
access.addHandler(handler)
access.setLevel(logging.INFO)
access.propagate = False

app = OutsideHTTP(("127.0.0.1", 0))
BIG = b"x" * (32 * 1024 * 1024)


def hello(request):
    return Response(200, {"Content-Type": "text/plain"}, "Hello, World!")


def request_id(request):
    return Response(200, {"Content-Type": "text/plain"}, request.id)


def big(request):
    return Response(200, {"Content-Type": "application/octet-stream"}, BIG)


def a_stuck_handler(request):
    time.sleep(30)
    return Response(200, {}, "late")


app.set_route("/", hello)
app.set_route("/id", request_id)
app.set_route("/big", big)
app.set_route("/stuck", a_stuck_handler)
