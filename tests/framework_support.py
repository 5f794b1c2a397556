"""Shared by the tests of sessions, hooks, blueprints, helpers and templates: the test
app of ``tests/apps/framework.py`` in-process, an independent signer of session cookies
(written from the format in ``outside/sessions.py``'s docstring, not with its code) and
TLS certificates."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import runpy
import time
from typing import Optional

from servers import app_path


def load_app(**environment: str):
    """A fresh ``tests/apps/framework.py`` app (``environment``: its ``APP_*`` variables)."""
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        return runpy.run_path(app_path("framework"), run_name="framework_app")["app"]
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signature(secret: str, signed: str) -> str:
    key = hmac.new(secret.encode(), b"outside.session", hashlib.sha256).digest()
    return b64(hmac.new(key, signed.encode(), hashlib.sha256).digest())


def session_cookie(data: dict, secret: str = "current-key", timestamp: Optional[float] = None) -> str:
    """A session cookie value as the documented format defines it."""
    stamp = int(time.time() if timestamp is None else timestamp)
    signed = f"{b64(json.dumps(data, separators=(',', ':')).encode())}.{stamp}"
    return f"{signed}.{signature(secret, signed)}"


def read_session_cookie(value: str, secret: str = "current-key") -> dict:
    """The data of a cookie the app set, after checking its signature independently."""
    payload, stamp, sign = value.split(".")
    assert sign == signature(secret, f"{payload}.{stamp}"), "signature does not match the documented scheme"
    assert abs(int(stamp) - time.time()) < 60
    return json.loads(unb64(payload))


def make_certificates(directory) -> dict:
    import trustme
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    paths = {name: str(directory / f"{name}.pem") for name in ("ca", "key", "cert")}
    ca.cert_pem.write_to_path(paths["ca"])
    cert.private_key_pem.write_to_path(paths["key"])
    with open(paths["cert"], "wb") as chain:
        chain.writelines(pem.bytes() for pem in cert.cert_chain_pems)
    return paths


def set_cookie_lines(header_list) -> list:
    return [value for name, value in header_list if name.lower() == "set-cookie"]
