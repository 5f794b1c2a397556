"""The check made when a handler is registered: can the server call it as it will?"""
from __future__ import annotations

import inspect
from typing import Any, Iterable


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
