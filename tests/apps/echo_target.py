"""``GET /echo...`` answers the request target (tests/test_server_connection.py: pipelined
requests answered in order)."""
from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))


def echo(request):
    return Response(200, {}, request.target)


app.set_route("/echo", echo)
