"""HTTPS (tests/test_server_tls.py): ``/`` answers ``<scheme> <body>``, ``/file`` sends
2 MiB. The test turns ``ssl_enabled`` on through the config."""
import os
import tempfile

from outside import FilePath, OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))

FILE = os.path.join(tempfile.mkdtemp(), "data.bin")
with open(FILE, "wb") as f:
    f.write(bytes(range(256)) * 8192)  # 2 MiB


def hello(request):
    return Response(200, {}, f"{request.scheme} {request.content.decode()}")


app.set_route("/", hello)
app.set_route("/file", lambda request: Response(200, {}, FilePath(FILE)))
