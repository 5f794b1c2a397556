"""What handlers reach for: ``redirect``, ``abort`` (``HTTPError``) and ``send_file``."""
from __future__ import annotations

import html
import mimetypes
import os
import re
import unicodedata
from typing import Any, Dict, NoReturn, Optional, Union
from urllib.parse import quote

from .files import FilePath
from .response import Response
from .routing import BuildError

REDIRECT_CODES = frozenset((301, 302, 303, 307, 308))
# Kept as they are in a Location: the URI's own delimiters and '%' (already encoded).
_LOCATION_SAFE = "/:?#[]@!$&'()*+,;=-._~%"
# RFC 5987 attr-char minus nothing: what filename* may hold unencoded.
_ATTR_CHARS = "!#$&+-.^_`|~"
_UNSAFE_IN_QUOTES = re.compile(r'[\x00-\x1f\x7f"\\]')


class HTTPError(Exception):
    """Raised by ``abort``: the app answers with its error handler for ``status``
    (the blueprint's first), given ``message``."""

    def __init__(self, status: int, message: Optional[str] = None) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return f"{self.status}: {self.message}" if self.message else str(self.status)


def abort(status: int, message: Optional[str] = None) -> NoReturn:
    """Stop the handler and answer with the error handler for ``status``::

        if not request.session.get("user"):
            abort(401, "Log in first.")
    """
    if type(status) is not int or not 400 <= status <= 599:
        raise ValueError(f"abort needs an error status (400-599), not {status!r}")
    raise HTTPError(status, message)


def redirect(location: str, code: int = 302) -> Response:
    """A response sending the client to ``location`` (a path or a URL).

    ``code``: 301, 302 (the default), 303 (after a POST, "see other" with GET), 307 or
    308 (these two repeat the method and body). Characters that may not appear in a URL
    (spaces, non-ASCII, CR/LF, backslashes, quotes) are percent-encoded, so a value from
    the request can not add header fields. The body is a short HTML page with the link.
    """
    if code not in REDIRECT_CODES:
        raise ValueError(f"redirect code {code!r} is not one of {sorted(REDIRECT_CODES)}")
    target = quote(location, safe=_LOCATION_SAFE)
    link = html.escape(target)
    body = (f'<!doctype html>\n<title>Redirecting</title>\n'
            f'<p>Redirecting to <a href="{link}">{link}</a>.</p>\n')
    return Response(code, {"Location": target, "Content-Type": "text/html; charset=utf-8"}, body)


def content_disposition(disposition: str, filename: str) -> str:
    """A ``Content-Disposition`` value (RFC 6266) naming ``filename`` safely.

    ``filename="..."`` holds an ASCII fallback (accents dropped; quotes, backslashes and
    control characters replaced by ``_``); when that differs from the name,
    ``filename*=UTF-8''...`` carries the exact name percent-encoded (RFC 8187).
    """
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = _UNSAFE_IN_QUOTES.sub("_", ascii_name)
    value = f'{disposition}; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe=_ATTR_CHARS)}"
    return value


def send_file(path: Union[str, os.PathLike[str]], as_attachment: bool = False,
              download_name: Optional[str] = None, mimetype: Optional[str] = None) -> Response:
    """A response streaming the file at ``path`` (``FilePath``: ``ETag``, conditional and
    range requests), or the 404 handler's when it is not a readable file.

    ``as_attachment``: the browser saves it (``Content-Disposition: attachment``) under
    ``download_name`` (default: the file's own name) instead of showing it; a
    ``download_name`` alone gives ``inline`` with that name. ``mimetype``: the
    ``Content-Type`` (default: guessed from ``download_name``, else from ``path``).
    """
    file = FilePath(path)
    if not os.path.isfile(file.path) or not os.access(file.path, os.R_OK):
        abort(404, "No such file.")
    headers = {}
    if as_attachment or download_name is not None:
        name = download_name if download_name is not None else os.path.basename(file.path)
        headers["Content-Disposition"] = content_disposition("attachment" if as_attachment else "inline", name)
    if mimetype is None and download_name is not None:
        guessed, encoding = mimetypes.guess_type(download_name)
        if guessed is not None and encoding is None:
            mimetype = guessed
    if mimetype is not None:
        headers["Content-Type"] = mimetype
    return Response(200, headers, file)


# A Host field value: a name or IPv4 address, or an [IPv6] literal, and an optional port.
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?\Z")


def build_url(rules: Any, endpoint: str, values: Dict[str, Any], external: bool, request: Any) -> str:
    """``url_for``: the URL of ``endpoint`` in the ``RuleMap`` ``rules`` (see ``OutsideHTTP.url_for``)."""
    if endpoint.startswith("."):
        blueprint = request.blueprint if request is not None else None
        endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
    path: str = rules.build(endpoint, values)
    if not external:
        return path
    if request is None:
        raise BuildError(f"url_for({endpoint!r}, _external=True) needs the request: "
                         f"request.url_for(...) or url_for(..., _request=request)")
    host = request.headers.get("Host", "")
    if not _HOST.match(host):
        raise BuildError(f"cannot build an external URL: the request's Host {host!r} is not a host name")
    return f"{request.scheme}://{host.lower()}{path}"
