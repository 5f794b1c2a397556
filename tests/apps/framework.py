"""A small real app on sessions, hooks, a blueprint, helpers and templates:
log in (a session), a page from a template, a redirect after a POST, flashed messages,
an admin blueprint under /admin, downloads. Used by tests/test_framework_*.py."""
import os
import tempfile

from outside import (
    Blueprint,
    OutsideHTTP,
    Response,
    abort,
    flash,
    get_flashed_messages,
    redirect,
    send_file,
)

app = OutsideHTTP(("127.0.0.1", 0))
app.config["secret_key"] = os.environ.get("APP_SECRET_KEY", "current-key")
app.config["secret_key_fallbacks"] = [key for key in os.environ.get("APP_FALLBACK_KEYS", "").split(",") if key]
app.config["session_max_age"] = int(os.environ.get("APP_SESSION_MAX_AGE", str(31 * 86400)))
app.config["forwarded_allow_ips"] = ["127.0.0.1"]

FILES = tempfile.mkdtemp()
REPORT = os.path.join(FILES, "report.txt")
with open(REPORT, "w") as file:
    file.write("the report\n")
EVENTS = []  # what the hooks saw, in order


@app.before_request
def note_start(request):
    EVENTS.append(f"app.before {request.url}")
    if request.url == "/blocked":
        return Response(403, {}, "blocked by before_request")
    return None


@app.after_request
def stamp(request, response):
    EVENTS.append(f"app.after {response.status_code}")
    response.headers["X-App-After"] = "yes"
    return response


@app.teardown_request
def note_end(request, exc):
    EVENTS.append(f"app.teardown {type(exc).__name__ if exc else None}")


class AppError(Exception):
    pass


class PaymentError(AppError):
    pass


@app.errorhandler(AppError)
def app_error(request, exc):
    return Response(409, {}, f"app error handler: {type(exc).__name__}")


@app.errorhandler(PaymentError)
def payment_error(request, exc):
    return Response(402, {}, f"payment error handler: {exc}")


@app.errorhandler(404)
def not_found(request, message=None):
    return Response(404, {}, f"custom 404: {message or request.url}")


@app.route("/")
def home(request):
    user = request.session.get("user")
    return request.render_template("home.html", user=user, title="Home <page>")


@app.route("/login", methods=["GET", "POST"])
def login(request):
    if request.method == "POST":
        name = request.content.decode("utf-8")
        if not name:
            abort(400, "A name, please.")
        request.session["user"] = name
        flash(request, f"Welcome, {name}!")
        flash(request, "Mind the <gap>", "warning")
        return redirect(request.url_for("home"), 303)
    return Response(200, {}, "log in with a POST")


@app.route("/logout", methods=["POST"])
def logout(request):
    request.session.clear()
    return redirect("/", 303)


@app.route("/whoami")
def whoami(request):
    return Response(200, {}, {"user": request.session.get("user")})


@app.route("/count")
def count(request):
    request.session["count"] = request.session.get("count", 0) + 1
    return Response(200, {}, {"count": request.session["count"]})


@app.route("/messages")
def messages(request):
    first = get_flashed_messages(request, with_categories=True)
    again = get_flashed_messages(request, category_filter=["warning"])
    return Response(200, {}, {"all": first, "warnings": again})


@app.route("/nosession")
def nosession(request):
    return Response(200, {}, "no session used")


@app.route("/read-only")
def read_only(request):
    return Response(200, {}, {"user": request.session.get("user"), "keys": sorted(request.session)})


@app.route("/fail/<kind>")
def fail(request, kind):
    if kind == "payment":
        raise PaymentError("card declined")
    if kind == "app":
        raise AppError("generic")
    if kind == "key":
        raise KeyError("unhandled")
    abort(int(kind))


@app.route("/download")
def download(request):
    return send_file(REPORT, as_attachment=True, download_name=request.params.get("name", "report.txt"))


@app.route("/inline")
def inline(request):
    return send_file(REPORT, download_name="notes.txt")


@app.route("/missing-file")
def missing_file(request):
    return send_file(os.path.join(FILES, "nope.txt"))


@app.route("/go")
def go(request):
    return redirect(request.params.get("to", "/"), int(request.params.get("code", 302)))


@app.route("/external")
def external(request):
    return Response(200, {}, request.url_for("admin.user", _external=True, name="ada lovelace"))


@app.route("/events")
def events(request):
    return Response(200, {}, {"events": list(EVENTS)})


@app.route("/events/clear", methods=["POST"])
def clear_events(request):
    EVENTS.clear()
    return Response(200, {}, "cleared")


admin = Blueprint("admin", url_prefix="/admin", template_folder="admin_templates")


@admin.before_request
def admin_only(request):
    EVENTS.append(f"admin.before {request.url}")
    if request.session.get("user") != "root":
        return redirect(app.url_for("login"), 303)
    return None


@admin.after_request
def admin_after(request, response):
    EVENTS.append(f"admin.after {response.status_code}")
    response.headers["X-Admin-After"] = "yes"
    return response


@admin.teardown_request
def admin_end(request, exc):
    EVENTS.append(f"admin.teardown {type(exc).__name__ if exc else None}")


@admin.errorhandler(AppError)
def admin_app_error(request, exc):
    return Response(418, {}, f"admin error handler: {type(exc).__name__}")


@admin.errorhandler(404)
def admin_not_found(request, message=None):
    return Response(404, {}, f"admin 404: {message}")


@admin.route("/")
def dashboard(request):
    return request.render_template("dashboard.html", links=[request.url_for(".user", name="ada"),
                                                            request.url_for("home")])


@admin.route("/users/<name>")
def user(request, name):
    return Response(200, {}, {"user": name, "self": request.url_for(".user", name=name)})


@admin.route("/fail/<kind>")
def admin_fail(request, kind):
    if kind == "payment":
        raise PaymentError("admin card")  # the blueprint's AppError handler comes before the app's
    if kind == "app":
        raise AppError("admin generic")
    abort(404, "no such admin page")


app.register_blueprint(admin)

# A second blueprint, its prefix given at registration:
api = Blueprint("api")


@api.route("/status")
def status(request):
    return Response(200, {}, {"ok": True, "url": request.url_for(".status")})


app.register_blueprint(api, url_prefix="/api/v1")
