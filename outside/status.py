"""Status phrases; they live in ``outside.http.status`` (this path stays importable)."""
from .http.status import STATUS_DESCRIPTIONS, get_description

__all__ = ["STATUS_DESCRIPTIONS", "get_description"]
