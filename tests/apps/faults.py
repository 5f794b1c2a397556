"""The target of the fault tests (tests/test_faults.py): ``hello``, ``/upload`` counting
the body, 8 MiB from memory (``/memory``) and from a file (``/file``), ``/named?name=``
(a file the test changes while it is sent) and ``/forever`` (a handler that never returns).

Environment: ``FILES`` (required), the folder of the served files.
"""
import os
import threading

from outside import FilePath, OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))

FOLDER = os.environ["FILES"]
BIG = os.path.join(FOLDER, "big.bin")
with open(BIG, "wb") as file:
    file.write(b"f" * (8 * 1024 * 1024))


def hello(request):
    return Response(200, {}, "hello")


def upload(request):
    return Response(200, {}, str(len(request.body.read())))


def memory(request):
    return Response(200, {}, b"m" * (8 * 1024 * 1024))


def big_file(request):
    return Response(200, {}, FilePath(BIG))


def named_file(request):
    return Response(200, {}, FilePath(os.path.join(FOLDER, request.params["name"])))


def forever(request):
    threading.Event().wait()


app.set_route("/upload", upload)
app.set_route("/memory", memory)
app.set_route("/file", big_file)
app.set_route("/named", named_file)
app.set_route("/forever", forever)
app.set_route("/", hello)
