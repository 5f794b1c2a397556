"""The one place that chooses between the compiled and the pure-Python twins.

Every hot component of outside exists twice with the same API: a Cython build in
``outside._speedups`` and a pure-Python module (the request parser, the response writer,
the WebSocket mask and frame codec). The compiled one is used when it is
there and ``OUTSIDE_NO_EXTENSIONS`` is not set, and otherwise the pure one (one rule,
``outside._speedups.compiled_module``; the WebSocket core applies it itself in
``outside.websocket.twins`` and this module re-exports its choice).

``ACTIVE`` is ``"c"`` when every compiled twin is in use and ``"python"`` otherwise;
``IMPORT_ERRORS`` says why a compiled twin was not loaded. The ``...Py`` and ``...C``
names keep both twins reachable for tests and benchmarks (``...C`` is ``None`` when the
extension is missing).
"""
from __future__ import annotations

from ._speedups import IMPORT_ERRORS, NO_EXTENSIONS, compiled_module
from .http import writer as ResponseWriterPy
from .http.parser import RequestParser as RequestParserPy
from .pubsub import fan_out_py as FanOutPy
from .websocket.twins import (
    WebSocketFrames,
    WebSocketFramesC,
    WebSocketFramesPy,
    WebSocketMask,
    WebSocketMaskC,
    WebSocketMaskPy,
)

# HTTP/1.1 request parser (llhttp in C; outside.http.parser in Python).
_http_parser = compiled_module("_http_parser")
RequestParserC = _http_parser.RequestParser if _http_parser else None
RequestParser = RequestParserC or RequestParserPy

# The response writer (outside.http.writer in Python; a Cython build of it as _writer):
# write_head and the body framing. Both twins make the same ResponseHead class.
ResponseWriterC = compiled_module("_writer")
ResponseWriter = ResponseWriterC or ResponseWriterPy

# The pub/sub fan-out loop (outside.pubsub.fan_out_py in Python; _fanout.pyx sends on
# plain sockets with send(2)); outside.pubsub chooses it with the same rule.
_fanout = compiled_module("_fanout")
FanOutC = _fanout.fan_out if _fanout else None
FanOut = FanOutC or FanOutPy

# The WebSocket mask and frame codec (outside.websocket.mask and .frames in Python;
# _mask.pyx and a Cython build of frames.py) are chosen by the WebSocket core itself,
# in outside.websocket.twins, which needs no HTTP code; they are re-exported here.
_COMPILED = [RequestParserC, ResponseWriterC, WebSocketMaskC, WebSocketFramesC, FanOutC]
ACTIVE: str = "c" if all(twin is not None for twin in _COMPILED) else "python"

__all__ = ["ACTIVE", "IMPORT_ERRORS", "NO_EXTENSIONS", "FanOut", "FanOutC", "FanOutPy",
           "RequestParser", "RequestParserC", "RequestParserPy",
           "ResponseWriter", "ResponseWriterC", "ResponseWriterPy",
           "WebSocketFrames", "WebSocketFramesC", "WebSocketFramesPy",
           "WebSocketMask", "WebSocketMaskC", "WebSocketMaskPy"]
