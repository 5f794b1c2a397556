"""Reading an HTML form's submission: URL-encoded, or multipart with files (RFC 7578).

Multipart bodies are parsed with the standard library's ``email`` parser, which knows
MIME boundaries; enough for a demo's small uploads, which are held in memory.
"""
from __future__ import annotations

from email import policy
from email.parser import BytesParser
from typing import Dict, List, NamedTuple, Tuple
from urllib.parse import parse_qsl


class UploadedFile(NamedTuple):
    """One file of a multipart form: its field, the name the browser gave, its bytes."""

    field: str
    filename: str
    content_type: str
    data: bytes


class FormError(ValueError):
    """A body that is not the form its ``Content-Type`` announces."""


def parse_form(content_type: str, body: bytes) -> Tuple[Dict[str, str], List[UploadedFile]]:
    """The fields (name -> last value) and files of a form submission."""
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)), []
        except UnicodeDecodeError:
            raise FormError("the form is not UTF-8") from None
    if media_type == "multipart/form-data":
        return _multipart(content_type, body)
    raise FormError(f"expected a form, got {media_type or 'no Content-Type'}")


def _multipart(content_type: str, body: bytes) -> Tuple[Dict[str, str], List[UploadedFile]]:
    head = f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart() or message.defects:
        raise FormError("the multipart body cannot be read (missing or wrong boundary?)")
    fields: Dict[str, str] = {}
    files: List[UploadedFile] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue  # a part without a field name belongs to no field
        payload = part.get_payload(decode=True)  # bytes for a leaf part
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            fields[name] = data.decode(part.get_content_charset() or "utf-8", "replace")
        else:
            files.append(UploadedFile(name, filename, part.get_content_type(), data))
    return fields, files
