"""Slow and idle clients (tests/test_server_timeouts.py): ``hello``, 50 MB on ``/big``,
``/echo``."""
from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))


def hello(request):
    return Response(200, {}, "hello")


def big(request):
    return Response(200, {}, b"x" * 50_000_000)


def echo(request):
    return Response(200, {}, request.content)


app.set_route("/", hello)
app.set_route("/big", big)
app.set_route("/echo", echo)
