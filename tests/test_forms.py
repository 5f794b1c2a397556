"""``outside.forms``: the multi-value mapping, uploaded files, safe file names, and
``parse_form`` with its limits (bodies given as pieces, as the server streams them)."""
from __future__ import annotations

import io
import os

import pytest

from outside import (
    MissingField,
    MultiDict,
    MultipartError,
    OutsideHTTP,
    Request,
    UploadedFile,
    secure_filename,
)
from outside.forms import FormLimits, parse_form
from outside.http.errors import BadRequest, PayloadTooLarge

MULTIPART = "multipart/form-data; boundary=b"
CD = b'Content-Disposition: form-data; name="'


def pieces(body: bytes, size: int = 3):
    return [body[i:i + size] for i in range(0, len(body), size)]


def test_multidict_reads_like_flasks():
    form = MultiDict([("a", "1"), ("b", "x"), ("a", "2")])
    assert form["a"] == "1" and form.get("a") == "1" and form.getlist("a") == ["1", "2"]
    assert form.get("zz") is None and form.get("zz", "d") == "d" and form.getlist("zz") == []
    assert list(form) == ["a", "b"] and len(form) == 2 and "b" in form and "zz" not in form
    assert list(form.items()) == [("a", "1"), ("b", "x")]
    assert form.items(multi=True) == [("a", "1"), ("a", "2"), ("b", "x")]
    assert list(form.keys()) == ["a", "b"] and list(form.values()) == ["1", "x"]
    assert form.lists() == [("a", ["1", "2"]), ("b", ["x"])]
    assert form.to_dict() == {"a": "1", "b": "x"}
    assert form.to_dict(flat=False) == {"a": ["1", "2"], "b": ["x"]}
    assert form.get("a", type=int) == 1 and form.get("b", -1, type=int) == -1
    assert form.getlist("a", type=int) == [1, 2]
    assert form == MultiDict([("a", "1"), ("b", "x"), ("a", "2")]) and form != MultiDict([("a", "1")])
    with pytest.raises(TypeError):
        form["c"] = "3"  # read-only


def test_missing_field_is_a_key_error_answered_400():
    with pytest.raises(KeyError) as caught:
        MultiDict()["name"]
    assert isinstance(caught.value, MissingField) and isinstance(caught.value, BadRequest)
    assert caught.value.status == 400 and "'name'" in caught.value.reason


@pytest.mark.parametrize("name,safe", [
    ("My cool movie.mov", "My_cool_movie.mov"),
    ("../../../etc/passwd", "etc_passwd"),
    ("..\\..\\windows\\system32\\cmd.exe", "windows_system32_cmd.exe"),
    ("C:\\Users\\me\\report.pdf", "C_Users_me_report.pdf"),
    ("caf\u00e9 cr\u00e8me.txt", "cafe_creme.txt"),
    (".bashrc", "bashrc"),
    ("...hidden..txt", "hidden.txt"),
    ("a..b", "a.b"),
    ("trailing.", "trailing"),
    ("-rf", "rf"),
    ("CON", "_CON"),
    ("nul.txt", "_nul.txt"),
    ("com1.tar.gz", "_com1.tar.gz"),
    ("console.txt", "console.txt"),
    ("a\x00b.txt", "ab.txt"),
    ("tab\tand\nnewline", "tab_and_newline"),
    ("\u0444\u0430\u0439\u043b.txt", "txt"),
    ("\u0444\u0430\u0439\u043b", ""),
    ("../..", ""),
    ("", ""),
])
def test_secure_filename(name, safe):
    assert secure_filename(name) == safe


def test_urlencoded_form_with_repeated_and_non_ascii_fields():
    body = b"a=1&a=2&caf%C3%A9=cr%C3%A8me&blank=&plus=a+b&bad=%FF"
    form, files = parse_form("application/x-www-form-urlencoded; charset=utf-8", pieces(body))
    assert form.to_dict(flat=False) == {"a": ["1", "2"], "caf\u00e9": ["cr\u00e8me"], "blank": [""],
                                        "plus": ["a b"], "bad": ["\ufffd"]}
    assert len(files) == 0


