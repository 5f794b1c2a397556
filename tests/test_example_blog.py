"""The blog of ``examples/blog``, end to end.

With the test client: accounts (scrypt hashes), log in and out, posts with an image
upload (multipart bodies built here by hand), editing by the author only, CSRF tokens,
a tampered session, autoescaping. With a real server: the live feed (an ``EventStream``,
which the test client cannot serve), the two ways to start the example, and a headless
Chromium driven by Playwright through two tabs.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sqlite3
import struct
import zlib
from html import unescape

import pytest
import requests

from browser import CHROMIUM
from servers import ROOT, start_app, start_server

if not os.path.isdir(os.path.join(ROOT, "examples", "blog")):  # tests run from a copy, without examples/
    pytest.skip("examples/ is not beside the tests", allow_module_level=True)

from examples.blog.app import create_app  # noqa: E402
from examples.blog.images import sniff_image_type  # noqa: E402

pytestmark = pytest.mark.timeout(60)

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
FLASH = re.compile(r'<p class="flash ([a-z]+)">([^<]*)</p>')


def png(width: int = 2, height: int = 1) -> bytes:
    """A valid PNG image, built from its chunks (greyscale, 8 bits)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes(range(width)) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """A multipart/form-data body (RFC 7578) and its Content-Type; files are
    name -> (filename, content type, bytes)."""
    boundary = "----blogtest7MA4YWxkTrZu0gW"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                     + value.encode("utf-8") + b"\r\n")
    for name, (filename, content_type, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def token(client, path: str = "/auth/login") -> str:
    """The CSRF token in the form of the page ``path``."""
    return TOKEN.search(client.get(path).text).group(1)


def flashes(response) -> list:
    return [(category, unescape(message)) for category, message in FLASH.findall(response.text)]


def register(client, name: str, password: str = PASSWORD):
    return client.post("/auth/register", data={"name": name, "password": password,
                                               "csrf_token": token(client, "/auth/register")})


def log_in(client, name: str, password: str = PASSWORD):
    return client.post("/auth/login", data={"name": name, "password": password, "csrf_token": token(client)})


def log_out(client):
    return client.post("/auth/logout", data={"csrf_token": token(client, "/")})


def submit_post(client, path: str, title: str, body: str = "some text", image=None, csrf=None):
    files = {"image": image} if image else {"image": ("", "application/octet-stream", b"")}
    content, content_type = multipart(
        {"csrf_token": token(client, "/") if csrf is None else csrf, "title": title, "body": body}, files)
    return client.post(path, data=content, headers={"Content-Type": content_type})


@pytest.fixture
def blog(tmp_path):
    return create_app(str(tmp_path))


def logged_in_user(page_text: str):
    match = re.search(r'<span class="user">([^<]*)</span>', page_text)
    return unescape(match.group(1)) if match else None


# -- accounts -------------------------------------------------------------------------

def test_register_log_out_and_log_in_again(blog):
    client = blog.test_client()
    assert logged_in_user(client.get("/").text) is None
    response = register(client, "ada")
    assert (response.status_code, response.headers["Location"]) == (303, "/")
    home = client.get("/")
    assert logged_in_user(home.text) == "ada"
    assert flashes(home) == [("message", "Welcome, ada!")]
    assert client.get("/").text.count("Welcome") == 0  # a flashed message shows once

    response = log_out(client)
    assert response.status_code == 303
    page = client.get("/")
    assert logged_in_user(page.text) is None and ("message", "You are logged out.") in flashes(page)

    wrong = log_in(client, "ada", "not the password")
    assert (wrong.status_code, wrong.headers["Location"]) == (303, "/auth/login")
    page = client.get("/auth/login")
    assert ("error", "Wrong name or password.") in flashes(page) and logged_in_user(page.text) is None
    unknown = log_in(client, "nobody", PASSWORD)
    assert unknown.headers["Location"] == "/auth/login"
    assert logged_in_user(client.get("/").text) is None

    right = log_in(client, "ada")
    assert (right.status_code, right.headers["Location"]) == (303, "/")
    assert logged_in_user(client.get("/").text) == "ada"


def test_registration_refuses_a_taken_name_and_a_short_password(blog):
    register(blog.test_client(), "ada")
    client = blog.test_client()
    taken = register(client, "ada")
    assert taken.status_code == 400 and ("error", "The name ada is taken.") in flashes(taken)
    short = register(client, "bob", "short")
    assert short.status_code == 400 and ("error", "A password has at least 8 characters.") in flashes(short)
    assert logged_in_user(client.get("/").text) is None


def test_passwords_are_stored_as_salted_scrypt_hashes(blog, tmp_path):
    register(blog.test_client(), "ada")
    register(blog.test_client(), "bob")  # the same password
    with sqlite3.connect(tmp_path / "blog.sqlite3") as connection:
        rows = dict(connection.execute("SELECT name, password_hash FROM users"))
    assert PASSWORD not in "".join(rows.values())
    fields = {name: value.split("$") for name, value in rows.items()}
    for scheme, n, r, p, salt, key in fields.values():
        assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
        assert len(bytes.fromhex(salt)) == 16
        assert hashlib.scrypt(PASSWORD.encode(), salt=bytes.fromhex(salt), n=16384, r=8, p=1,
                              dklen=32).hex() == key
    assert fields["ada"][4] != fields["bob"][4] and fields["ada"][5] != fields["bob"][5]


# -- posts and uploads ----------------------------------------------------------------

def test_a_post_with_an_image_is_created_shown_and_edited_by_its_author(blog, tmp_path):
    client = blog.test_client()
    register(client, "ada")
    image = png(3, 2)
    response = submit_post(client, "/posts/new", "First light", "Hello, world.",
                           image=("../../etc/My Photo.png", "image/png", image))
    assert (response.status_code, response.headers["Location"]) == (303, "/posts/1")
    page = client.get("/posts/1")
    assert page.status_code == 200 and "First light" in page.text and "Hello, world." in page.text
    assert ("message", "Your post is published.") in flashes(page)
    source = re.search(r'<img src="(/uploads/[^"]+)"', page.text).group(1)
    stored = os.listdir(tmp_path / "uploads")
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{16}-etc_My_Photo\.png", stored[0])
    assert source == "/uploads/" + stored[0]
    served = client.get(source)
    assert served.status_code == 200 and served.content == image
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"

    edit_page = client.get("/posts/1/edit")
    assert edit_page.status_code == 200 and 'value="First light"' in edit_page.text
    response = submit_post(client, "/posts/1/edit", "First light, again", "Edited.")
    assert (response.status_code, response.headers["Location"]) == (303, "/posts/1")
    page = client.get("/posts/1")
    assert "First light, again" in page.text and "Edited." in page.text
    assert source in page.text  # no new file sent: the image stays

    response = submit_post(client, "/posts/1/edit", "With a GIF", image=("dot.gif", "image/gif", GIF))
    assert response.status_code == 303
    new_source = re.search(r'<img src="(/uploads/[^"]+)"', client.get("/posts/1").text).group(1)
    assert new_source.endswith("-dot.gif") and client.get(new_source).headers["Content-Type"] == "image/gif"
    assert client.get(source).status_code == 404  # the replaced image is gone
    assert os.listdir(tmp_path / "uploads") == [new_source.rsplit("/", 1)[1]]
    assert "With a GIF" in client.get("/").text


def test_only_the_author_edits_a_post(blog):
    ada, bob = blog.test_client(), blog.test_client()
    register(ada, "ada")
    submit_post(ada, "/posts/new", "Ada's post")
    register(bob, "bob")
    page = bob.get("/posts/1")
    assert page.status_code == 200 and 'id="edit-link"' not in page.text
    refused = bob.get("/posts/1/edit")
    assert refused.status_code == 403 and "Only its author can edit this post." in refused.text
    refused = submit_post(bob, "/posts/1/edit", "Bob was here")
    assert refused.status_code == 403 and "Only its author can edit this post." in unescape(refused.text)
    assert "Ada&#39;s post" in ada.get("/posts/1").text and "Bob was here" not in ada.get("/posts/1").text
    anonymous = blog.test_client()
    assert anonymous.get("/posts/1/edit").headers["Location"] == "/auth/login"
    assert anonymous.get("/posts/new").headers["Location"] == "/auth/login"
    assert blog.test_client().get("/posts/99").status_code == 404


@pytest.mark.parametrize("upload, message", [
    (("notes.png", "image/png", b"just some text, named .png"), "The file is not a PNG, JPEG, GIF or WebP image."),
    (("page.html", "text/html", b"<script>alert(1)</script>"), "The file is not a PNG, JPEG, GIF or WebP image."),
    (("big.png", "image/png", png() + b"\0" * (2 * 1024 * 1024)), "The image is 2097239 bytes; the limit is 2048 KiB."),
])
def test_uploads_that_are_not_small_images_are_refused(blog, tmp_path, upload, message):
    client = blog.test_client()
    register(client, "ada")
    response = submit_post(client, "/posts/new", "A title", image=upload)
    assert response.status_code == 400
    assert ("error", message.replace("2097239", str(len(upload[2])))) in flashes(response)
    assert 'value="A title"' in response.text  # the form is shown again, filled in
    assert os.listdir(tmp_path / "uploads") == []
    assert "No posts yet." in client.get("/").text


def test_sniffing_reads_the_first_bytes():
    assert sniff_image_type(png()) == "image/png"
    assert sniff_image_type(b"\xff\xd8\xff\xe0\0\x10JFIF") == "image/jpeg"
    assert sniff_image_type(GIF) == "image/gif"
    assert sniff_image_type(b"RIFF\x24\0\0\0WEBPVP8 ") == "image/webp"
    assert sniff_image_type(b"RIFF\x24\0\0\0WAVEfmt ") is None
    assert sniff_image_type(b"\x89PNG\r\n") is None
    assert sniff_image_type(b"") is None


def test_upload_names_cannot_leave_the_folder(blog):
    client = blog.test_client()
    for path in ("/uploads/..%2Fblog.sqlite3", "/uploads/.hidden", "/uploads/missing.png"):
        assert client.get(path).status_code == 404, path


# -- CSRF, sessions, escaping ---------------------------------------------------------

def test_a_post_without_the_session_csrf_token_is_refused(blog):
    client = blog.test_client()
    register(client, "ada")
    missing = client.post("/auth/logout", data={})
    assert missing.status_code == 403
    assert "CSRF token is missing" in unescape(missing.text)
    wrong = client.post("/auth/logout", data={"csrf_token": "x" * 43})
    assert wrong.status_code == 403 and "CSRF token is wrong" in unescape(wrong.text)
    assert logged_in_user(client.get("/").text) == "ada"  # still logged in

    other = blog.test_client()  # a token of another session is worth nothing here
    stranger = token(other, "/auth/register")
    assert client.post("/auth/logout", data={"csrf_token": stranger}).status_code == 403
    refused = submit_post(client, "/posts/new", "Forged", csrf="forged")
    assert refused.status_code == 403 and "No posts yet." in client.get("/").text
    assert client.post("/auth/login", data={"name": "ada", "password": PASSWORD}).status_code == 403
    # the header works as well as the field (for scripts)
    assert client.post("/auth/logout", headers={"X-CSRF-Token": token(client, "/")}).status_code == 303


def test_the_csrf_token_changes_at_log_in(blog):
    client = blog.test_client()
    before = token(client, "/auth/register")
    register(client, "ada")
    after = token(client, "/")
    assert before != after
    assert client.post("/auth/logout", data={"csrf_token": before}).status_code == 403


def test_a_tampered_session_cookie_gives_a_logged_out_page(blog):
    ada, bob = blog.test_client(), blog.test_client()
    register(ada, "ada")
    register(bob, "bob")
    cookie = bob.cookie_jar["session"]
    payload, stamp, signature = cookie.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert data["user_id"] == 2
    data["user_id"] = 1  # bob tries to be ada
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    bob.cookie_jar["session"] = f"{forged}.{stamp}.{signature}"
    page = bob.get("/")
    assert page.status_code == 200 and logged_in_user(page.text) is None
    assert 'id="login-link"' in page.text
    bob.cookie_jar["session"] = "garbage"
    assert logged_in_user(bob.get("/").text) is None
    assert logged_in_user(ada.get("/").text) == "ada"


def test_titles_are_escaped_by_the_templates(blog):
    client = blog.test_client()
    register(client, "<b>eve</b>")
    title = '<script>alert("x")</script>'
    assert submit_post(client, "/posts/new", title, "<img src=x onerror=alert(1)>").status_code == 303
    for path in ("/", "/posts/1", "/posts/1/edit", "/feed"):
        text = client.get(path).text
        assert "<script>alert" not in text and "<img src=x" not in text and "<b>eve" not in text, path
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text, path
    assert "&lt;img src=x onerror=alert(1)&gt;" in client.get("/posts/1").text
    assert "&lt;b&gt;eve&lt;/b&gt;" in client.get("/").text


def test_error_pages_use_the_layout(blog):
    response = blog.test_client().get("/posts/7")
    assert response.status_code == 404 and "<h1>404 Not Found</h1>" in response.text
    assert "No such post." in response.text and '<link rel="stylesheet" href="/static/style.css">' in response.text
    assert blog.test_client().get("/static/style.css").status_code == 200


def open_files_under(folder) -> list:
    """The files under ``folder`` this process holds open."""
    names = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            names.append(target)
    return names


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_each_request_closes_its_database_connection(blog, tmp_path):
    answered = []  # the requests stay alive: only the teardown hook can close their connections
    blog.before_request(answered.append)
    client = blog.test_client()
    register(client, "ada")
    submit_post(client, "/posts/new", "One")
    for path in ("/", "/posts/1", "/posts/1/edit", "/posts/2", "/feed"):
        client.get(path)
        assert open_files_under(tmp_path) == [], path
    assert blog.test_client().post("/auth/logout", data={}).status_code == 403  # refused by a hook
    assert open_files_under(tmp_path) == [] and len(answered) > 8


def test_the_test_client_cannot_serve_the_feed_stream(blog):
    # an EventStream needs the event loop of a real server (see the tests below)
    assert blog.test_client().get("/feed/events").status_code == 500


# -- a real server ---------------------------------------------------------------------

class Browser:
    """A requests session that fills in the CSRF token like the blog's forms do."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def token(self, path: str = "/auth/login") -> str:
        return TOKEN.search(self.session.get(self.url + path, timeout=10).text).group(1)

    def post(self, path: str, data: dict, files=None) -> requests.Response:
        data = dict(data, csrf_token=self.token())
        return self.session.post(self.url + path, data=data, files=files, timeout=10, allow_redirects=False)

    def close(self) -> None:
        self.session.close()


def read_events(response, count: int) -> list:
    """The first ``count`` events of an open text/event-stream response: (event, id, data)."""
    events, fields = [], {}
    for line in response.iter_lines(decode_unicode=True):
        if line:
            name, _, value = line.partition(": ")
            fields[name] = value
            continue
        if "data" in fields:
            events.append((fields.get("event"), fields.get("id"), json.loads(fields["data"])))
            if len(events) == count:
                return events
        fields = {}
    raise AssertionError(f"the stream ended after {events}")


def test_the_feed_streams_new_posts_and_replays_missed_ones(tmp_path):
    with start_app("blog", env={"BLOG_DATA_DIR": str(tmp_path)}) as server:
        writer = Browser(server.url)
        try:
            assert writer.post("/auth/register", {"name": "ada", "password": PASSWORD}).status_code == 303
            headers = {"Accept": "text/event-stream", "Accept-Encoding": "identity"}
            with requests.get(server.url + "/feed/events", headers=headers, stream=True, timeout=10) as feed:
                assert feed.headers["Content-Type"].startswith("text/event-stream")
                image = png()
                posted = writer.post("/posts/new", {"title": "Live <one>", "body": "b"},
                                     files={"image": ("live.png", image, "image/png")})
                assert (posted.status_code, posted.headers["Location"]) == (303, "/posts/1")
                writer.post("/posts/new", {"title": "Live two", "body": "b"})
                events = read_events(feed, 2)
            assert [(event, id) for event, id, _ in events] == [("post", "1"), ("post", "2")]
            first = events[0][2]
            assert (first["title"], first["author"], first["url"]) == ("Live <one>", "ada", "/posts/1")
            assert writer.session.get(server.url + first["image"], timeout=10).content == image
            assert events[1][2]["image"] is None

            writer.post("/posts/new", {"title": "While away", "body": "b"})
            with requests.get(server.url + "/feed/events", headers=dict(headers, **{"Last-Event-ID": "1"}),
                              stream=True, timeout=10) as feed:
                replayed = read_events(feed, 2)
            assert [(id, data["title"]) for _, id, data in replayed] == [("2", "Live two"), ("3", "While away")]
        finally:
            writer.close()


def test_a_body_over_the_limit_is_refused_before_it_is_read(tmp_path):
    with start_app("blog", env={"BLOG_DATA_DIR": str(tmp_path)}) as server:
        writer = Browser(server.url)
        try:
            writer.post("/auth/register", {"name": "ada", "password": PASSWORD})
            image = ("big.png", png() + b"\0" * (5 << 20))
            big = writer.post("/posts/new", {"title": "Too big"}, files={"image": image})
            assert big.status_code == 413
            assert writer.session.get(server.url + "/", timeout=10).text.count("Too big") == 0
        finally:
            writer.close()
        assert os.listdir(tmp_path / "uploads") == []


@pytest.mark.parametrize("command", [["-m", "examples.blog", "0"], ["examples/blog/app.py", "0"]])
def test_the_example_runs_as_documented(tmp_path, command):
    # the command itself, from the repository's root, with nothing added to the path
    source = f"import os, sys\nos.execv(sys.executable, [sys.executable] + {command!r})\n"
    with start_server(source, env={"BLOG_DATA_DIR": str(tmp_path), "PYTHONPATH": ""}) as server:
        page = requests.get(server.url + "/", timeout=10)
        assert page.status_code == 200 and "No posts yet." in page.text
        assert f"blog data in {tmp_path}" in server.log()
    assert os.path.exists(tmp_path / "blog.sqlite3")


# -- headless Chromium, two tabs -----------------------------------------------------------

@pytest.mark.timeout(150)
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_two_tabs_in_chromium(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    image = png(4, 4)
    with start_app("blog", env={"BLOG_DATA_DIR": str(tmp_path)}) as server, sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], timeout=60_000)
        try:
            context = browser.new_context()
            context.set_default_timeout(15_000)
            tab = context.new_page()
            tab.goto(server.url + "/")
            tab.click("#register-link")
            tab.fill("#register-form input[name=name]", "ada")
            tab.fill("#register-form input[name=password]", PASSWORD)
            tab.click("#register-form button")
            assert tab.text_content(".user") == "ada"
            assert tab.text_content(".flash") == "Welcome, ada!"

            tab.click("#logout")
            assert tab.is_visible("#login-link") and "You are logged out." in tab.text_content("main")
            tab.click("#login-link")
            tab.fill("#login-form input[name=name]", "ada")
            tab.fill("#login-form input[name=password]", "wrong password")
            tab.click("#login-form button")
            assert tab.text_content(".flash.error") == "Wrong name or password."
            tab.fill("#login-form input[name=name]", "ada")
            tab.fill("#login-form input[name=password]", PASSWORD)
            tab.click("#login-form button")
            assert tab.text_content(".user") == "ada"

            feed_tab = context.new_page()  # the second tab watches the live feed
            feed_tab.goto(server.url + "/feed")
            feed_tab.wait_for_function("document.getElementById('feed-state').textContent === 'live'")

            tab.bring_to_front()
            tab.click("#new-post")
            tab.fill("#post-form input[name=title]", "Hello <from> Chromium")
            tab.fill("#post-form textarea[name=body]", "Posted with a real form.")
            tab.set_input_files("#post-form input[name=image]",
                                files=[{"name": "square.png", "mimeType": "image/png", "buffer": image}])
            tab.click("#post-form button")
            tab.wait_for_url(server.url + "/posts/1")
            assert tab.text_content("article h2") == "Hello <from> Chromium"
            tab.wait_for_function("document.querySelector('article img').naturalWidth === 4")

            feed_tab.wait_for_selector("#post-1.new")  # arrived over the EventStream
            assert feed_tab.text_content("#post-1 h2") == "Hello <from> Chromium"
            assert feed_tab.text_content("#post-1 .meta") == "by ada"
            feed_tab.wait_for_function("document.querySelector('#post-1 img').naturalWidth === 4")
            assert feed_tab.evaluate("document.querySelectorAll('#feed script, #feed from').length") == 0

            tab.click("#logout")
            assert tab.is_visible("#login-link") and not tab.is_visible(".user")
            feed_tab.reload()
            assert feed_tab.is_visible("#login-link")  # the same browser: logged out in both tabs
        finally:
            browser.close()
