"""A two-route Flask app for the WSGI servers: ``/hello`` and ``/json`` (``jsonify``)."""
from flask import Flask, jsonify

app = Flask(__name__, static_folder=None)


@app.get("/hello")
def hello():
    return "Hello, World!", 200, {"Content-Type": "text/plain"}


@app.get("/json")
def json_hello():
    return jsonify(message="Hello, World!")
