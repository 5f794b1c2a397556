"""The old import path of ``outside.routing.rules`` (Flask-style URL rules)."""
from __future__ import annotations

from .routing.rules import (  # noqa: F401 - re-exported
    CONVERTERS,
    BuildError,
    Converter,
    RouteConflictError,
    Rule,
    RuleError,
    RuleMap,
    RuleMatch,
)
