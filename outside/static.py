"""``StaticFiles``: a route handler serving a directory's files, and nothing outside it.

    server.set_route("/", StaticFiles("public"))                 # every path
    server.set_route("/assets/", StaticFiles("build", url_prefix="/assets/"))

Files go out as ``FilePath`` responses, so the engine adds the type guessed by
``mimetypes``, ``ETag``/``Last-Modified`` and answers conditional and ``Range``
requests (ranges for files larger than ``config["allow_range_from_mb"]``). A folder
answers with its ``index.html``, else with an HTML listing of its entries.

The path is read from the request target as sent, segment by segment, before any
decoding can hide a separator. Refused: ``..`` and ``.`` segments (plain or encoded),
encoded slashes and backslashes, NUL bytes and invalid UTF-8 (403), and any file whose
real path, symbolic links resolved, lies outside the directory (404: its existence is
not revealed).

Precompressed files: when ``app.js.br`` or ``app.js.gz`` sits next to ``app.js`` and the
client accepts that coding (``Accept-Encoding``, q-values honoured, brotli preferred),
the sibling is sent instead, with the original's ``Content-Type``, ``Content-Encoding``
and ``Vary: Accept-Encoding`` (the latter whenever a sibling exists). Its ``ETag`` is the
sibling's own, so the two representations never share a validator.
"""
from __future__ import annotations

import html
import os
from typing import Any, List, Optional, Tuple, Union
from urllib.parse import quote, unquote, urlsplit

from .files import FilePath
from .http.compression import BROTLI, GZIP, choose_encoding
from .request import Request
from .response import Response

Refusal = Tuple[int, str]
_FORBIDDEN_CHARACTERS = ("/", "\\", "\0")
_PRECOMPRESSED = ((BROTLI, ".br"), (GZIP, ".gz"))  # our preference among equal q-values


class StaticFiles:
    """Serves the files under ``directory`` for paths starting with ``url_prefix``.

    ``index``: the file answering for a folder (``None``: none). ``listing``: list a
    folder's entries when it has no index (otherwise 404). Only GET and HEAD are
    served (405 with ``Allow`` otherwise). Errors are ``(status, message)`` answers,
    so the app's error handlers render them.
    """

    def __init__(self, directory: Union[str, os.PathLike[str]], url_prefix: str = "/",
                 index: Optional[str] = "index.html", listing: bool = True) -> None:
        self.root = os.path.realpath(os.fspath(directory))
        if not os.path.isdir(self.root):
            raise NotADirectoryError(f"{os.fspath(directory)!r} is not a directory")
        self.url_prefix = url_prefix if url_prefix.endswith("/") else url_prefix + "/"
        self.index = index
        self.listing = listing

    def __call__(self, request: Request) -> Union[Response, Refusal]:
        if request.method not in ("GET", "HEAD"):
            return Response(405, {"Allow": "GET, HEAD"}, f"{request.method} is not served here.")
        raw_path = _raw_path(request.target)
        if raw_path + "/" == self.url_prefix:  # the prefix without its slash: the folder's URL
            return _redirect(raw_path + "/", request.target)
        if not raw_path.startswith(self.url_prefix):
            return 404, f"{request.url} is not under {self.url_prefix}"
        segments = _segments(raw_path[len(self.url_prefix):])
        if isinstance(segments, tuple):
            return segments
        path = os.path.realpath(os.path.join(self.root, *segments))
        if not self._inside(path):
            return 404, f"{request.url} was not found."
        if os.path.isdir(path):
            return self._folder(request, raw_path, path)
        if not os.path.isfile(path):
            return 404, f"{request.url} was not found."
        return self._file(request, path)

    def _file(self, request: Request, path: str) -> Response:
        """The file, or its precompressed sibling the client accepts."""
        siblings = {encoding: path + suffix for encoding, suffix in _PRECOMPRESSED
                    if self._inside(path + suffix) and os.path.isfile(path + suffix)}
        if not siblings:
            return Response(200, {}, FilePath(path))
        headers = {"Vary": "Accept-Encoding"}
        encoding = choose_encoding(request.headers.get("Accept-Encoding"),
                                   [encoding for encoding, _ in _PRECOMPRESSED if encoding in siblings])
        if encoding is None:
            return Response(200, headers, FilePath(path))
        headers["Content-Type"] = FilePath(path).content_type()
        headers["Content-Encoding"] = encoding
        return Response(200, headers, FilePath(siblings[encoding]))

    def _inside(self, path: str) -> bool:
        real = os.path.realpath(path)
        return real == self.root or real.startswith(self.root.rstrip(os.sep) + os.sep)

    def _folder(self, request: Request, raw_path: str, path: str) -> Union[Response, Refusal]:
        if not raw_path.endswith("/"):  # relative links in the page need the slash
            return _redirect(raw_path + "/", request.target)
        if self.index is not None:
            index = os.path.join(path, self.index)
            if os.path.isfile(index):
                return self._file(request, index)
        if not self.listing:
            return 404, f"{request.url} was not found."
        try:
            page = listing_page(request.url, path, at_root=path == self.root)
        except OSError:
            return 403, f"{request.url} cannot be listed."
        return Response(200, {"Content-Type": "text/html; charset=utf-8"}, page)


def _raw_path(target: str) -> str:
    """The path of a request target as sent (absolute-form reduced to its path)."""
    path = target.partition("?")[0]
    if not path.startswith("/") and "://" in path:
        path = urlsplit(path).path or "/"
    return path


def _segments(raw: str) -> Union[List[str], Refusal]:
    """The decoded segments of ``raw`` (empty ones dropped), or the refusal of an unsafe one."""
    segments = []
    for piece in raw.split("/"):
        try:
            segment = unquote(piece, errors="strict")
        except UnicodeDecodeError:
            return 403, "The path is not valid UTF-8."
        if segment in ("", "."):
            if piece == segment:
                continue
            return 403, "The path holds an encoded '.' segment."
        if segment == ".." or any(character in segment for character in _FORBIDDEN_CHARACTERS):
            return 403, "The path leaves the directory or holds a forbidden character."
        if os.path.isabs(segment) or os.path.splitdrive(segment)[0]:
            return 403, "The path holds an absolute path."
        segments.append(segment)
    return segments


def _redirect(path: str, target: str) -> Response:
    query = target.partition("?")[2]
    return Response(301, {"Location": path + ("?" + query if query else "")}, "")


def listing_page(url: str, folder: str, at_root: bool) -> str:
    """An HTML page listing ``folder`` (shown at ``url``): folders first, names escaped."""
    entries = sorted(os.scandir(folder), key=lambda entry: (not _is_dir(entry), entry.name.lower()))
    title = html.escape(f"Index of {url}")
    rows = [] if at_root else ['<li><a href="../">../</a></li>']
    for entry in entries:
        name = entry.name + ("/" if _is_dir(entry) else "")
        rows.append(f'<li><a href="{html.escape(quote(name), quote=True)}">{html.escape(name)}</a></li>')
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{title}</title></head>\n<body><h1>{title}</h1>\n<ul>\n"
            + "\n".join(rows) + "\n</ul>\n</body></html>\n")


def _is_dir(entry: Any) -> bool:
    try:
        return bool(entry.is_dir())
    except OSError:
        return False
