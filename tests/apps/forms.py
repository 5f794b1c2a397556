"""Forms and uploads: echoes ``request.form``/``request.files`` as JSON, and reports the
temporary files the process holds open (to check that they go when a request ends)."""
import hashlib
import os
import tempfile

from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))


def _describe(upload):
    digest = hashlib.sha256()
    for piece in iter(lambda: upload.stream.read(1 << 20), b""):
        digest.update(piece)
    return {"filename": upload.filename, "content_type": upload.content_type, "size": upload.size,
            "sha256": digest.hexdigest(), "on_disk": _is_temporary(upload.stream)}


def _is_temporary(stream):
    try:
        return os.readlink(f"/proc/self/fd/{stream.fileno()}").startswith(tempfile.gettempdir())
    except (OSError, ValueError, AttributeError):
        return False  # io.BytesIO has no file descriptor


def temporary_fds():
    """Open descriptors of this process on deleted files in the temporary directory."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(tempfile.gettempdir()) and target.endswith("(deleted)"):
            held.append(target)
    return held


def echo(request):
    return Response(200, {}, {
        "form": request.form.to_dict(flat=False),
        "files": {name: [_describe(upload) for upload in request.files.getlist(name)]
                  for name in request.files},
        "held": len(temporary_fds()),
    })


def fail(request):
    assert request.files  # parsed: its temporary files exist now
    raise RuntimeError("the handler fails after reading the form")


def missing(request):
    return Response(200, {}, request.form["absent"])


def held(request):
    return Response(200, {}, {"held": temporary_fds()})


def content_then_form(request):
    raw = request.content
    return Response(200, {}, {"length": len(raw), "form": request.form.to_dict(flat=False)})


app.set_route("/echo", echo)
app.set_route("/fail", fail)
app.set_route("/missing", missing)
app.set_route("/held", held)
app.set_route("/content-then-form", content_then_form)
