"""Flask-style URL rules: ``/users/<int:user_id>`` matched to handlers and built back.

A rule is a path with variables in angle brackets, ``<name>`` or ``<converter:name>``.
The converters:

===========  ==========================================  =====================
converter    matches                                     handler receives
===========  ==========================================  =====================
``str``      one path segment (no ``/``), the default     ``str``
``int``      ASCII digits                                ``int`` (0 or more)
``float``    digits, a dot, digits (``1.5``; not ``1``)  ``float``
``path``     the rest, slashes included                  ``str``
``uuid``     ``8-4-4-4-12`` hexadecimal                  ``uuid.UUID``
===========  ==========================================  =====================

Rules match the decoded path (``Request.url``), whole, not by prefix. Where several
rules match, static segments beat variables, typed variables beat ``str`` and ``str``
beats ``path``, so ``/users/new`` wins over ``/users/<name>`` whatever the order of
registration. A rule ending in ``/`` also answers the path without it, with a 308
redirect to the canonical URL (as Flask does).
"""
from __future__ import annotations

import re
import uuid
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Mapping, Optional, Set, Tuple
from urllib.parse import quote, urlencode


class RuleError(ValueError):
    """A rule that cannot be parsed (bad syntax, unknown converter, repeated name)."""


class RouteConflictError(ValueError):
    """A rule registered twice for the same method, or an endpoint name used twice."""


class BuildError(LookupError):
    """``url_for`` cannot build a URL: unknown endpoint, missing or unfit value."""


class Converter:
    """How one kind of variable is matched (``regex``), read (``to_python``) and written
    back into a URL (``to_url``). ``weight`` orders rules: lower is more specific."""

    def __init__(self, regex: str, to_python: Callable[[str], Any], weight: int,
                 accepts: Callable[[Any], bool] = lambda value: True,
                 safe: str = "") -> None:
        self.regex = regex
        self.to_python = to_python
        self.weight = weight
        self._accepts = accepts
        self._safe = safe
        self._full = re.compile(regex + r"\Z")

    def to_url(self, value: Any) -> Optional[str]:
        """``value`` as URL text (percent-encoded), or ``None`` when this converter
        would not match it back."""
        if not self._accepts(value):
            return None
        text = str(value)
        if not self._full.match(text):
            return None
        return quote(text, safe=self._safe)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_float(value: Any) -> bool:
    return isinstance(value, float) and value >= 0


def _is_uuid(value: Any) -> bool:
    return isinstance(value, (uuid.UUID, str))


CONVERTERS: Dict[str, Converter] = {
    "int": Converter(r"[0-9]+", int, 1, _is_int),
    "float": Converter(r"[0-9]+\.[0-9]+", float, 1, _is_float),
    "uuid": Converter(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
                      uuid.UUID, 1, _is_uuid),
    "str": Converter(r"[^/]+", str, 2),
    "path": Converter(r"[^/].*?", str, 3, safe="/"),
}
CONVERTERS["string"] = CONVERTERS["str"]  # Werkzeug's name
_STATIC_WEIGHT = 0
_END_WEIGHT = 4  # sorts a rule that ends before one that goes on, at the same position

_VARIABLE = re.compile(r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*):)?(?P<name>[^<>:]*)>")


def _segment_weights(pattern: str) -> Tuple[int, ...]:
    """The rule's sort key: per path segment, 0 when static, else its least specific
    converter's weight; then an end mark that sorts after any segment."""
    weights = []
    for segment in pattern[1:].split("/"):
        kinds = [match.group("converter") or "str" for match in _VARIABLE.finditer(segment)]
        weights.append(max((CONVERTERS[kind].weight for kind in kinds), default=_STATIC_WEIGHT))
    return tuple(weights) + (_END_WEIGHT,)


