"""``outside serve DIR`` and ``StaticFiles``: folders, listings, MIME types, ranges,
conditional requests, and no way out of the directory, checked on the wire."""
from __future__ import annotations

import os

import pytest
import requests

from servers import Wire, start_app, start_server

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """``base/secret.txt`` next to the served ``base/site`` (with links in and out)."""
    base = tmp_path_factory.mktemp("static")
    (base / "secret.txt").write_text("top secret")
    (base / "outside-dir").mkdir()
    (base / "outside-dir" / "loot.txt").write_text("loot-content")
    site = base / "site"
    site.mkdir()
    (site / "hello.txt").write_text("hello, files")
    (site / "style.css").write_text("body { color: red }")
    (site / "data.json").write_text('{"a": 1}')
    (site / "page.html").write_text("<p>page</p>")
    (site / "numbers.bin").write_bytes(bytes(range(256)) * 4)
    (site / "with index").mkdir()
    (site / "with index" / "index.html").write_text("<h1>the index</h1>")
    (site / "listed").mkdir()
    (site / "listed" / '<b>&"co".txt').write_text("escaped")
    (site / "listed" / "folder").mkdir()
    (site / "link-in.txt").symlink_to(site / "hello.txt")
    (site / "link-out.txt").symlink_to(base / "secret.txt")
    (site / "link-out-dir").symlink_to(base / "outside-dir")
    return site


@pytest.fixture(scope="module")
def served(tree):
    with start_server(f"""
from outside.cli import main
main(["serve", {str(tree)!r}, "--port", "0"])
""") as server:
        yield server


def raw_get(server, target: str, head: bytes = b""):
    """The response to a GET of ``target`` sent exactly as given."""
    with Wire(server.address) as wire:
        wire.send(b"GET " + target.encode("latin-1") + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                  + head + b"\r\n")
        return wire.read_response()


@pytest.mark.parametrize("name, content_type", [
    ("hello.txt", "text/plain"), ("style.css", "text/css"), ("data.json", "application/json"),
    ("page.html", "text/html"), ("numbers.bin", "application/octet-stream")])
def test_files_with_their_types(served, tree, name, content_type):
    response = requests.get(f"{served.url}/{name}", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == content_type
    assert response.content == (tree / name).read_bytes()


def test_folder_with_index_and_the_slash_redirect(served):
    response = requests.get(served.url + "/with%20index", allow_redirects=False, timeout=10)
    assert response.status_code == 301
    assert response.headers["Location"] == "/with%20index/"
    assert requests.get(served.url + "/with%20index/", timeout=10).text == "<h1>the index</h1>"


def test_listing_escapes_names(served):
    response = requests.get(served.url + "/listed/", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "&lt;b&gt;&amp;&quot;co&quot;.txt" in response.text
    assert "<b>" not in response.text
    assert 'href="%3Cb%3E%26%22co%22.txt"' in response.text
    assert 'href="folder/"' in response.text and 'href="../"' in response.text
    assert requests.get(served.url + "/listed/%3Cb%3E%26%22co%22.txt", timeout=10).text == "escaped"


def test_root_listing_has_no_parent_link(served):
    text = requests.get(served.url + "/", timeout=10).text
    assert 'href="hello.txt"' in text and 'href="../"' not in text


def test_range_and_conditional_requests(served):
    partial = requests.get(served.url + "/numbers.bin", headers={"Range": "bytes=10-19"}, timeout=10)
    assert partial.status_code == 206
    assert partial.headers["Content-Range"] == "bytes 10-19/1024"
    assert partial.content == bytes(range(10, 20))
    suffix = requests.get(served.url + "/numbers.bin", headers={"Range": "bytes=-4"}, timeout=10)
    assert suffix.content == bytes([252, 253, 254, 255])
    assert requests.get(served.url + "/numbers.bin", headers={"Range": "bytes=5000-"},
                        timeout=10).status_code == 416
    first = requests.get(served.url + "/hello.txt", timeout=10)
    again = requests.get(served.url + "/hello.txt", headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""
    since = requests.get(served.url + "/hello.txt", timeout=10,
                         headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304


def test_head_and_other_methods(served):
    head = requests.head(served.url + "/hello.txt", timeout=10)
    assert head.status_code == 200 and head.headers["Content-Length"] == "12" and head.content == b""
    post = requests.post(served.url + "/hello.txt", data=b"x", timeout=10)
    assert post.status_code == 405 and post.headers["Allow"] == "GET, HEAD"


def test_links_inside_are_followed(served):
    assert requests.get(served.url + "/link-in.txt", timeout=10).text == "hello, files"


@pytest.mark.parametrize("target", [
    "/../secret.txt", "/listed/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2e/secret.txt",
    "/listed/%2e%2e/%2e%2e/secret.txt", "/.%2e/secret.txt", "/listed%2f..%2f..%2fsecret.txt",
    "/..%2fsecret.txt", "/..%5csecret.txt", "/..\\secret.txt", "/%2fetc%2fpasswd",
    "/hello.txt%00.png", "/%00", "/%ff.txt", "/%2e/hello.txt", "http://t/../secret.txt"])
def test_escapes_are_refused(served, target):
    response = raw_get(served, target)
    assert response.status == 403, (target, response)
    assert b"top secret" not in response.body and b"root:" not in response.body


@pytest.mark.parametrize("target", ["/link-out.txt", "/link-out-dir/loot.txt", "/link-out-dir/",
                                    "//etc/passwd", "/etc/passwd"])
def test_links_and_absolute_paths_leading_out_are_not_found(served, target):
    response = raw_get(served, target)
    assert response.status == 404, (target, response)
    assert b"top secret" not in response.body and b"loot-content" not in response.body


def test_a_missing_directory_is_one_line(tmp_path):
    import subprocess
    import sys

    from servers import ROOT
    result = subprocess.run([sys.executable, "-m", "outside", "serve", str(tmp_path / "nowhere")],
                            capture_output=True, text=True, timeout=30, cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == 1
    assert result.stderr.startswith("outside: error: cannot serve") and result.stderr.count("\n") == 1


def test_static_files_under_a_prefix(tree):
    with start_app("static_prefix", env={"SITE": str(tree)}) as server:
        assert requests.get(server.url + "/assets/hello.txt", timeout=10).text == "hello, files"
        assert requests.get(server.url + "/assets/listed/", timeout=10).status_code == 404
        assert requests.get(server.url + "/assets/../secret.txt", timeout=10).text == "the app"
        assert raw_get(server, "/assets/%2e%2e/secret.txt").status == 403
        assert requests.get(server.url + "/hello.txt", timeout=10).text == "the app"
