"""Prefix routes (the 1.5.x ``set_route`` rule) and segment-wise mount prefixes."""
from __future__ import annotations

from typing import Any, Dict, List, Optional


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
