"""Compiled twins of outside's hot paths (Cython), and how they are loaded.

``compiled_module`` is the one loading rule for every twin: the extension module, unless
``OUTSIDE_NO_EXTENSIONS`` is set or it is not built (the reason lands in
``IMPORT_ERRORS``). ``outside.speedups`` reports the choice for all twins; the
WebSocket core picks its own (``outside.websocket.twins``) so that it needs nothing
else of the package. This module imports only the standard library.
"""
from __future__ import annotations

import importlib
import os
from types import ModuleType

NO_EXTENSIONS: bool = os.environ.get("OUTSIDE_NO_EXTENSIONS", "") not in ("", "0")
IMPORT_ERRORS: dict[str, str] = {}


def compiled_module(module: str) -> ModuleType | None:
    """The extension module ``outside._speedups.<module>``, or None (the reason is
    recorded in ``IMPORT_ERRORS``); a plain .py copy of a source (frames) does not count."""
    if NO_EXTENSIONS:
        return None
    try:
        loaded = importlib.import_module(f"{__name__}.{module}")
    except ImportError as exc:
        IMPORT_ERRORS[module] = str(exc)
        return None
    if str(getattr(loaded, "__file__", "")).endswith(".py"):
        IMPORT_ERRORS[module] = "found the Python source copy, not the compiled extension"
        return None
    return loaded
