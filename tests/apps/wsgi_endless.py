"""A WSGI app on ``/endless`` whose iterable streams for up to 20 s (tests/test_wsgi.py:
it must be closed when the client leaves).

Environment: ``MARKER`` (required), the file the iterable's ``close()`` creates.
"""
import os
import time

from outside import OutsideHTTP

app = OutsideHTTP(("127.0.0.1", 0))


class Endless:
    def __iter__(self):
        for _ in range(400):  # bounded: 20 s at most
            time.sleep(0.05)
            yield b"x" * 1024

    def close(self):
        open(os.environ["MARKER"], "w").close()


def endless(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Endless()


app.mount("/endless", endless)
