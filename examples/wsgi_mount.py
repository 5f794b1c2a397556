"""A Flask application served by outside under /legacy, next to outside's own routes.

    python examples/wsgi_mount.py [PORT]     (default 8000; 0 picks a free port)

Then open http://127.0.0.1:8000/ (outside) and http://127.0.0.1:8000/legacy/ (Flask).
Flask sees SCRIPT_NAME=/legacy, so its url_for() builds /legacy/... links.
"""
from __future__ import annotations

import sys

import flask

from outside import OutsideHTTP, Response

legacy = flask.Flask(__name__)


@legacy.route("/")
def legacy_index():
    return f'Flask, mounted. <a href="{flask.url_for("legacy_hello", name="world")}">say hello</a>'


@legacy.route("/hello/<name>")
def legacy_hello(name):
    return flask.jsonify(greeting=f"Hello, {name}!", served_by="flask")


server = OutsideHTTP(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8000))
server.mount("/legacy", legacy)


@server.route("/")
def index(request):
    return Response(200, {"Content-Type": "text/html; charset=utf-8"},
                    '<a href="/legacy/">the Flask part</a>')


if __name__ == "__main__":
    server.config["workers"] = 1
    server.run()