class Rule:
    """One parsed rule: ``pattern`` (as written), ``variables`` (name -> converter
    name), ``methods``, the ``endpoint`` name and the ``target`` it serves."""

    def __init__(self, pattern: str, methods: Iterable[str], endpoint: str, target: Any) -> None:
        if not isinstance(pattern, str) or not pattern.startswith("/"):
            raise RuleError(f"rule {pattern!r} must be a string starting with '/'")
        if isinstance(methods, str):
            raise RuleError(f"rule {pattern!r}: methods must be a list, e.g. methods=[{methods!r}]")
        self.pattern = pattern
        self.methods: FrozenSet[str] = frozenset(method.upper() for method in methods)
        self.endpoint = endpoint
        self.target = target
        self.variables: Dict[str, str] = {}
        self._parts: List[Tuple[str, str]] = []  # ("static", text) or (converter name, variable name)
        regex: List[str] = []
        position = 0
        for match in _VARIABLE.finditer(pattern):
            static = pattern[position:match.start()]
            self._add_static(static, regex)
            converter_name = match.group("converter") or "str"
            name = match.group("name")
            converter = CONVERTERS.get(converter_name)
            if converter is None:
                known = ", ".join(sorted(CONVERTERS))
                raise RuleError(f"rule {pattern!r}: unknown converter {converter_name!r} (known: {known})")
            if not name.isidentifier():
                raise RuleError(f"rule {pattern!r}: {name!r} is not a valid variable name "
                                f"(it becomes a keyword argument of the handler)")
            if name in self.variables:
                raise RuleError(f"rule {pattern!r} names the variable {name!r} twice")
            self.variables[name] = converter_name
            self._parts.append((converter_name, name))
            regex.append(f"(?P<{name}>{converter.regex})")
            position = match.end()
        self._add_static(pattern[position:], regex)
        self._regex = re.compile("".join(regex) + r"\Z")
        # The variables whose text becomes another type (str and path stay text).
        self._typed = [(name, CONVERTERS[kind].to_python) for name, kind in self.variables.items()
                       if CONVERTERS[kind].to_python is not str]
        self.sort_key = _segment_weights(pattern)
        # The shape ignores variable names: /a/<int:x> and /a/<int:y> are the same rule.
        self.shape = tuple(text if kind == "static" else f"<{kind}>" for kind, text in self._parts)

    def _add_static(self, text: str, regex: List[str]) -> None:
        if not text:
            return
        if "<" in text or ">" in text:
            raise RuleError(f"rule {self.pattern!r}: unbalanced '<' or '>' near {text!r}; "
                            f"variables are written <name> or <converter:name>")
        self._parts.append(("static", text))
        regex.append(re.escape(text))

    def match(self, path: str) -> Optional[Dict[str, Any]]:
        """The converted variables when ``path`` matches this rule, else ``None``."""
        found = self._regex.match(path)
        if found is None:
            return None
        values = found.groupdict()
        for name, to_python in self._typed:
            try:
                values[name] = to_python(values[name])
            except ValueError:  # e.g. a float too odd to read: no match rather than a 500
                return None
        return values

    def build(self, values: Mapping[str, Any]) -> Optional[str]:
        """The path for ``values`` (which must hold every variable), or ``None`` when a
        value does not fit its converter."""
        pieces = []
        for kind, text in self._parts:
            if kind == "static":
                pieces.append(quote(text, safe="/:@!$&'()*+,;=-._~"))
                continue
            piece = CONVERTERS[kind].to_url(values[text])
            if piece is None:
                return None
            pieces.append(piece)
        return "".join(pieces)

    def allows(self, method: str) -> bool:
        """Whether this rule serves ``method`` (HEAD is served wherever GET is)."""
        return method in self.methods or (method == "HEAD" and "GET" in self.methods)

    def describe(self) -> str:
        return f"{'/'.join(sorted(self.methods))} {self.pattern}"


class RuleMatch:
    """The outcome of ``RuleMap.match``: the ``rule`` and its ``values`` when a rule
    serves the request; otherwise ``allowed`` (the methods the path does accept, for
    405/OPTIONS) or ``redirect`` (the path with its trailing slash)."""

    __slots__ = ("rule", "values", "allowed", "redirect")

    def __init__(self, rule: Optional[Rule] = None, values: Optional[Dict[str, Any]] = None,
                 allowed: FrozenSet[str] = frozenset(), redirect: Optional[str] = None) -> None:
        self.rule = rule
        self.values = values or {}
        self.allowed = allowed
        self.redirect = redirect


