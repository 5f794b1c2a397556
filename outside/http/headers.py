"""A header dict that is case-insensitive on lookup and keeps the names as sent."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: nothing beyond the standard library at run time
    from typing_extensions import Self

_MISSING = object()
# RFC 9110 section 5.6.2: what a field name (and a cookie name) may be made of.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")


class Headers(dict[Any, Any]):
    """A ``dict`` of header fields whose lookups ignore the case of the name.

    Iterating, ``keys()``, ``items()``, ``repr`` and ``dict(headers)`` show each name with
    the case it was first set with, exactly like a plain ``dict``; ``headers["content-type"]``,
    ``"CONTENT-TYPE" in headers``, ``get``, ``pop``, ``setdefault`` and ``del`` find it
    whatever the case. Setting a name that exists in another case replaces that entry.
    Merging (``update``, ``|``, ``|=``, ``setdefault``, ``fromkeys``) goes through that rule,
    ``|`` gives ``Headers``, and ``==`` compares names without their case.
    """

    __slots__ = ("_lower",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self._lower: dict[str, str] = {}
        self.update(*args, **kwargs)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Headers:
        """Headers from ``(name, value)`` pairs in wire order.

        Repeated names (in any case) are combined into one entry as RFC 9110 section 5.3
        allows: values joined with ``", "`` (``"; "`` for ``Cookie``, whose syntax needs
        it). The first occurrence's case names the entry.
        """
        headers = cls.__new__(cls)
        if not isinstance(pairs, list):
            pairs = list(pairs)
        lower = {name.lower(): name for name, _ in pairs}
        if len(lower) == len(pairs):  # no repeated name: the usual case, done in C
            dict.update(headers, pairs)
            headers._lower = lower
            return headers
        lower = {}
        for name, value in pairs:
            key = name.lower()
            raw = lower.get(key)
            if raw is None:
                lower[key] = name
                dict.__setitem__(headers, name, value)
            else:
                separator = "; " if key == "cookie" else ", "
                dict.__setitem__(headers, raw, dict.__getitem__(headers, raw) + separator + value)
        headers._lower = lower
        return headers

    def _raw(self, name: Any) -> Any:
        """The stored spelling of ``name``, or ``_MISSING``."""
        if dict.__contains__(self, name):
            return name
        if isinstance(name, str):
            return self._lower.get(name.lower(), _MISSING)
        return _MISSING

    def __getitem__(self, name: Any) -> Any:
        try:
            return dict.__getitem__(self, name)
        except KeyError:
            raw = self._raw(name)
            if raw is _MISSING:
                raise
            return dict.__getitem__(self, raw)

    def __setitem__(self, name: str, value: Any) -> None:
        key = name.lower()
        raw = self._lower.get(key)
        if raw is not None and raw != name:
            dict.__delitem__(self, raw)
        self._lower[key] = name
        dict.__setitem__(self, name, value)

    def __delitem__(self, name: Any) -> None:
        raw = self._raw(name)
        if raw is _MISSING:
            raise KeyError(name)
        dict.__delitem__(self, raw)
        del self._lower[raw.lower()]

    def __contains__(self, name: object) -> bool:
        return self._raw(name) is not _MISSING

    def get(self, name: Any, default: Any = None) -> Any:
        raw = self._raw(name)
        return default if raw is _MISSING else dict.__getitem__(self, raw)

    def pop(self, name: Any, default: Any = _MISSING) -> Any:
        raw = self._raw(name)
        if raw is _MISSING:
            if default is _MISSING:
                raise KeyError(name)
            return default
        del self._lower[raw.lower()]
        return dict.pop(self, raw)

    def popitem(self) -> tuple[str, Any]:
        name, value = dict.popitem(self)
        del self._lower[name.lower()]
        return name, value

    def setdefault(self, name: str, default: Any = None) -> Any:
        raw = self._raw(name)
        if raw is _MISSING:
            self[name] = default
            return default
        return dict.__getitem__(self, raw)

    def update(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > 1:
            raise TypeError(f"update expected at most 1 argument, got {len(args)}")
        if args:
            other = args[0]
            items = other.items() if isinstance(other, Mapping) else other
            for name, value in items:
                self[name] = value
        for name, value in kwargs.items():
            self[name] = value

    def clear(self) -> None:
        dict.clear(self)
        self._lower.clear()

    def copy(self) -> Headers:
        return Headers(self)

    def __or__(self, other: Any) -> Headers:
        if not isinstance(other, Mapping):
            return NotImplemented
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other: Any) -> Headers:
        if not isinstance(other, Mapping):
            return NotImplemented
        merged = Headers(other)
        merged.update(self)
        return merged

    def __ior__(self, other: Any) -> Self:
        self.update(other)
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        if not isinstance(other, Headers):
            other = Headers(other)
        return _folded(self) == _folded(other)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None

    def __reduce__(self) -> tuple[type, tuple[list[tuple[Any, Any]]]]:
        # The default would restore the items before ``_lower``, which ``__setitem__`` needs.
        return (Headers, (list(self.items()),))

    def __repr__(self) -> str:
        return f"Headers({dict.__repr__(self)})"


def _folded(headers: Headers) -> dict[Any, Any]:
    """``headers`` as a plain dict keyed by the lower-case names."""
    return {name.lower() if isinstance(name, str) else name: value for name, value in dict.items(headers)}


def get_insensitive_header(headers: Mapping[str, Any], name: str) -> Any | None:
    """The value of header ``name`` in ``headers``, matching the name case-insensitively.

    Works on any mapping (a plain ``dict`` too); ``None`` when the header is absent.
    """
    if isinstance(headers, Headers):
        return headers.get(name)
    value = headers.get(name, _MISSING)
    if value is not _MISSING:
        return value
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            return value
    return None
