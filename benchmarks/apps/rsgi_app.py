"""The benchmark app on granian's own interface (RSGI): ``/hello`` and ``/json``."""
from _serve import HELLO, JSON_TYPE, json_message

HELLO_HEADERS = [("content-type", "text/plain")]
JSON_HEADERS = [("content-type", JSON_TYPE)]


async def app(scope, protocol):
    path = scope.path
    if path == "/hello":
        protocol.response_bytes(200, HELLO_HEADERS, HELLO)
    elif path == "/json":
        protocol.response_bytes(200, JSON_HEADERS, json_message())
    else:
        protocol.response_bytes(404, [], b"")