class RuleMap:
    """Every rule of an app: registration with conflict checks, matching, building."""

    def __init__(self) -> None:
        self.rules: List[Rule] = []
        self._endpoints: Dict[str, Any] = {}  # endpoint name -> the function behind it
        # Rules without variables by their path: such a rule, when it serves the method,
        # is the first match in sort order (nothing sorts before an all-static rule that
        # matches the same path), so one lookup answers it.
        self._static: Dict[str, List[Rule]] = {}
        # The rules a path must be tried against in order: those with variables (a static
        # rule matches its own path only, found above), and those ending with "/" (the
        # candidates for the redirect of a path without it).
        self._dynamic: List[Rule] = []
        self._slashed: List[Rule] = []

    def add(self, rule: Rule, function: Any) -> None:
        """Register ``rule``; ``RouteConflictError`` when a rule of the same shape
        already serves one of its methods, or its endpoint name belongs to another
        function."""
        for existing in self.rules:
            shared = existing.methods & rule.methods
            if existing.shape == rule.shape and shared:
                raise RouteConflictError(
                    f"{'/'.join(sorted(shared))} {rule.pattern} is already served by "
                    f"{existing.endpoint!r} (rule {existing.pattern!r}); remove one of them, "
                    f"or give them different methods=[...]")
        owner = self._endpoints.get(rule.endpoint)
        if owner is not None and owner is not function:
            raise RouteConflictError(
                f"the endpoint name {rule.endpoint!r} already belongs to {owner!r}; "
                f"pass endpoint='another_name' to route(), or rename the function")
        self._endpoints[rule.endpoint] = function
        self.rules.append(rule)
        self.rules.sort(key=lambda each: each.sort_key)  # stable: registration order breaks ties
        if not rule.variables:
            self._static.setdefault(rule.pattern, []).append(rule)
        self._dynamic = [each for each in self.rules if each.variables]
        self._slashed = [each for each in self.rules if each.pattern.endswith("/")]

    def match(self, path: str, method: str) -> Optional[RuleMatch]:
        """The rule serving ``method`` on ``path``; ``None`` when no rule has this path."""
        allowed: Set[str] = set()
        static = self._static.get(path)
        if static is not None:
            for rule in static:
                if rule.allows(method):
                    return RuleMatch(rule, {})
                allowed |= rule.methods
        for rule in self._dynamic:
            values = rule.match(path)
            if values is None:
                continue
            if rule.allows(method):
                return RuleMatch(rule, values)
            allowed |= rule.methods
        if allowed:
            if "GET" in allowed:
                allowed.add("HEAD")
            allowed.add("OPTIONS")
            return RuleMatch(allowed=frozenset(allowed))
        if self._slashed and not path.endswith("/"):
            slashed = path + "/"
            if any(rule.match(slashed) is not None for rule in self._slashed):
                return RuleMatch(redirect=slashed)
        return None

    def build(self, endpoint: str, values: Mapping[str, Any]) -> str:
        """The URL of ``endpoint`` with ``values``: variables fill the rule, the rest
        goes to the query string. Raises ``BuildError`` explaining what is wrong."""
        candidates = [rule for rule in self.rules if rule.endpoint == endpoint]
        if not candidates:
            known = ", ".join(sorted(self._endpoints)) or "none yet"
            raise BuildError(f"no route has the endpoint {endpoint!r} (endpoints: {known})")
        for rule in candidates:
            if not set(rule.variables) <= set(values):
                continue
            path = rule.build(values)
            if path is None:
                continue
            extra = [(name, value) for name, value in values.items()
                     if name not in rule.variables and value is not None]
            return path + ("?" + urlencode(extra, doseq=True) if extra else "")
        wanted = "; ".join(f"{rule.pattern} needs {', '.join(rule.variables) or 'nothing'}"
                           for rule in candidates)
        raise BuildError(f"cannot build a URL for {endpoint!r} from {dict(values)!r}: {wanted} "
                         f"(and each value must fit its converter)")
