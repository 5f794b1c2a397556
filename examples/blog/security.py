"""Passwords (``hashlib.scrypt``) and CSRF tokens tied to the session.

A password is stored as ``scrypt$N$r$p$salt$hash`` (hex): a 16-byte random salt per
password, N = 2**14, r = 8, p = 1 (16 MiB of memory and about 0.1 s of CPU per
hash), a 32-byte key. The parameters are kept in each stored value, so they can be
raised later without breaking the old ones.

Every POST must carry the session's CSRF token, in the form field ``csrf_token`` (or the
``X-CSRF-Token`` header); another site can make a browser send a form, but cannot read
the token from our pages. The comparison takes the same time whatever the guess.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any, Optional

from outside import abort

SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_LENGTH, SALT_LENGTH = 2 ** 14, 8, 1, 32, 16
UNSAFE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
CSRF_FIELD = "csrf_token"
_CSRF_SESSION_KEY = "csrf"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_LENGTH,
                          maxmem=2 * 128 * n * r * p)


def hash_password(password: str) -> str:
    """The value to store for ``password`` (a new random salt each time)."""
    salt = secrets.token_bytes(SALT_LENGTH)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${key.hex()}"


# Checked against when the user does not exist, so an unknown name costs the same time.
_DUMMY_HASH = hash_password(secrets.token_hex(16))


def verify_password(stored: Optional[str], password: str) -> bool:
    """Whether ``password`` matches ``stored`` (``None``: no such user, always False)."""
    try:
        scheme, n, r, p, salt, expected = (stored or _DUMMY_HASH).split("$")
        key = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:  # a malformed stored value
        return False
    return scheme == "scrypt" and hmac.compare_digest(key, bytes.fromhex(expected)) and stored is not None


def csrf_token(request: Any) -> str:
    """The session's CSRF token, made on first use (templates call it for each form)."""
    token = request.session.get(_CSRF_SESSION_KEY)
    if not isinstance(token, str):
        token = request.session[_CSRF_SESSION_KEY] = secrets.token_urlsafe(32)
    return token


def new_csrf_token(request: Any) -> None:
    """A fresh token (at log-in and log-out: a token seen before does not carry over)."""
    request.session[_CSRF_SESSION_KEY] = secrets.token_urlsafe(32)


def check_csrf(request: Any) -> None:
    """``before_request`` hook: a POST (PUT, PATCH, DELETE) without the session's token is
    refused with 403 and a message saying so."""
    if request.method not in UNSAFE_METHODS:
        return
    expected = request.session.get(_CSRF_SESSION_KEY)
    sent = request.headers.get("X-CSRF-Token") or request.form.get(CSRF_FIELD)
    if not sent:
        abort(403, "The form's CSRF token is missing: reload the page and send the form again.")
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8")):
        abort(403, "The form's CSRF token is wrong or expired: reload the page and send the form again.")
