"""``outside demo`` (two worker processes) with three more routes for the browser test (tests/test_demo.py): a
page opening the chat in two frames (``/two-tabs``), ``/report`` where it posts what it
saw (printed as ``REPORT ...``) and ``/hold``, answered once the report is in.

A program (it runs the server itself): start it with ``servers.start_program``.
"""
import os
import threading

import outside.demo
from outside import FilePath, Response
from outside.cli import main

PAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pages", "demo_two_tabs.html")

reported = threading.Event()
original = outside.demo.create_app


def with_test_page(host):
    app = original(host)

    def page(request):
        return Response(200, {}, FilePath(PAGE))

    def report(request):
        print("REPORT", request.content.decode(), flush=True)
        reported.set()
        return Response(204, {}, b"")

    def hold(request):
        reported.wait(30)
        return Response(200, {}, "over")

    app.set_route("/two-tabs", page)
    app.set_route("/report", report)
    app.set_route("/hold", hold)
    return app


outside.demo.create_app = with_test_page
main(["demo", "--port", "0", "--workers", "2"])  # the chat spans both worker processes
