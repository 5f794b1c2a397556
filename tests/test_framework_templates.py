"""render_template on Jinja2: folders, autoescaping, the names templates see, and the
clear error when Jinja2 is missing."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import requests

from outside import Blueprint, OutsideHTTP, Response

from framework_support import load_app
from servers import ROOT, app_path, start_app

HOME_LOGGED_OUT = """<title>Home &lt;page&gt;</title>
<p>user: None / session: None</p>
<p>method: GET</p>
<a href="/admin/users/a%20b">admin</a>
<a href="http://localhost/">home</a>"""


@pytest.fixture
def client():
    return load_app().test_client()


def test_a_page_from_a_template_with_autoescape_and_context_names(client):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.text == HOME_LOGGED_OUT
    client.post("/login", data=b"<ada>")
    assert client.get("/").text == """<title>Home &lt;page&gt;</title>
<p class="message">Welcome, &lt;ada&gt;!</p>
<p class="warning">Mind the &lt;gap&gt;</p>
<p>user: &lt;ada&gt; / session: &lt;ada&gt;</p>
<p>method: GET</p>
<a href="/admin/users/a%20b">admin</a>
<a href="http://localhost/">home</a>"""
    assert client.get("/").text.count("Welcome") == 0  # flashed messages are shown once


def test_text_templates_are_not_escaped_and_typed_by_extension():
    app = load_app()
    response = app.render_template("plain.txt", value="<b>&</b>")
    assert response.content == "raw <b>&</b>" and response.headers == {"Content-Type": "text/plain; charset=utf-8"}
    assert app.render_template_string("{{ v }}", v="<i>") == "&lt;i&gt;"


def test_template_folders_are_relative_to_the_creating_module():
    app = load_app()
    assert app.root_path == os.path.dirname(app_path("framework"))
    here = OutsideHTTP(("127.0.0.1", 0))
    assert here.root_path == os.path.dirname(os.path.abspath(__file__))
    assert Blueprint("b").root_path == here.root_path


def test_blueprint_templates_and_relative_url_for(client):
    client.post("/login", data=b"root")
    response = client.get("/admin/")
    assert response.text == """<h1>Dashboard</h1>
<a href="/admin/users/ada">/admin/users/ada</a>
<a href="/">/</a>
<p>/admin/</p>"""
    blueprint = client.app.blueprints["admin"]
    response = blueprint.render_template("dashboard.html", links=["<x>"], url_for=lambda name: name)
    assert response.content == '<h1>Dashboard</h1>\n<a href="&lt;x&gt;">&lt;x&gt;</a>\n<p>.dashboard</p>'


def test_a_missing_template_gives_500_naming_it(caplog):
    app = load_app()
    app.route("/broken")(lambda request: request.render_template("nope.html"))
    response = app.test_client().get("/broken")
    assert response.status_code == 500 and "TemplateNotFound" in response.text
    assert "nope.html (looked in" in caplog.text


def test_jinja_env_is_open_to_filters(tmp_path):
    (tmp_path / "shout.html").write_text("{{ word | shout }}")
    app = OutsideHTTP(("127.0.0.1", 0))
    app.config["template_folder"] = str(tmp_path)  # an absolute folder is taken as it is
    app.jinja_env.filters["shout"] = lambda text: text.upper() + "!"
    app.route("/")(lambda request: request.render_template("shout.html", word="<hi>"))
    assert app.test_client().get("/").text == "&lt;HI&gt;!"


def test_templates_on_a_real_server():
    with start_app("framework") as server:
        response = requests.get(server.url + "/", timeout=10)
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.text == HOME_LOGGED_OUT.replace("http://localhost/", f"http://127.0.0.1:{server.port}/")


def test_without_jinja2_the_package_imports_and_render_template_names_the_extra():
    program = textwrap.dedent("""
        import sys

        class HideJinja:
            def find_spec(self, name, path=None, target=None):
                if name == "jinja2" or name.startswith("jinja2.") or name == "markupsafe":
                    raise ImportError(f"{name} is hidden for this test")
                return None

        sys.meta_path.insert(0, HideJinja())
        for name in [name for name in sys.modules if name.startswith(("jinja2", "markupsafe"))]:
            del sys.modules[name]
        import outside
        app = outside.OutsideHTTP(("127.0.0.1", 0))
        app.route("/")(lambda request: request.render_template("page.html"))
        assert "jinja2" not in sys.modules
        try:
            app.render_template("page.html")
        except RuntimeError as exc:
            print("RuntimeError:", exc)
        print(app.test_client().get("/").status_code)
    """)
    environment = dict(os.environ, PYTHONPATH=ROOT)
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=False,
                            env=environment, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("RuntimeError: render_template needs Jinja2, the optional extra of outside: "
                             "pip install 'outside-framework[templates]'\n500\n")


def test_templates_without_request_still_render():
    app = load_app()
    text = app.render_template_string("{{ url_for('admin.user', name='x') }} {{ request }}")
    assert text == "/admin/users/x None"
    response = app.render_template("plain.txt", value=1)
    assert isinstance(response, Response) and response.status_code == 200
