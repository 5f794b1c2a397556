"""The status table and ``get_description``."""
from __future__ import annotations

from http import HTTPStatus

import pytest

from outside import get_description
from outside.status import STATUS_DESCRIPTIONS


@pytest.mark.parametrize("code, phrase", [
    (200, "OK"), (404, "Not Found"), (418, "I'm a teapot"), (413, "Content Too Large"),
    (422, "Unprocessable Content"), (103, "Early Hints"), (308, "Permanent Redirect"),
    (421, "Misdirected Request"), (425, "Too Early"), (511, "Network Authentication Required"),
])
def test_phrases(code, phrase):
    assert get_description(code) == phrase


def test_unknown_code():
    assert get_description(299) == "Unknown"


def test_covers_every_stdlib_status():
    # The stdlib's table is older than RFC 9110 for a few phrases, but every code it
    # knows is registered, so ours must have it too.
    missing = [status.value for status in HTTPStatus if status.value not in STATUS_DESCRIPTIONS]
    assert missing == []


def test_no_unassigned_codes():
    assert set(STATUS_DESCRIPTIONS) <= set(range(100, 600))
    assert 306 not in STATUS_DESCRIPTIONS  # "(Unused)" in the registry
