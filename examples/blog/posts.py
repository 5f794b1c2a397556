"""The ``blog`` blueprint: the posts (list, show, create, edit), their images, the live feed."""
from __future__ import annotations

import os
from typing import Any, Dict, Optional

from examples.blog import storage
from examples.blog.auth import login_required
from examples.blog.images import ImageError, is_stored_name, save_image
from examples.blog.site import MAX_IMAGE_BYTES, site_of
from outside import Blueprint, abort, flash, redirect, send_file

blog = Blueprint("blog")

TITLE_LENGTH = 200
BODY_LENGTH = 20_000


@blog.route("/")
def index(request: Any) -> Any:
    return request.render_template("index.html", posts=storage.recent_posts(request))


@blog.route("/posts/<int:post_id>")
def show(request: Any, post_id: int) -> Any:
    return request.render_template("post.html", post=_post(request, post_id))


@blog.route("/posts/new", methods=["GET", "POST"])
@login_required
def create(request: Any) -> Any:
    if request.method == "GET":
        return request.render_template("edit.html", post=None, title="", body="")
    fields = _read_form(request, None)
    if isinstance(fields, str):
        return _form_error(request, fields, None)
    post_id = storage.create_post(request, request.user["id"], *fields)
    site_of(request).feed.publish(feed_item(request, storage.post_by_id(request, post_id)))
    flash(request, "Your post is published.")
    return redirect(request.url_for(".show", post_id=post_id), 303)


@blog.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit(request: Any, post_id: int) -> Any:
    post = _post(request, post_id)
    if post["author_id"] != request.user["id"]:
        abort(403, "Only its author can edit this post.")
    if request.method == "GET":
        return request.render_template("edit.html", post=post, title=post["title"], body=post["body"])
    fields = _read_form(request, post)
    if isinstance(fields, str):
        return _form_error(request, fields, post)
    storage.update_post(request, post_id, *fields)
    if post["image"] and fields[2] != post["image"]:  # replaced: the old file goes
        _remove_image(request, post["image"])
    flash(request, "Your post is saved.")
    return redirect(request.url_for(".show", post_id=post_id), 303)


@blog.route("/uploads/<name>")
def upload(request: Any, name: str) -> Any:
    if not is_stored_name(name):
        abort(404, "No such image.")
    response = send_file(os.path.join(site_of(request).uploads, name))
    response.headers["X-Content-Type-Options"] = "nosniff"  # the browser keeps our type
    return response


@blog.route("/feed")
def feed(request: Any) -> Any:
    return request.render_template("feed.html", posts=storage.recent_posts(request, 10))


@blog.route("/feed/events")
def feed_events(request: Any) -> Any:
    site = site_of(request)
    stream = site.feed.open(request)
    last = stream.last_event_id
    if last and last.isdigit():  # a reconnecting page: what it missed first
        for post in storage.posts_after(request, int(last)):
            site.feed.send(stream, feed_item(request, post))
    return stream.response()


def feed_item(request: Any, post: Any) -> Dict[str, Any]:
    """What the feed page shows of a post (it builds the elements with textContent)."""
    return {"id": post["id"], "title": post["title"], "author": post["author"],
            "url": request.url_for("blog.show", post_id=post["id"]),
            "image": request.url_for("blog.upload", name=post["image"]) if post["image"] else None}


def _post(request: Any, post_id: int) -> Any:
    post = storage.post_by_id(request, post_id)
    if post is None:
        abort(404, "No such post.")
    return post


def _read_form(request: Any, post: Optional[Any]) -> Any:
    """(title, body, image name) from the submitted form, or an error message. A new image
    replaces the post's; none sent keeps it."""
    title = request.form.get("title", "").strip()
    body = request.form.get("body", "").strip()
    if not title or len(title) > TITLE_LENGTH:
        return f"A title has 1 to {TITLE_LENGTH} characters."
    if len(body) > BODY_LENGTH:
        return f"A post has at most {BODY_LENGTH} characters."
    image = post["image"] if post is not None else None
    upload = request.files.get("image")
    if upload:  # False for a file input left empty
        try:
            image = save_image(upload, site_of(request).uploads, MAX_IMAGE_BYTES)
        except ImageError as exc:
            return str(exc)
    return title, body, image


def _form_error(request: Any, message: str, post: Optional[Any]) -> Any:
    flash(request, message, "error")
    response = request.render_template("edit.html", post=post, title=request.form.get("title", ""),
                                       body=request.form.get("body", ""))
    response.status_code = 400
    return response


def _remove_image(request: Any, name: str) -> None:
    try:
        os.unlink(os.path.join(site_of(request).uploads, name))
    except OSError:
        pass
