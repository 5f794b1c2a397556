"""A small JSON API: a to-do list with typed routes, methods, url_for and JSON errors.

    python examples/json_api.py [PORT]     (default 8000; 0 picks a free port)

    curl -X POST --json '{"title": "write docs"}' http://127.0.0.1:8000/todos
    curl http://127.0.0.1:8000/todos
    curl -X PATCH --json '{"done": true}' http://127.0.0.1:8000/todos/1
    curl -X DELETE http://127.0.0.1:8000/todos/1
"""
from __future__ import annotations

import itertools
import sys
import threading

from outside import OutsideHTTP, Response

server = OutsideHTTP(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8000))
server.config["workers"] = 1  # the list lives in this process's memory

todos = {}
new_ids = itertools.count(1)
lock = threading.Lock()  # handlers run in several threads at once


def todo_json(todo_id):
    return {"id": todo_id, "url": server.url_for("one_todo", todo_id=todo_id), **todos[todo_id]}


@server.route("/todos", methods=["GET", "POST"])
def all_todos(request):
    if request.method == "GET":
        with lock:
            return Response(200, {}, {"todos": [todo_json(todo_id) for todo_id in todos]})
    body = request.json()
    if not isinstance(body, dict) or not isinstance(body.get("title"), str):
        return 400, 'send JSON like {"title": "..."}'
    with lock:
        todo_id = next(new_ids)
        todos[todo_id] = {"title": body["title"], "done": False}
        created = todo_json(todo_id)
    return Response(201, {"Location": created["url"]}, created)


@server.route("/todos/<int:todo_id>", methods=["GET", "PATCH", "DELETE"])
def one_todo(request, todo_id):
    with lock:
        if todo_id not in todos:
            return 404, f"there is no to-do {todo_id}"
        if request.method == "DELETE":
            del todos[todo_id]
            return Response(204, {}, b"")
        if request.method == "PATCH":
            changes = request.json()
            if not isinstance(changes, dict) or not isinstance(changes.get("done", False), bool):
                return 400, 'send JSON like {"done": true}'
            todos[todo_id]["done"] = changes.get("done", todos[todo_id]["done"])
        return Response(200, {}, todo_json(todo_id))


def json_error(status):
    """An error handler answering JSON instead of the default text."""
    def handler(request, message=None):
        return Response(status, {}, {"error": message or f"{status} for {request.method} {request.url}"})
    return handler


for status in (400, 404, 405, 500):
    server.set_errorhandler(status, json_error(status))

if __name__ == "__main__":
    server.run()
