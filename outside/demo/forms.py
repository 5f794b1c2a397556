"""The demo's form upload: what ``request.form`` and ``request.files`` received, as JSON."""
from __future__ import annotations

import hashlib
from typing import Any, Dict

from ..http.errors import BadRequest
from ..request import Request

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def describe_form(request: Request) -> Dict[str, Any]:
    """The fields (name -> first value) and files (name, size, SHA-256) of a submission.

    Raises ``BadRequest`` (answered 400) for a body that is not a form; ``request.form``
    raises for a malformed one.
    """
    media_type = request.headers.get("Content-Type", "").partition(";")[0].strip().lower()
    if media_type not in FORM_TYPES:
        raise BadRequest(f"expected a form, got {media_type or 'no Content-Type'}")
    files = []
    for field, upload in request.files.items(multi=True):
        digest = hashlib.sha256()
        for piece in iter(lambda: upload.read(1 << 16), b""):  # noqa: B023 - consumed at once
            digest.update(piece)
        files.append({"field": field, "filename": upload.filename, "content_type": upload.content_type,
                      "size": upload.size, "sha256": digest.hexdigest()})
    return {"fields": request.form.to_dict(), "files": files}
