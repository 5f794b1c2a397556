"""Plain WSGI applications mounted in outside (tests/test_wsgi_pep3333.py): an environ
dump under ``wsgiref.validate`` on ``/v`` and bare on ``/m``, body shapes on ``/shape/*``,
broken applications on ``/broken/*``, ``wsgi.file_wrapper`` on ``/file``; ``/closed``
reports which iterables were closed."""
import json
import os
import sys
import tempfile
import wsgiref.validate

from outside import OutsideHTTP

app = OutsideHTTP(("127.0.0.1", 0))
CLOSED = []
FILE = os.path.join(tempfile.mkdtemp(), "data.bin")
with open(FILE, "wb") as f:
    f.write(bytes(range(256)) * 1000)  # 256,000 bytes


def environ_dump(environ, start_response):
    size = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(size) if size else environ["wsgi.input"].read(1 << 20)
    shown = {key: value for key, value in environ.items() if isinstance(value, (str, bool, int, tuple))}
    shown["body"] = body.decode("latin-1")
    shown["input_type"] = type(environ["wsgi.input"]).__name__
    data = json.dumps(shown).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class Closing(list):
    """A list body that records its close() (a list subclass takes the generic path)."""

    def __init__(self, name, pieces):
        super().__init__(pieces)
        self.name = name

    def close(self):
        CLOSED.append(self.name)


def generator(name, pieces):
    try:
        yield from pieces
    finally:
        CLOSED.append(name)


def shapes(environ, start_response):
    shape = environ["PATH_INFO"].strip("/")
    text = [("Content-Type", "text/plain")]
    if shape == "list":
        start_response("200 OK", text)
        return [b"one,", b"two"]
    if shape == "tuple":
        start_response("200 OK", text)
        return (b"tuple",)
    if shape == "empty":
        start_response("204 No Content", [])
        return []
    if shape == "closing-list":
        start_response("200 OK", text)
        return Closing("closing-list", [b"closing ", b"list"])
    if shape == "generator":
        start_response("200 OK", text)
        return generator("generator", [b"", b"gen", b"erator"])
    if shape == "declared-generator":
        start_response("200 OK", text + [("Content-Length", "9")])
        return generator("declared-generator", [b"decl", b"ared"] + [b"!"])
    if shape == "write":
        write = start_response("200 OK", text)
        write(b"written ")
        return [b"then returned"]
    if shape == "file":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        wrapper = environ["wsgi.file_wrapper"](open(FILE, "rb"), 8192)  # noqa: SIM115 - the wrapper closes it
        original_close = wrapper.close

        def close():
            original_close()
            CLOSED.append("file")
        wrapper.close = close
        return wrapper
    start_response("404 Not Found", text)
    return [b"no such shape"]


def broken(environ, start_response):
    case = environ["PATH_INFO"].strip("/")
    if case == "raise-before":
        raise RuntimeError("before start_response")
    if case == "raise-after":
        start_response("200 OK", [])
        raise RuntimeError("after start_response")
    if case == "raise-in-body":
        start_response("200 OK", [])
        return generator("raise-in-body", iter_then_fail())
    if case == "twice":
        start_response("200 OK", [])
        start_response("200 OK", [])
        return [b"never"]
    if case.startswith("status-"):
        statuses = {"status-word": "OK", "status-long": "2000 Fine", "status-short": "20 OK",
                    "status-bytes": b"200 OK", "status-nospace": "200OK"}
        start_response(statuses[case], [])
        return [b"never"]
    if case == "crlf":
        start_response("200 OK", [("X-Injected", "a\r\nSet-Cookie: stolen=1")])
        return [b"never"]
    if case == "no-start":
        return [b"never"]
    if case == "exc-info-late":
        return exc_info_late(start_response)
    if case == "str-body":
        start_response("200 OK", [])
        return ["text, not bytes"]
    start_response("404 Not Found", [])
    return [b""]


def iter_then_fail():
    yield b"some"
    raise RuntimeError("failed half-way")


def exc_info_late(start_response):
    start_response("200 OK", [])
    yield b"x" * 1000
    try:
        raise KeyError("midway")
    except KeyError:
        start_response("500 Internal Server Error", [], sys.exc_info())
    yield b"never"


def closed(environ, start_response):
    data = json.dumps(CLOSED).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [data]


app.mount("/v", wsgiref.validate.validator(environ_dump))
app.mount("/m", environ_dump)
app.mount("/shape", shapes)
app.mount("/broken", broken)
app.mount("/closed", closed)
