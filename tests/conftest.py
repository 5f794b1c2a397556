"""Parser fixtures: every parser test runs against both twins.

The C twin must be there unless ``OUTSIDE_NO_EXTENSIONS`` is set: a build that silently
fell back to pure Python fails these tests instead of skipping them.
"""
from __future__ import annotations

import pytest

from outside import speedups


def _c_parser():
    if speedups.RequestParserC is None:
        if speedups.NO_EXTENSIONS:
            pytest.skip("OUTSIDE_NO_EXTENSIONS is set: the C parser is not in use")
        pytest.fail(f"the C parser is not built: {speedups.IMPORT_ERRORS.get('_http_parser')}")
    return speedups.RequestParserC


@pytest.fixture(params=["py-parser", "c-parser"])
def parser_class(request):
    """The RequestParser class of one twin."""
    if request.param == "c-parser":
        return _c_parser()
    return speedups.RequestParserPy


@pytest.fixture
def twins():
    """(pure, compiled) RequestParser classes, for differential tests."""
    return speedups.RequestParserPy, _c_parser()
