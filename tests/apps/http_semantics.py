"""HTTP/1.1 over the wire (tests/test_server_http.py): echo, streamed upload, failing
handlers, header injection, generated and broken streams, a file, a post_callback.

Environment: ``CALLBACK_LOG`` (required), the file ``post_callback`` appends
``<url> <status>`` lines to; ``WS_ECHO=1`` adds a WebSocket on ``/ws`` echoing one message.
"""
import hashlib
import os
import tempfile

from outside import FilePath, OutsideHTTP, Response, WebSocket

app = OutsideHTTP(("127.0.0.1", 0))

FILE = os.path.join(tempfile.mkdtemp(), "data.txt")
with open(FILE, "wb") as f:
    f.write(bytes(range(256)) * 40)  # 10240 bytes


def hello(request):
    return Response(200, {"Content-Type": "text/plain"}, "Hello, World!")


def echo(request):
    return Response(200, {"X-Method": request.method}, request.content)


def upload(request):
    digest, size = hashlib.sha256(), 0
    for piece in request.body:
        digest.update(piece)
        size += len(piece)
    return Response(200, {}, f"{size} {digest.hexdigest()}")


def fail(request):
    raise RuntimeError("handler failed on purpose")


def split(request):
    return Response(200, {"X-Bad": "a\r\nSet-Cookie: evil=1"}, "never sent")


def numbers(request):
    return Response(200, {}, (str(i).encode() for i in range(1000)))


def broken_stream(request):
    def pieces():
        yield b"first piece"
        raise RuntimeError("stream broke on purpose")
    return Response(200, {}, pieces())


def served_file(request):
    return Response(200, {}, FilePath(FILE))


def callback(request, response):
    with open(os.environ["CALLBACK_LOG"], "a") as log:
        log.write(f"{request.url} {response.status_code}\n")


app.set_route("/", hello)
app.set_route("/echo", echo)
app.set_route("/upload", upload)
app.set_route("/raise", fail)
app.set_route("/split", split)
app.set_route("/numbers", numbers)
app.set_route("/file", served_file)
app.set_route("/broken", broken_stream)
app.config["post_callback"] = callback

if os.environ.get("WS_ECHO"):
    def echo_once(connection):
        connection.send(connection.recv())
    ws = WebSocket()
    ws.on_connection(echo_once)
    app.set_route("/ws", ws)
