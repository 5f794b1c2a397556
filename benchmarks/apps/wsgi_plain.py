"""A plain WSGI app (no framework): ``/hello`` and ``/json``.

Served by outside (``server.mount``), granian's WSGI interface, bjoern, fastpysgi and
gunicorn, so that they all run the same Python per request.
"""
from _serve import HELLO, JSON_TYPE, json_message

HELLO_HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(HELLO)))]


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/hello":
        start_response("200 OK", HELLO_HEADERS)
        return [HELLO]
    if path == "/json":
        body = json_message()
        start_response("200 OK", [("Content-Type", JSON_TYPE), ("Content-Length", str(len(body)))])
        return [body]
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")])
    return [b""]
