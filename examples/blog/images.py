"""Uploaded images: the type read from the first bytes (never from the name or the
client's Content-Type), the size bounded, the file stored under a unique safe name."""
from __future__ import annotations

import os
import secrets
from typing import Any, Optional

from outside import secure_filename

# type -> the extension it is stored with (so the type served back follows the content)
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}


class ImageError(ValueError):
    """An upload that is not an accepted image; the message says why."""


def sniff_image_type(head: bytes) -> Optional[str]:
    """The image type of a file starting with ``head`` (12 bytes are enough), or ``None``."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def save_image(upload: Any, folder: str, max_bytes: int) -> str:
    """Store the ``UploadedFile`` in ``folder``; the stored file's name. Raises
    ``ImageError`` for a file that is too large or not a PNG, JPEG, GIF or WebP image."""
    if upload.size > max_bytes:
        raise ImageError(f"The image is {upload.size} bytes; the limit is {max_bytes // 1024} KiB.")
    head = upload.read(12)
    kind = sniff_image_type(head)
    if kind is None:
        raise ImageError("The file is not a PNG, JPEG, GIF or WebP image.")
    upload.stream.seek(0)
    stem = os.path.splitext(secure_filename(upload.filename))[0][:60] or "image"
    name = f"{secrets.token_hex(8)}-{stem}{EXTENSIONS[kind]}"
    upload.save(os.path.join(folder, name))
    return name


def is_stored_name(name: str) -> bool:
    """Whether ``name`` could be one of ours (one safe path component), before opening it."""
    return bool(name) and secure_filename(name) == name
