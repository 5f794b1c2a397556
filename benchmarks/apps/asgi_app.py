"""The benchmark app as a raw ASGI callable (no framework), served by uvicorn."""
import os

from _serve import HELLO, json_message, static_path

CHUNK = 256 * 1024
HELLO_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(HELLO))]


async def app(scope, receive, send) -> None:
    path = scope["path"]
    if path == "/hello":
        await send({"type": "http.response.start", "status": 200, "headers": HELLO_HEADERS})
        await send({"type": "http.response.body", "body": HELLO})
    elif path == "/json":
        body = json_message()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    elif path == "/echo":
        await echo(receive, send)
    elif path.startswith("/static/"):
        await send_file(static_path(path), send)
    else:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def echo(receive, send) -> None:
    body = bytearray()
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": bytes(body)})


async def send_file(path: str, send) -> None:
    size = os.path.getsize(path)
    headers = [(b"content-type", b"application/octet-stream"), (b"content-length", b"%d" % size)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
