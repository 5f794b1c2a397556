"""Flask-style rules on a real server (tests/test_routing_rules.py): ``/users/<int:user_id>``
for GET and POST with a ``url_for`` link, a custom 404, a WebSocket rule ``/rooms/<room>``
that greets and echoes."""
from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))


@app.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(request, user_id):
    return Response(200, {}, {"id": user_id, "method": request.method,
                              "link": app.url_for("user", user_id=user_id + 1)})


@app.errorhandler(404)
def missing(request, message=None):
    return Response(404, {}, "custom 404 for " + request.url)


@app.websocket("/rooms/<room>")
def room(connection, room):
    connection.send(("joined " + room).encode())
    while True:
        connection.send(connection.recv())
