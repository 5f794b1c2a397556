"""Routes for the compression tests: bodies of each kind, and every case that must stay as is.

``/stream`` yields its first piece, then waits (at most 10 s) until ``/release`` is called
before the second: a test reads the first compressed piece in between.
``/static/``: the files of the directory in ``$STATIC_DIR`` (when set).
"""
import gzip
import os
import threading

from outside import FilePath, OutsideHTTP, Response, StaticFiles

app = OutsideHTTP(("127.0.0.1", 0))
TEXT = "".join(f"line {n}: the quick brown fox jumps over the lazy dog\n" for n in range(200))
RELEASE = threading.Event()


def route(path, make):
    app.set_route(path, lambda request: make(request))


route("/text", lambda request: Response(200, {}, TEXT))
route("/bytes", lambda request: Response(200, {"Content-Type": "text/html"}, TEXT.encode()))
route("/json", lambda request: Response(200, {}, {"items": [TEXT[:100]] * 50}))
route("/list", lambda request: Response(200, {"Content-Type": "application/javascript"},
                                        [TEXT[:2000].encode(), TEXT[2000:].encode()]))
route("/small", lambda request: Response(200, {}, TEXT[:1023]))
route("/png", lambda request: Response(200, {"Content-Type": "image/png"}, TEXT.encode()))
route("/partial", lambda request: Response(206, {"Content-Range": f"bytes 0-{len(TEXT) - 1}/99999"}, TEXT))
route("/encoded", lambda request: Response(200, {"Content-Encoding": "gzip", "Content-Type": "text/plain"},
                                           gzip.compress(TEXT.encode())))
route("/no-transform", lambda request: Response(200, {"Cache-Control": "public, no-transform"}, TEXT))
route("/no-compress", lambda request: Response(200, {}, TEXT, compress=False))
route("/etag", lambda request: Response(200, {"ETag": '"v1"'}, TEXT))
route("/vary", lambda request: Response(200, {"Vary": "Cookie"}, TEXT))
route("/svg", lambda request: Response(200, {"Content-Type": "image/svg+xml"}, TEXT))
route("/file", lambda request: Response(200, {}, FilePath(os.path.join(os.path.dirname(__file__), "compression.py"))))


def stream(request):
    def pieces():
        yield TEXT[:1500].encode()
        RELEASE.wait(10)
        RELEASE.clear()
        yield TEXT[1500:].encode()
    return Response(200, {"Content-Type": "text/plain"}, pieces())


def release(request):
    RELEASE.set()
    return Response(200, {}, "released")


app.set_route("/stream", stream)
app.set_route("/release", release)
if os.environ.get("STATIC_DIR"):
    app.set_route("/static/", StaticFiles(os.environ["STATIC_DIR"], url_prefix="/static/"))
