"""WSGI applications mounted in outside (tests/test_wsgi.py): a Flask app on
``/legacy`` (items, cookies, a slow stream, uploads, a failing view), an environ dump
under ``wsgiref.validate`` on ``/env`` and without it on ``/raw``, next to outside's own
routes (``/`` by prefix, ``/native/<int:n>`` by rule)."""
import json
import time
import wsgiref.validate

import flask

from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))
flask_app = flask.Flask("legacy")


@flask_app.route("/")
def index():
    return "flask index " + flask.url_for("item", item_id=3)


@flask_app.route("/items/<int:item_id>", methods=["GET", "POST"])
def item(item_id):
    return flask.jsonify(id=item_id, method=flask.request.method, form=flask.request.form.to_dict(),
                         json=flask.request.get_json(silent=True), args=flask.request.args.to_dict(),
                         agent=flask.request.headers.get("User-Agent"), remote=flask.request.remote_addr,
                         root=flask.request.root_url, cookie=flask.request.cookies.get("seen"))


@flask_app.route("/cookies")
def cookies():
    response = flask.make_response("two cookies")
    response.set_cookie("seen", "yes", max_age=60, httponly=True)
    response.set_cookie("theme", "dark", path="/legacy/", expires=2000000000)
    return response


@flask_app.route("/stream")
def stream():
    def pieces():
        yield "first\n"
        time.sleep(1.5)
        yield "second\n"
    return flask.Response(pieces(), mimetype="text/plain")


@flask_app.route("/upload", methods=["POST"])
def upload():
    return {"size": len(flask.request.get_data()), "first": flask.request.get_data()[:3].decode("latin-1")}


@flask_app.route("/boom")
def boom():
    raise RuntimeError("flask failed")


def environ_app(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))  # PEP 3333: a size
    shown = {key: value for key, value in environ.items() if isinstance(value, (str, bool, int, tuple))}
    shown["body"] = body.decode("latin-1")
    data = json.dumps(shown).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


app.mount("/legacy", flask_app)
app.set_route("/", lambda request: Response(200, {}, "outside prefix " + request.url))


@app.route("/native/<int:n>")
def native(request, n):
    return Response(200, {}, f"native {n}")


app.mount("/env", wsgiref.validate.validator(environ_app))
app.mount("/raw", environ_app)
