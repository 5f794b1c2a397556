"""For reload tests: ``GET /`` answers ``<version> <pid>``, the version being the text of
the file named by ``OUTSIDE_TEST_VERSION_FILE`` when this module was imported. The
text ``fail`` makes the import fail."""
import os

from outside import OutsideHTTP, Response

with open(os.environ["OUTSIDE_TEST_VERSION_FILE"]) as _file:
    VERSION = _file.read().strip()
if VERSION == "fail":
    raise RuntimeError("this version cannot be imported")

app = OutsideHTTP(("127.0.0.1", 0))


def version(request):
    return Response(200, {"Content-Type": "text/plain"}, f"{VERSION} {os.getpid()}")


app.set_route("/", version)
