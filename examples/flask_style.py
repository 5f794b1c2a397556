"""Flask-style routing with outside: typed rules, methods, url_for, error handlers, a WebSocket.

    python examples/flask_style.py [PORT]     (default 8000; 0 picks a free port)

    curl http://127.0.0.1:8000/notes
    curl -X POST --json '{"text": "buy milk"}' http://127.0.0.1:8000/notes
    curl http://127.0.0.1:8000/notes/1
    curl -X PUT http://127.0.0.1:8000/notes/1          -> 405, Allow: DELETE, GET, HEAD, OPTIONS
"""
from __future__ import annotations

import sys
import threading

from outside import OutsideHTTP, Response

server = OutsideHTTP(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8000))
notes = {}
notes_lock = threading.Lock()  # handlers run in several threads at once


@server.route("/notes", methods=["GET", "POST"])
def all_notes(request):
    if request.method == "GET":
        with notes_lock:
            return Response(200, {}, {"notes": [server.url_for("one_note", note_id=key) for key in notes]})
    text = (request.json() or {}).get("text")
    if not text:
        return 400, "Send JSON like {\"text\": \"...\"}."
    with notes_lock:
        note_id = len(notes) + 1
        notes[note_id] = text
    return Response(201, {"Location": server.url_for("one_note", note_id=note_id)}, {"id": note_id, "text": text})


@server.route("/notes/<int:note_id>", methods=["GET", "DELETE"])
def one_note(request, note_id):
    with notes_lock:
        if note_id not in notes:
            return 404, f"There is no note {note_id}."
        if request.method == "DELETE":
            del notes[note_id]
            return Response(204, {}, b"")
        return Response(200, {}, {"id": note_id, "text": notes[note_id]})


@server.errorhandler(404)
def not_found(request, message=None):
    return Response(404, {}, {"error": message or f"Nothing at {request.url}."})


@server.websocket("/echo/<name>")
def echo(connection, name):
    connection.send(f"Hello {name}, I repeat what you send.".encode())
    while True:
        connection.send(connection.recv())


if __name__ == "__main__":
    server.config["workers"] = 1
    server.run()
