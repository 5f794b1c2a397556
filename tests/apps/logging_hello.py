"""``GET /`` answers ``hello`` (tests/test_server_logging.py).

Environment: ``LOGGING=1`` configures logging at INFO first, as an application would;
``LOG_FORMAT`` then gives its format.
"""
import logging
import os

from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))

if os.environ.get("LOGGING"):
    logging.basicConfig(level=logging.INFO, **({"format": os.environ["LOG_FORMAT"]}
                                                if "LOG_FORMAT" in os.environ else {}))


def hello(request):
    return Response(200, {}, "hello")


app.set_route("/", hello)
