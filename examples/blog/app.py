"""The blog app: ``create_app(data_dir)`` builds it, ``main()`` runs it.

    python -m examples.blog [PORT]        (or: python examples/blog/app.py [PORT])

``BLOG_DATA_DIR``: where the database and the uploads go (default: a new temporary
folder); ``BLOG_SECRET_KEY``: the session key (default: a random one, so sessions end
when the server stops).
"""
from __future__ import annotations

import os
import secrets
import sys
import tempfile
from typing import Any, Optional, Tuple

if __package__ in (None, ""):  # run as a file: make the package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from examples.blog import storage  # noqa: E402
from examples.blog.auth import auth, load_user  # noqa: E402
from examples.blog.posts import blog  # noqa: E402
from examples.blog.security import CSRF_FIELD, check_csrf, csrf_token  # noqa: E402
from examples.blog.site import MAX_IMAGE_BYTES, Site  # noqa: E402
from outside import OutsideHTTP, Response, StaticFiles, get_description  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ERROR_STATUSES = (400, 403, 404, 405, 413, 500)


def create_app(data_dir: str, secret_key: Optional[str] = None,
               host: Tuple[str, int] = ("127.0.0.1", 8000)) -> OutsideHTTP:
    """The blog, keeping its data in ``data_dir`` (created if needed; schema made now)."""
    app = OutsideHTTP(host)
    app.blog_site = Site(data_dir)  # type: ignore[attr-defined]
    storage.create_schema(app.blog_site.database)  # type: ignore[attr-defined]
    app.config.update({
        "secret_key": secret_key or secrets.token_hex(32),
        "template_folder": os.path.join(HERE, "templates"),
        "workers": 1,  # the live feed's streams live in this process (see feed.py)
        "max_body_size_mb": 4,  # room for one image of MAX_IMAGE_BYTES and the fields
    })
    app.jinja_env.globals["csrf_field"] = CSRF_FIELD
    app.jinja_env.globals["csrf_token"] = csrf_token  # {{ csrf_token(request) }} in each form
    app.jinja_env.globals["max_image_kib"] = MAX_IMAGE_BYTES // 1024

    # The user first, so that a page refusing a POST still shows who is logged in.
    app.before_request(load_user)
    app.before_request(check_csrf)
    app.teardown_request(storage.close_db)
    for status in ERROR_STATUSES:
        app.set_errorhandler(status, _error_page(status))

    app.register_blueprint(auth)
    app.register_blueprint(blog)
    app.set_route("/static/", StaticFiles(os.path.join(HERE, "static"), url_prefix="/static/", listing=False))
    return app


def _error_page(status: int) -> Any:
    def handler(request: Any, message: Optional[str] = None) -> Any:
        if request is None or request.app is None:  # no request to render with
            return Response(status, {}, f"{status} {get_description(status)}: {message or ''}")
        response = request.render_template("error.html", status=status, message=message,
                                           reason=get_description(status))
        response.status_code = status
        return response
    return handler


def main(argv: Optional[list] = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    port = int(args[0]) if args else 8000
    data_dir = os.environ.get("BLOG_DATA_DIR") or tempfile.mkdtemp(prefix="outside-blog-")
    app = create_app(data_dir, os.environ.get("BLOG_SECRET_KEY"), host=("127.0.0.1", port))
    print(f"blog data in {data_dir}", flush=True)
    app.run()


if __name__ == "__main__":
    main()
