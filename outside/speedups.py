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


def _compiled(module: str, name: str) -> Any:
    if NO_EXTENSIONS:
        return None
    try:
        return getattr(importlib.import_module(f"outside._speedups.{module}"), name)
    except ImportError as exc:
        IMPORT_ERRORS[module] = str(exc)
        return None


# HTTP/1.1 request parser (llhttp in C; outside.http.parser in Python).
from .http.parser import RequestParser as RequestParserPy  # noqa: E402

RequestParserC = _compiled("_http_parser", "RequestParser")
RequestParser = RequestParserC or RequestParserPy

_COMPILED = [RequestParserC]
ACTIVE: str = "c" if all(twin is not None for twin in _COMPILED) else "python"

__all__ = ["ACTIVE", "IMPORT_ERRORS", "NO_EXTENSIONS", "RequestParser", "RequestParserC", "RequestParserPy"]
