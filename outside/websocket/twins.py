"""The WebSocket core's choice of twins: the compiled mask and frame codec, or the pure ones.

The same rule as every twin of outside (``outside._speedups.compiled_module``:
``OUTSIDE_NO_EXTENSIONS`` forces the pure ones, a missing build is reported in
``IMPORT_ERRORS``), made here so that the core imports nothing but itself and the
standard library. ``outside.speedups`` re-exports these names.
"""
from __future__ import annotations

from types import ModuleType

from .._speedups import compiled_module
from . import frames as WebSocketFramesPy
from . import mask as WebSocketMaskPy

WebSocketMaskC: ModuleType | None = compiled_module("_mask")
WebSocketMask: ModuleType = WebSocketMaskC or WebSocketMaskPy
WebSocketFramesC: ModuleType | None = compiled_module("_frames")
WebSocketFrames: ModuleType = WebSocketFramesC or WebSocketFramesPy

__all__ = ["WebSocketFrames", "WebSocketFramesC", "WebSocketFramesPy",
           "WebSocketMask", "WebSocketMaskC", "WebSocketMaskPy"]
