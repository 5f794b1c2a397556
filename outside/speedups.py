"""The one place that chooses between the compiled and the pure-Python twins.

Every hot component of outside exists twice with the same API: a Cython build in
``outside._speedups`` and a pure-Python module. This module imports the compiled one
when it is there and ``OUTSIDE_NO_EXTENSIONS`` is not set, and otherwise the pure one.

``ACTIVE`` is ``"c"`` when every compiled twin is in use and ``"python"`` otherwise;
``IMPORT_ERRORS`` says why a compiled twin was not loaded. The ``...Py`` and ``...C``
names keep both twins reachable for tests and benchmarks (``...C`` is ``None`` when the
extension is missing).
"""
from __future__ import annotations

import importlib
import os
from typing import Any

NO_EXTENSIONS: bool = os.environ.get("OUTSIDE_NO_EXTENSIONS", "") not in ("", "0")
IMPORT_ERRORS: dict[str, str] = {}


def _compiled_module(module: str) -> Any:
    """The extension module, or None; a plain .py copy of a source (frames) does not count."""
    if NO_EXTENSIONS:
        return None
    try:
        loaded = importlib.import_module(f"outside._speedups.{module}")
    except ImportError as exc:
        IMPORT_ERRORS[module] = str(exc)
        return None
    if str(getattr(loaded, "__file__", "")).endswith(".py"):
        IMPORT_ERRORS[module] = "found the Python source copy, not the compiled extension"
        return None
    return loaded


# HTTP/1.1 request parser (llhttp in C; outside.http.parser in Python).
from .http.parser import RequestParser as RequestParserPy  # noqa: E402

_http_parser = _compiled_module("_http_parser")
RequestParserC = _http_parser.RequestParser if _http_parser else None
RequestParser = RequestParserC or RequestParserPy

# WebSocket mask and frame codec, each twin a module with the same functions and classes
# (outside.websocket.mask and .frames in Python; _mask.pyx and a Cython build of frames.py).
from .websocket import frames as WebSocketFramesPy  # noqa: E402
from .websocket import mask as WebSocketMaskPy  # noqa: E402

WebSocketMaskC = _compiled_module("_mask")
WebSocketMask = WebSocketMaskC or WebSocketMaskPy
WebSocketFramesC = _compiled_module("_frames")
WebSocketFrames = WebSocketFramesC or WebSocketFramesPy

_COMPILED = [RequestParserC, WebSocketMaskC, WebSocketFramesC]
ACTIVE: str = "c" if all(twin is not None for twin in _COMPILED) else "python"

__all__ = ["ACTIVE", "IMPORT_ERRORS", "NO_EXTENSIONS", "RequestParser", "RequestParserC", "RequestParserPy",
           "WebSocketFrames", "WebSocketFramesC", "WebSocketFramesPy",
           "WebSocketMask", "WebSocketMaskC", "WebSocketMaskPy"]
