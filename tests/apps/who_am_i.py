"""``GET /`` answers who the server thinks the client is, as JSON: ``server`` (its
name), ``address``, ``scheme`` and the ``X-Forwarded-For`` it got (tests/test_proxy.py).

Environment: ``SERVER_NAME`` (default ``a``) tells two backends apart.
"""
import os

from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))
NAME = os.environ.get("SERVER_NAME", "a")


def who(request):
    return Response(200, {}, {"server": NAME, "address": request.address[0], "scheme": request.scheme,
                              "xff": request.headers.get("X-Forwarded-For")})


app.set_route("/", who)
