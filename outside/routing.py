"""Route lookup (which target serves a request path) and the checks made when a
handler is registered."""
from __future__ import annotations

import inspect
from typing import Any, Dict, Iterable, List, Optional


class PrefixRouter:
    """Routes that match by prefix, the longest first (the 1.5.x rule).

    With ``/`` and ``/api``: ``/api/users`` goes to ``/api``, ``/x`` to ``/``. Matching is
    plain string prefix (``/api`` also matches ``/apiary``), as in 1.5.x. ``routes`` is
    the live dict route -> target; ``add``/``remove`` keep the lookup order current (a
    route added to or deleted from the dict directly is noticed on the next match).
    """

    def __init__(self) -> None:
        self.routes: Dict[str, Any] = {}
        self._longest_first: List[str] = []

    def add(self, route: str, target: Any) -> None:
        """Serve paths starting with ``route`` with ``target`` (replacing any previous one)."""
        self.routes[route] = target
        self._reorder()

    def remove(self, route: str) -> None:
        """Forget ``route``; ``KeyError`` if it was not set."""
        del self.routes[route]
        self._reorder()

    def match(self, path: str) -> Optional[Any]:
        """The target of the longest route that ``path`` starts with, or ``None``."""
        target = self.routes.get(path)
        if target is not None:
            return target
        if len(self._longest_first) != len(self.routes):  # 1.5.x code may edit ``_routes`` directly
            self._reorder()
        for route in self._longest_first:
            if self._covers(route, path):
                target = self.routes.get(route)
                if target is not None:
                    return target
        return None

    def _covers(self, route: str, path: str) -> bool:
        return path.startswith(route)

    def _reorder(self) -> None:
        self._longest_first = sorted(self.routes, key=len, reverse=True)


class MountRouter(PrefixRouter):
    """Prefixes that match whole path segments only: ``/legacy`` serves ``/legacy`` and
    ``/legacy/...`` but not ``/legacyfoo`` (what a mounted application expects)."""

    def _covers(self, route: str, path: str) -> bool:
        return path.startswith(route) and (len(path) == len(route) or route.endswith("/")
                                           or path[len(route)] == "/")


class HandlerSignatureError(TypeError):
    """A handler whose parameters cannot take what the server passes to it."""


def check_handler(handler: Any, role: str, positional: Iterable[str],
                  keywords: Iterable[str] = ()) -> None:
    """Make sure ``handler`` can be called with the ``positional`` arguments and the
    ``keywords``, as the server will call it; ``HandlerSignatureError`` saying how to
    define it otherwise (``TypeError`` when it is not callable at all).

    ``role`` names the handler in the message (``"route handler"``...). Callables whose
    signature cannot be read (some built-ins) are accepted unchecked.
    """
    if not callable(handler):
        raise TypeError(f"the {role} must be callable, not {type(handler).__name__} {handler!r}")
    positional, keywords = list(positional), list(keywords)
    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*positional, **dict.fromkeys(keywords))
    except TypeError as exc:
        name = getattr(handler, "__name__", type(handler).__name__)
        call = ", ".join(positional + [f"{keyword}=..." for keyword in keywords])
        wanted = ", ".join(positional + keywords)
        raise HandlerSignatureError(
            f"the {role} {name}{signature} cannot be called as {name}({call}) ({exc}); "
            f"define it as: def {name}({wanted}): ...") from None
