"""The smallest app: ``GET /`` answers ``Hello, World!``."""
from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))


def hello(request):
    return Response(200, {"Content-Type": "text/plain"}, "Hello, World!")


app.set_route("/", hello)
