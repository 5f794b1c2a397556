"""Signed-cookie sessions: ``request.session``, and ``flash`` messages on top of it.

The session is a dict kept in one cookie (``config["session_cookie_name"]``, default
``session``), readable by the client but not changeable: the cookie value is

    base64url(JSON of the dict) "." timestamp "." base64url(signature)

where the timestamp is the Unix time of signing in decimal, the signature is
HMAC-SHA256 over ``base64url(JSON) "." timestamp`` with the key
HMAC-SHA256(``secret_key``, ``b"outside.session"``), and base64url has no padding. A cookie
signed with ``config["secret_key"]`` or one of ``config["secret_key_fallbacks"]`` (old
keys, during a rotation) and younger than ``config["session_max_age"]`` seconds gives
its dict; anything else (missing, garbage, tampered, expired) gives an empty session,
never an error. Nothing is read or verified before ``request.session`` is first used.

After the handler, a session whose content changed is signed again (with the current
key) and sent as ``Set-Cookie`` (``HttpOnly; Path=/; SameSite=Lax``, ``Secure`` when
the request came over HTTPS, ``Max-Age`` = ``session_max_age``); a session emptied gets
a deleting cookie; an unchanged one sends nothing. Values must be JSON-serializable.
Sessions hold no secrets from the client: store an id, not a password.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from .cookies import ResponseCookie

_KEY_CONTEXT = b"outside.session"
_BROWSER_LIMIT = 4000  # bytes of a cookie value browsers keep (4096 with the name and attributes)
logger = logging.getLogger("outside")
_FLASHES = "_flashes"
Secret = Union[str, bytes]


class Session(dict):
    """The session of one request: a plain dict, JSON-serializable values only.

    ``modified`` is worked out when the response is made, by comparing the content with
    what the cookie held, so changes inside nested values are noticed too.
    """

    __slots__ = ("loaded",)

    def __init__(self, data: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(data or {})
        self.loaded = _dump(self) if data else ""  # what the cookie held, as serialized

    @property
    def modified(self) -> bool:
        """Whether the content differs from what the request's cookie held."""
        return (_dump(self) if self else "") != self.loaded


def _dump(data: Dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signing_key(secret: Secret) -> bytes:
    raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    return hmac.new(raw, _KEY_CONTEXT, hashlib.sha256).digest()


def _signature(key: bytes, signed: str) -> bytes:
    return hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest()


class SessionSigner:
    """Signs and verifies session cookie values (see the module docstring)."""

    def __init__(self, secret_key: Secret, fallbacks: Iterable[Secret] = (), max_age: float = 31 * 86400) -> None:
        self.keys: List[bytes] = [_signing_key(secret_key)] + [_signing_key(key) for key in fallbacks]
        self.max_age = max_age

    def sign(self, data: Dict[str, Any], now: Optional[float] = None) -> str:
        """The cookie value for ``data`` (``TypeError`` when it is not JSON-serializable)."""
        signed = f"{_b64encode(_dump(data).encode('utf-8'))}.{int(time.time() if now is None else now)}"
        return f"{signed}.{_b64encode(_signature(self.keys[0], signed))}"

    def load(self, value: str, now: Optional[float] = None) -> Optional[Dict[str, Any]]:
        """The dict in ``value``, or ``None`` when it is malformed, not signed by one of
        the keys, or older than ``max_age`` (never raises)."""
        signed, _, signature_text = value.rpartition(".")
        payload, _, stamp = signed.partition(".")
        if not payload or not stamp.isascii() or not stamp.isdigit():
            return None
        try:
            signature = _b64decode(signature_text)
        except (binascii.Error, ValueError):
            return None
        if not any(hmac.compare_digest(_signature(key, signed), signature) for key in self.keys):
            return None
        if (time.time() if now is None else now) - int(stamp) > self.max_age:
            return None
        try:
            data = json.loads(_b64decode(payload))
        except (binascii.Error, ValueError, RecursionError):
            return None
        return data if isinstance(data, dict) else None


def _signer(config: Dict[str, Any]) -> SessionSigner:
    secret = config.get("secret_key")
    if not secret:
        raise RuntimeError("request.session needs a secret key: set server.config['secret_key'] "
                           "to a long random string (e.g. secrets.token_hex(32)), kept out of the code")
    return SessionSigner(secret, config.get("secret_key_fallbacks") or (),
                         config.get("session_max_age", 31 * 86400))


def _config_of(request: Any) -> Dict[str, Any]:
    app = getattr(request, "app", None)
    if app is None:
        raise RuntimeError("request.session works on requests dispatched by an OutsideHTTP app")
    return app.config


def load_session(request: Any) -> Session:
    """The session in ``request``'s cookie (empty when there is none or it is not valid)."""
    config = _config_of(request)
    signer = _signer(config)
    value = request.cookies.get(config.get("session_cookie_name", "session"))
    data = signer.load(value) if value else None
    return Session(data)


def save_session(request: Any, response: Any) -> None:
    """Put the changed session of ``request`` (if it was used) into ``response``."""
    session = request.__dict__.get("_session")
    if session is None:
        return
    _add_vary_cookie(response.headers)
    if not session.modified:
        return
    config = _config_of(request)
    max_age = config.get("session_max_age", 31 * 86400)
    if session:
        value, max_age = _signer(config).sign(session), int(max_age)
        if len(value) > _BROWSER_LIMIT:
            logger.warning("the session cookie is %d bytes; browsers drop cookies over about %d: "
                           "keep less in the session", len(value), _BROWSER_LIMIT)
    else:
        value, max_age = "", 0  # emptied: a deleting cookie
    response.cookies[config.get("session_cookie_name", "session")] = ResponseCookie(
        value, max_age=max_age, http_only=True, secure=request.scheme == "https", path="/", same_site="Lax")


def _add_vary_cookie(headers: Dict[str, Any]) -> None:
    """The response depends on the cookie: say so to caches (``Vary: Cookie``)."""
    for name, value in headers.items():
        if name.lower() == "vary":
            if "cookie" not in str(value).lower() and str(value).strip() != "*":
                headers[name] = f"{value}, Cookie"
            return
    headers["Vary"] = "Cookie"


def flash(request: Any, message: str, category: str = "message") -> None:
    """Keep ``message`` in the session for the next page that calls ``get_flashed_messages``
    (typically after a redirect)."""
    session = request.session
    session[_FLASHES] = list(session.get(_FLASHES, ())) + [[category, message]]


def get_flashed_messages(request: Any, with_categories: bool = False,
                         category_filter: Iterable[str] = ()) -> List[Any]:
    """The messages flashed so far, taken out of the session (the same list for every
    call within one request). ``with_categories``: ``(category, message)`` pairs.
    ``category_filter``: only those categories."""
    flashes: Optional[List[Tuple[str, str]]] = request.__dict__.get("_flashed")
    if flashes is None:
        session = request.session
        stored = session.pop(_FLASHES) if _FLASHES in session else []
        flashes = request.__dict__["_flashed"] = [(str(category), message) for category, message in stored]
    wanted = set(category_filter)
    chosen = [pair for pair in flashes if not wanted or pair[0] in wanted]
    return chosen if with_categories else [message for _, message in chosen]
