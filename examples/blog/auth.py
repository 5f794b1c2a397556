"""The ``auth`` blueprint: register, log in, log out; ``load_user`` and ``login_required``."""
from __future__ import annotations

import functools
from typing import Any, Callable

from examples.blog import storage
from examples.blog.security import hash_password, new_csrf_token, verify_password
from outside import Blueprint, flash, redirect

auth = Blueprint("auth", url_prefix="/auth")

NAME_LENGTH = (3, 30)
MIN_PASSWORD = 8


def load_user(request: Any) -> None:
    """App ``before_request`` hook: ``request.user`` is the logged-in user's row, or ``None``."""
    user_id = request.session.get("user_id")
    request.user = storage.user_by_id(request, user_id) if isinstance(user_id, int) else None


def login_required(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Send a visitor who is not logged in to the log-in page."""
    @functools.wraps(handler)
    def checked(request: Any, **values: Any) -> Any:
        if request.user is None:
            flash(request, "Log in first.", "error")
            return redirect(request.url_for("auth.login"), 303)
        return handler(request, **values)
    return checked


def _log_in(request: Any, user_id: int) -> None:
    request.session.clear()  # nothing of the anonymous session carries over
    request.session["user_id"] = user_id
    new_csrf_token(request)


@auth.route("/register", methods=["GET", "POST"])
def register(request: Any) -> Any:
    if request.method == "GET":
        return request.render_template("register.html", user_name="")
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    error = None
    if not NAME_LENGTH[0] <= len(name) <= NAME_LENGTH[1]:
        error = f"A name has {NAME_LENGTH[0]} to {NAME_LENGTH[1]} characters."
    elif len(password) < MIN_PASSWORD:
        error = f"A password has at least {MIN_PASSWORD} characters."
    else:
        user_id = storage.create_user(request, name, hash_password(password))
        if user_id is None:
            error = f"The name {name} is taken."
        else:
            _log_in(request, user_id)
            flash(request, f"Welcome, {name}!")
            return redirect(request.url_for("blog.index"), 303)
    flash(request, error, "error")
    response = request.render_template("register.html", user_name=name)
    response.status_code = 400
    return response


@auth.route("/login", methods=["GET", "POST"])
def login(request: Any) -> Any:
    if request.method == "GET":
        return request.render_template("login.html")
    name = request.form.get("name", "").strip()
    user = storage.user_by_name(request, name)
    # checked even for an unknown name, so that the answer takes as long either way
    matches = verify_password(user["password_hash"] if user else None, request.form.get("password", ""))
    if user is None or not matches:
        flash(request, "Wrong name or password.", "error")
        return redirect(request.url_for(".login"), 303)
    _log_in(request, user["id"])
    flash(request, f"Hello again, {user['name']}.")
    return redirect(request.url_for("blog.index"), 303)


@auth.route("/logout", methods=["POST"])
def logout(request: Any) -> Any:
    request.session.clear()
    new_csrf_token(request)
    flash(request, "You are logged out.")
    return redirect(request.url_for("blog.index"), 303)
