"""Logging set-up: the ``outside`` logger says little (start-up, errors) unless asked.

When the application has configured no logging, a handler on ``outside`` prints
start-up lines and errors to stderr. Access lines (``outside.access``) are only
produced when the application routes that logger somewhere, so the request path pays
nothing for a log nobody reads.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

logger = logging.getLogger("outside")


class _NotAccess(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith("outside.access")


def configure(config: Mapping[str, Any]) -> None:
    """Install the default stderr handler when nothing else handles ``outside`` records."""
    level = config.get("log_level") or "INFO"
    if logger.hasHandlers():  # the application (or an earlier run) decided
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] %(levelname)s %(message)s"))
    handler.addFilter(_NotAccess())
    logger.addHandler(handler)
    logger.setLevel(level)
    # Access lines stay off unless the application configures outside.access itself.
    access = logging.getLogger("outside.access")
    if not access.handlers and access.level == logging.NOTSET:
        access.setLevel(logging.WARNING)
