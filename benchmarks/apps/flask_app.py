"""The benchmark app on Flask: run by Werkzeug's dev server (as a script) or by gunicorn."""
import logging

from flask import Flask, Response, jsonify, request, send_from_directory

from _serve import HELLO, parse_args, static_dir

app = Flask(__name__, static_folder=None)


@app.get("/hello")
def hello() -> Response:
    return Response(HELLO, mimetype="text/plain")


@app.get("/json")
def json_hello() -> Response:
    return jsonify(message="Hello, World!")


@app.post("/echo")
def echo() -> Response:
    return Response(request.get_data(), mimetype="application/json")


@app.get("/static/<name>")
def static(name: str) -> Response:
    return send_from_directory(static_dir(), name)


if __name__ == "__main__":
    args = parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log
    # The dev server is one process whatever WORKERS says; threaded, as Flask's default.
    app.run("127.0.0.1", args.port, threaded=True)
