"""Cookies both ways: the request's ``Cookie`` header in, ``Set-Cookie`` values out."""
from __future__ import annotations

import re

from .headers import TOKEN

# Characters that would end the cookie or the header line early if sent in an attribute.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f;]")
_ESCAPE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))", re.DOTALL)
_SAME_SITE = {"strict": "Strict", "lax": "Lax", "none": "None"}


def _unescape(match: re.Match[str]) -> str:
    octal, char = match.groups()
    return chr(int(octal, 8)) if octal else char


def parse_cookie(header: str) -> dict[str, str]:
    """The cookies of a ``Cookie`` header as a dict name -> value.

    Pairs are split on ``;``, names and values stripped of spaces, and a value in double
    quotes is unquoted with the escapes ``http.cookies`` writes (``\\"``, ``\\\\``, ``\\ooo``).
    Unlike ``http.cookies.SimpleCookie``, one malformed pair (no ``=``, empty name) is
    skipped instead of dropping the pairs after it. When a name repeats, the first value
    wins: browsers send the cookie with the most specific path first.
    """
    cookies: dict[str, str] = {}
    for pair in header.split(";"):
        name, separator, value = pair.partition("=")
        name = name.strip()
        if not separator or not name or name in cookies:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = _ESCAPE.sub(_unescape, value[1:-1])
        cookies[name] = value
    return cookies


class ResponseCookie:
    """One cookie to set: ``name=value; Max-Age=..; Domain=..; HttpOnly; Secure; Path=..; SameSite=..``.

    Each attribute is written only when set. ``same_site`` is ``"Strict"``, ``"Lax"`` or
    ``"None"`` (any case). The name comes from the key of ``Response.cookies``.
    """

    __slots__ = ("value", "max_age", "domain", "http_only", "secure", "path", "same_site")  # noqa: RUF023 (repr order)

    def __init__(self, value: str, max_age: int | None = None, domain: str | None = None,
                 http_only: bool = False, secure: bool = False, path: str | None = None,
                 same_site: str | None = None) -> None:
        self.value = value
        self.max_age = max_age
        self.domain = domain
        self.http_only = http_only
        self.secure = secure
        self.path = path
        self.same_site = same_site

    def header_value(self, name: str) -> str:
        """The ``Set-Cookie`` field value for this cookie under ``name``.

        Raises ``ValueError`` for a name that is not a token, or a value or attribute
        holding ``;`` or a control character (they would inject attributes or headers).
        """
        if not isinstance(name, str) or not TOKEN.match(name):
            raise ValueError(f"invalid cookie name {name!r}")
        parts = [f"{name}={_checked(str(self.value))}"]
        if self.max_age is not None:
            parts.append(f"Max-Age={int(self.max_age)}")
        if self.domain:
            parts.append(f"Domain={_checked(self.domain)}")
        if self.http_only:
            parts.append("HttpOnly")
        if self.secure:
            parts.append("Secure")
        if self.path:
            parts.append(f"Path={_checked(self.path)}")
        if self.same_site:
            same_site = _SAME_SITE.get(str(self.same_site).lower())
            if same_site is None:
                raise ValueError(f"invalid SameSite {self.same_site!r}")
            parts.append(f"SameSite={same_site}")
        return "; ".join(parts)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"ResponseCookie({fields})"


def _checked(text: str) -> str:
    if _UNSAFE.search(text):
        raise ValueError(f"cookie text {text!r} holds ';' or a control character")
    return text
