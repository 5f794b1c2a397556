"""The header dict; it lives in ``outside.http.headers`` (this path stays importable)."""
from .http.headers import TOKEN, Headers, get_insensitive_header

__all__ = ["TOKEN", "Headers", "get_insensitive_header"]