def test_other_bodies_are_not_forms_and_not_read():
    def never():
        raise AssertionError("read")
        yield b""
    for content_type in ("application/json", "", "text/plain"):
        form, files = parse_form(content_type, never())
        assert len(form) == 0 and len(files) == 0


def multipart_body(*parts: bytes) -> bytes:
    return b"".join(b"--b\r\n" + part + b"\r\n" for part in parts) + b"--b--\r\n"


def test_multipart_fields_files_and_charset():
    body = multipart_body(
        CD + b'a"\r\n\r\n1', CD + b'a"\r\n\r\n2',
        CD + b'latin"\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n\xe9',
        CD + b'doc"; filename="r\xc3\xa9sum\xc3\xa9.txt"\r\nContent-Type: text/plain\r\nX-Extra: 1\r\n\r\nhello',
        CD + b'empty"; filename=""\r\nContent-Type: application/octet-stream\r\n\r\n')
    form, files = parse_form(MULTIPART, pieces(body))
    assert form.to_dict(flat=False) == {"a": ["1", "2"], "latin": ["\u00e9"]}
    doc = files["doc"]
    assert isinstance(doc, UploadedFile)
    assert (doc.name, doc.filename, doc.content_type, doc.size) == ("doc", "r\u00e9sum\u00e9.txt", "text/plain", 5)
    assert doc.headers["x-extra"] == "1" and doc.mimetype == "text/plain"
    assert doc.stream.tell() == 0 and doc.read() == b"hello" and bool(doc)
    assert files["empty"].size == 0 and not files["empty"]  # an empty file input


@pytest.mark.parametrize("charset", ["base64", "no-such-codec", "idna", "rot13"])
def test_a_charset_that_is_no_text_codec_falls_back_to_utf8(charset):
    body = multipart_body(CD + b'a"\r\nContent-Type: text/plain; charset=' + charset.encode()
                          + b"\r\n\r\ncaf\xc3\xa9")
    form, _ = parse_form(MULTIPART, pieces(body))
    assert form["a"] == "caf\u00e9"


def test_small_files_stay_in_memory_large_ones_spill(tmp_path):
    data = os.urandom(3000)
    body = multipart_body(CD + b'small"; filename="s"\r\n\r\n' + data[:100],
                          CD + b'large"; filename="l"\r\n\r\n' + data)
    _, files = parse_form(MULTIPART, pieces(body, 512), FormLimits(max_form_memory_size=1000))
    assert isinstance(files["small"].stream, io.BytesIO)
    large = files["large"]
    assert not isinstance(large.stream, io.BytesIO) and large.stream.fileno() >= 0
    assert large.size == 3000 and large.read(10) == data[:10]
    large.save(tmp_path / "copy")  # from the start, whatever was read before
    assert (tmp_path / "copy").read_bytes() == data
    target = io.BytesIO()
    large.save(target)
    assert target.getvalue() == data
    large.close()
    assert large.stream.closed


def test_request_close_closes_every_upload():
    body = multipart_body(CD + b'f"; filename="a"\r\n\r\n' + b"x" * 2000, CD + b'f"; filename="b"\r\n\r\n1')
    request = Request("POST", {"Content-Type": MULTIPART}, body, "HTTP/1.1", "/", ("", 0))
    request.app = OutsideHTTP(("127.0.0.1", 0))  # its config gives the form limits
    request.app.config["max_form_memory_size"] = 1000
    uploads = request.files.getlist("f")
    assert [upload.filename for upload in uploads] == ["a", "b"]
    request.close()
    request.close()  # idempotent
    assert all(upload.stream.closed for upload in uploads)


