"""Jinja2 templates for an app and its blueprints (the optional extra ``outside[templates]``).

Templates are looked up in the app's ``config["template_folder"]`` (default
``templates``, relative to the directory of the module that created the app), then in
each registered blueprint's ``template_folder``. Autoescaping is on for ``.html``,
``.htm``, ``.xml`` and ``.svg`` templates and for template strings. Every template sees
``url_for``, ``request``, ``session`` (when a ``secret_key`` is set) and
``get_flashed_messages``, bound to the request given to ``render_template``.
"""
from __future__ import annotations

import functools
import os
import sys
from typing import Any, Dict, List, Optional

from .response import Response
from .sessions import get_flashed_messages

_EXTRA_HINT = "pip install 'outside-framework[templates]'"
_TYPES = {".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
          ".xml": "application/xml; charset=utf-8", ".svg": "image/svg+xml; charset=utf-8",
          ".json": "application/json", ".txt": "text/plain; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


def caller_root_path() -> str:
    """The directory of the first module on the call stack outside this package (the
    module creating the app or blueprint); the current directory when it has no file."""
    frame: Any = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name != "outside" and not name.startswith("outside."):
            path = frame.f_globals.get("__file__")
            return os.path.dirname(os.path.abspath(path)) if path else os.getcwd()
        frame = frame.f_back
    return os.getcwd()


def _jinja2() -> Any:
    try:
        import jinja2
    except ImportError:
        raise RuntimeError(f"render_template needs Jinja2, the optional extra of outside: {_EXTRA_HINT}") from None
    return jinja2


def template_folders(app: Any) -> List[str]:
    """Where ``app`` looks for templates, in order."""
    folders = []
    folder = app.config.get("template_folder")
    if folder:
        folders.append(os.path.join(app.root_path, folder))
    for blueprint in app.blueprints.values():
        if blueprint.template_folder:
            folders.append(os.path.join(blueprint.root_path, blueprint.template_folder))
    return folders


def create_environment(app: Any) -> Any:
    """A Jinja2 ``Environment`` for ``app`` (folders read at each lookup, so blueprints
    registered later are found)."""
    jinja2 = _jinja2()
    base_loader: Any = jinja2.BaseLoader  # Jinja2 is optional: its types are not required

    class AppLoader(base_loader):
        def get_source(self, environment: Any, template: str) -> Any:
            for folder in template_folders(app):
                try:
                    return jinja2.FileSystemLoader(folder).get_source(environment, template)
                except jinja2.TemplateNotFound:
                    continue
            raise jinja2.TemplateNotFound(f"{template} (looked in {', '.join(template_folders(app)) or 'nowhere'})")

    environment = jinja2.Environment(
        loader=AppLoader(),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml", "svg"], default_for_string=True),
    )
    environment.globals["url_for"] = app.url_for
    return environment


def _context(app: Any, request: Any, context: Dict[str, Any]) -> Dict[str, Any]:
    names: Dict[str, Any] = {"request": request}
    if request is not None:
        names["url_for"] = request.url_for
        names["get_flashed_messages"] = functools.partial(get_flashed_messages, request)
        if app.config.get("secret_key"):
            names["session"] = request.session
    names.update(context)
    return names


def render_text(app: Any, name: Optional[str], source: Optional[str], request: Any,
                context: Dict[str, Any]) -> str:
    """The template ``name`` (or the template string ``source``) rendered."""
    environment = app.jinja_env
    template = environment.get_template(name) if name is not None else environment.from_string(source)
    return template.render(_context(app, request, context))


def template_response(app: Any, name: str, request: Any, context: Dict[str, Any]) -> Response:
    """The rendered template ``name`` as a 200 ``Response`` typed by its extension."""
    text = render_text(app, name, None, request, context)
    content_type = _TYPES.get(os.path.splitext(name)[1].lower(), "text/html; charset=utf-8")
    return Response(200, {"Content-Type": content_type}, text)
