"""Blocking handlers (tests/test_server_concurrency.py): ``hello`` and ``/sleep?s=``.

Environment: ``MAX_OPEN_FILES`` lowers the process's descriptor limit first.
"""
import os
import resource
import time

from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))

if "MAX_OPEN_FILES" in os.environ:
    limit = int(os.environ["MAX_OPEN_FILES"])
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


def hello(request):
    return Response(200, {}, "hello")


def sleep(request):
    time.sleep(float(request.params.get("s", "1")))
    return Response(200, {}, "slept")


app.set_route("/", hello)
app.set_route("/sleep", sleep)
