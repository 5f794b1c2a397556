"""Routing: which target serves a request path.

* ``outside.routing.rules``: Flask-style rules (``/users/<int:user_id>``), matched whole,
  with converters and ``url_for`` building;
* ``outside.routing.prefix``: 1.5.x prefix routes (``set_route``) and WSGI mount prefixes;
* ``outside.routing.handlers``: the signature check made when a handler is registered.

Every name is re-exported here; ``outside.rules`` stays as an alias of
``outside.routing.rules``.
"""
from __future__ import annotations

from .handlers import HandlerSignatureError, check_handler
from .prefix import MountRouter, PrefixRouter
from .rules import (
    CONVERTERS,
    BuildError,
    Converter,
    RouteConflictError,
    Rule,
    RuleError,
    RuleMap,
    RuleMatch,
)

__all__ = [
    "CONVERTERS", "BuildError", "Converter", "HandlerSignatureError", "MountRouter",
    "PrefixRouter", "RouteConflictError", "Rule", "RuleError", "RuleMap", "RuleMatch",
    "check_handler",
]
