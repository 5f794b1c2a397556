"""Every public name of the 1.5.x API is importable from ``outside``."""
from __future__ import annotations

import pytest

import outside

SEED_NAMES = ["OutsideHTTP", "OutsideHTTP_Redirect", "WebSocket", "WebSocketConnection", "Request",
              "Response", "ScheduledResponse", "FilePath", "ResponseCookie", "get_insensitive_header",
              "get_description"]


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_name_exported(name):
    assert name in outside.__all__
    assert getattr(outside, name) is not None


def test_version():
    from outside._version import __version__
    assert outside.__version__ == __version__


def test_star_import():
    namespace: dict = {}
    exec("from outside import *", namespace)
    assert {"OutsideHTTP", "Response", "get_description"} <= set(namespace)
