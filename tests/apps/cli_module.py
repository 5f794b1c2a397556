"""A module for ``outside run`` (tests/test_cli.py): the tests copy it into a scratch
folder as ``myapp.py``, with the index text replaced, and rewrite it to check the reloader.

``server`` is the app (its port is replaced by the command line's); ``not_an_app`` and
``not_wsgi`` are there to be refused; ``wsgi_app`` is a plain WSGI callable.
"""
from outside import OutsideHTTP, Response

server = OutsideHTTP(("127.0.0.1", 5))
server.config["workers"] = 1


@server.route("/")
def index(request):
    return Response(200, {}, "VERSION")


@server.route("/whoami")
def whoami(request):
    return Response(200, {}, f"{request.address[0]} {request.scheme}")


not_an_app = 42


def not_wsgi(request):
    return None


def wsgi_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"wsgi at " + environ["PATH_INFO"].encode()]
