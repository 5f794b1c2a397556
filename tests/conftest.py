"""Twin fixtures: every parser, writer, mask and frame codec test runs against both twins.

The compiled twin must be there unless ``OUTSIDE_NO_EXTENSIONS`` is set: a build that
silently fell back to pure Python fails these tests instead of skipping them.
"""
from __future__ import annotations

from typing import Any

import pytest

from outside import speedups


def _compiled(twin: Any, name: str, module: str) -> Any:
    """The compiled twin ``twin``; skipped when extensions are off on purpose, failed
    when they should be there and are not."""
    if twin is None:
        if speedups.NO_EXTENSIONS:
            pytest.skip(f"OUTSIDE_NO_EXTENSIONS is set: the C {name} is not in use")
        pytest.fail(f"the C {name} is not built: {speedups.IMPORT_ERRORS.get(module)}")
    return twin


def _c_parser():
    return _compiled(speedups.RequestParserC, "parser", "_http_parser")


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


@pytest.fixture(params=["py-mask", "c-mask"])
def mask(request):
    """The WebSocket mask module of one twin (``apply_mask``, ``mask_in_place``)."""
    if request.param == "c-mask":
        return _compiled(speedups.WebSocketMaskC, "mask", "_mask")
    return speedups.WebSocketMaskPy


@pytest.fixture(params=["py-frames", "c-frames"])
def frames(request):
    """The WebSocket frame codec module of one twin (``FrameParser``, ``serialize_frame``...)."""
    if request.param == "c-frames":
        return _compiled(speedups.WebSocketFramesC, "frame codec", "_frames")
    return speedups.WebSocketFramesPy


@pytest.fixture
def frames_twins():
    """(pure, compiled) frame codec modules, for differential tests."""
    return speedups.WebSocketFramesPy, _compiled(speedups.WebSocketFramesC, "frame codec",
                                                 "_frames")


@pytest.fixture(params=["py-writer", "c-writer"])
def writer(request):
    """The response writer module of one twin (``write_head``, ``frame_body``...)."""
    if request.param == "c-writer":
        return _compiled(speedups.ResponseWriterC, "response writer", "_writer")
    return speedups.ResponseWriterPy


@pytest.fixture
def writer_twins():
    """(pure, compiled) response writer modules, for differential tests."""
    return speedups.ResponseWriterPy, _compiled(speedups.ResponseWriterC, "response writer", "_writer")