def test_request_content_and_form_coexist():
    body = b"a=1&b=2"
    request = Request("POST", {"Content-Type": "application/x-www-form-urlencoded"}, body, "HTTP/1.1", "/", ("", 0))
    assert request.content == body and request.form.to_dict() == {"a": "1", "b": "2"}

    class Stream:  # a body still arriving, as the server hands it over
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def read(self, size=-1):
            return self.data.read(size)
    streamed = Request("POST", {"Content-Type": "application/x-www-form-urlencoded"}, Stream(body),
                       "HTTP/1.1", "/", ("", 0))
    assert streamed.form.getlist("a") == ["1"]
    assert streamed.content == b""  # the form consumed the stream
    again = Request("POST", {"Content-Type": "application/x-www-form-urlencoded"}, Stream(body),
                    "HTTP/1.1", "/", ("", 0))
    assert again.content == body and again.form["b"] == "2"  # content first: the form reads it


@pytest.mark.parametrize("limits,body,message", [
    (FormLimits(max_form_parts=2), multipart_body(*[CD + b'a"\r\n\r\n1'] * 3), "more than 2 parts"),
    (FormLimits(max_form_memory_size=10), multipart_body(CD + b'a"\r\n\r\n' + b"x" * 11), "field is larger than 10"),
    (FormLimits(max_body_size=100), multipart_body(CD + b'f"; filename="x"\r\n\r\n' + b"x" * 200), "larger than 100"),
])
def test_limits_are_413(limits, body, message):
    with pytest.raises(PayloadTooLarge) as caught:
        parse_form(MULTIPART, pieces(body, 7), limits)
    assert caught.value.status == 413 and message in caught.value.reason


def test_urlencoded_over_memory_limit_is_413():
    with pytest.raises(PayloadTooLarge):
        parse_form("application/x-www-form-urlencoded", pieces(b"a=" + b"x" * 100), FormLimits(max_form_memory_size=50))


def test_a_failed_parse_closes_the_files_it_made(monkeypatch):
    made = []
    body = multipart_body(CD + b'f"; filename="a"\r\n\r\n' + b"x" * 2000)[:-8]  # truncated

    def spy():
        yield from pieces(body, 100)
    from outside import forms
    original = forms.tempfile.TemporaryFile

    def tracking_temporary_file(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]
    monkeypatch.setattr(forms.tempfile, "TemporaryFile", tracking_temporary_file)
    with pytest.raises(MultipartError, match="ended before"):
        parse_form(MULTIPART, spy(), FormLimits(max_form_memory_size=1000))
    assert len(made) == 1 and made[0].closed


def test_form_limits_from_config():
    limits = FormLimits.from_config({"max_form_parts": 5, "max_form_memory_size": 7, "max_body_size_mb": 1})
    assert (limits.max_form_parts, limits.max_form_memory_size, limits.max_body_size) == (5, 7, 1024 * 1024)
    assert FormLimits.from_config(None).max_form_parts == 1000
    assert FormLimits.from_config({"max_body_size_mb": -1}).max_body_size is None
    assert FormLimits.from_config({"max_body_size_mb": None}).max_body_size is None


def test_test_client_and_wsgi_close_the_uploads_after_the_response():
    from outside import OutsideHTTP, Response

    app = OutsideHTTP(("127.0.0.1", 0))
    app.config["max_form_memory_size"] = 1000
    seen = []

    @app.route("/up", methods=["POST"])
    def up(request):
        seen.append(request.files["f"])
        return Response(200, {}, {"on_disk": not isinstance(seen[-1].stream, io.BytesIO),
                                  "open": not seen[-1].stream.closed})

    body = multipart_body(CD + b'f"; filename="a"\r\n\r\n' + b"x" * 5000)
    response = app.test_client().post("/up", data=body, headers={"Content-Type": MULTIPART})
    assert response.json() == {"on_disk": True, "open": True}
    assert seen[0].stream.closed
