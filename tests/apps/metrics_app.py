"""For metrics tests: a rule ``/users/<int:id>``, a prefix route ``/files/`` and
``/fail`` (500); nothing else matches (404)."""
import os

from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))
app.config.update(metrics=True, metrics_port=0)


@app.route("/users/<int:user_id>")
def user(request, user_id):
    return Response(200, {"Content-Type": "text/plain"}, f"{user_id} {os.getpid()}")


def files(request):
    return Response(200, {"Content-Type": "text/plain"}, request.url)


def fail(request):
    raise RuntimeError("on purpose")


app.set_route("/files/", files)
app.set_route("/fail", fail)
