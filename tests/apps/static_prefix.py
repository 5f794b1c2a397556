"""A directory served under ``/assets/`` (no listings) next to an app on ``/``
(tests/test_static.py).

Environment: ``SITE`` (required), the directory to serve.
"""
import os

from outside import OutsideHTTP, Response, StaticFiles

app = OutsideHTTP(("127.0.0.1", 0))
app.set_route("/assets/", StaticFiles(os.environ["SITE"], url_prefix="/assets", listing=False))
app.set_route("/", lambda request: Response(200, {}, "the app"))
