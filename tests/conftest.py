"""Parser fixtures: every parser test runs against both twins.

The C twin must be there unless ``OUTSIDE_NO_EXTENSIONS`` is set: a build that silently
fell back to pure Python fails these tests instead of skipping them.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import settings

from outside import speedups

# CI runs a modest number of examples; OUTSIDE_HYPOTHESIS_PROFILE=long (or
# --hypothesis-profile=long) searches much longer.
settings.register_profile("ci", max_examples=300, deadline=None)
settings.register_profile("long", max_examples=20000, deadline=None)
settings.load_profile(os.environ.get("OUTSIDE_HYPOTHESIS_PROFILE", "ci"))


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
