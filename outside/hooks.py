"""Request hooks (``before_request``, ``after_request``, ``teardown_request``) and
error handlers for exception classes, for an app and for each blueprint; and
``respond``, the one place where a handler call becomes a response with them.

Order for a request served by a blueprint's route (as in Flask): the app's
``before_request`` hooks then the blueprint's, in registration order (the first one
returning a response answers and the handler does not run); the handler; the
blueprint's ``after_request`` hooks then the app's, last registered first; the session
is saved; then ``teardown_request`` hooks (blueprint's, then app's, last registered
first) always run, with the exception that was not handled (or ``None``).
"""
from __future__ import annotations

import logging
from collections import ChainMap
from typing import Any, Callable, Dict, List, Optional, Type, Union

# call_error_handler and friends; outside.app imports this module while it loads
from . import app as _app
from .helpers import HTTPError
from .response import Response
from .routing import check_handler
from .sessions import save_session

logger = logging.getLogger("outside")
ExceptionHandler = Callable[[Any, BaseException], Response]


class RequestHooks:
    """The hooks and error handlers of one scope (an app or a blueprint)."""

    def __init__(self) -> None:
        self.before: List[Callable[[Any], Any]] = []
        self.after: List[Callable[[Any, Response], Response]] = []
        self.teardown: List[Callable[[Any, Optional[BaseException]], Any]] = []
        self.exception_handlers: Dict[Type[BaseException], ExceptionHandler] = {}
        self.status_handlers: Dict[int, Callable[..., Response]] = {}  # blueprints only

    def __bool__(self) -> bool:
        return bool(self.before or self.after or self.teardown or self.exception_handlers)

    def add_before(self, function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        check_handler(function, "before_request hook", ["request"])
        self.before.append(function)
        return function

    def add_after(self, function: Callable[[Any, Response], Response]) -> Callable[[Any, Response], Response]:
        check_handler(function, "after_request hook", ["request", "response"])
        self.after.append(function)
        return function

    def add_teardown(self, function: Callable[[Any, Optional[BaseException]], Any]) -> Callable[..., Any]:
        check_handler(function, "teardown_request hook", ["request", "exc"])
        self.teardown.append(function)
        return function

    def add_exception_handler(self, exception: Type[BaseException], function: ExceptionHandler) -> None:
        if not (isinstance(exception, type) and issubclass(exception, Exception)):
            raise TypeError(f"errorhandler takes a status code or an Exception subclass, not {exception!r}")
        check_handler(function, f"error handler for {exception.__name__}", ["request", "exc"])
        self.exception_handlers[exception] = function


def register_error_handler(hooks: RequestHooks, status_routes: Any, key: Union[int, Type[BaseException]],
                           function: Callable[..., Response]) -> None:
    """Register ``function`` for the status code or exception class ``key``."""
    if isinstance(key, int):
        check_handler(function, f"error handler for {key}", ["request", "message"])
        status_routes[key] = function
    else:
        hooks.add_exception_handler(key, function)  # TypeError for anything else


def _exception_handler(scopes: List[RequestHooks], exc: BaseException) -> Optional[ExceptionHandler]:
    """The handler of the most specific class of ``exc`` (a blueprint's before the app's)."""
    for scope in scopes:
        if scope.exception_handlers:
            for cls in type(exc).__mro__:
                handler = scope.exception_handlers.get(cls)
                if handler is not None:
                    return handler
    return None


def respond(app: Any, request: Any, target: Callable[[Any], Any]) -> Response:
    """``target(request)`` as a ``Response``, with the hooks of the app and of the
    request's blueprint, the error handlers and the session; never raises."""
    blueprint = app.blueprints.get(request.blueprint) if request.blueprint else None
    scopes: List[RequestHooks] = [blueprint.hooks, app.hooks] if blueprint is not None else [app.hooks]
    error_routes: Any = app._error_routes
    if blueprint is not None and blueprint.hooks.status_handlers:
        error_routes = ChainMap(blueprint.hooks.status_handlers, error_routes)
    unhandled: Optional[BaseException] = None
    try:
        try:
            result = None
            for hook in app.hooks.before + (blueprint.hooks.before if blueprint is not None else []):
                result = hook(request)
                if result is not None:
                    break
            if result is None:
                result = target(request)
            if isinstance(result, tuple):  # (status, message), as in 1.5.x
                status, message = result
                if error_routes.get(status) is None:
                    raise LookupError(f"no error handler for status {status!r}")
                result = _app.call_error_handler(error_routes, status, request, message)
            response = _app._checked_response(result)
        except HTTPError as exc:
            response = _app.call_error_handler(error_routes, exc.status, request, exc.message)
        except Exception as exc:  # noqa: BLE001 - logged there; the answer is the 500 page
            response, unhandled = _handle_exception(scopes, error_routes, request, target, exc)
        try:
            for scope in scopes:
                for after in reversed(scope.after):
                    response = after(request, response)
                    if not isinstance(response, Response):
                        raise TypeError(f"the after_request hook {after!r} returned "
                                        f"{type(response).__name__}, not the Response")
            save_session(request, response)
        except Exception as exc:
            logger.error("after_request on %s %s failed", request.method, request.target, exc_info=exc)
            unhandled = exc
            response = _app.call_error_handler(error_routes, 500, request, _app._failure_message(exc))
        return response
    finally:
        for scope in scopes:
            for teardown in reversed(scope.teardown):
                try:
                    teardown(request, unhandled)
                except Exception as exc:  # logged; the other hooks still run
                    logger.error("teardown_request hook %r failed", teardown, exc_info=exc)


def _handle_exception(scopes: List[RequestHooks], error_routes: Any, request: Any, target: Any,
                      exc: Exception) -> Any:
    """(response, the exception if no handler took it) for an exception of a handler."""
    handler = _exception_handler(scopes, exc)
    if handler is not None:
        try:
            return _app._checked_response(handler(request, exc)), None
        except Exception as failure:
            logger.error("The error handler for %s failed", type(exc).__name__, exc_info=failure)
            return _app.call_error_handler(error_routes, 500, request, _app._failure_message(failure)), exc
    logger.error("Handler %r failed on %s %s", target, request.method, request.target, exc_info=exc)
    return _app.call_error_handler(error_routes, 500, request, _app._failure_message(exc)), exc
