"""Cookies; they live in ``outside.http.cookies`` (this path stays importable)."""
from .http.cookies import ResponseCookie, parse_cookie

__all__ = ["ResponseCookie", "parse_cookie"]
