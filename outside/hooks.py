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
from typing import Any, Callable, Dict, List, Optional, Tuple, Type

# call_error_handler and friends; outside.app imports this module while it loads
from . import app as _app
from .helpers import HTTPError
from .http.errors import HttpParserError
from .request import Request
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


def _exception_handler(scopes: Tuple[RequestHooks, ...], exc: BaseException) -> Optional[ExceptionHandler]:
    """The handler of the most specific class of ``exc`` (a blueprint's before the app's)."""
    for scope in scopes:
        if scope.exception_handlers:
            for cls in type(exc).__mro__:
                handler = scope.exception_handlers.get(cls)
                if handler is not None:
                    return handler
    return None


def respond(app: _app.OutsideHTTP, request: Request, target: Callable[[Any], Any]) -> Response:
    """``target(request)`` as a ``Response``, with the hooks of the app and of the
    request's blueprint, the error handlers and the session; never raises."""
    blueprint = app.blueprints.get(request.blueprint) if request.blueprint else None
    error_routes: Any = app._error_routes
    if blueprint is None:
        if not app.hooks:  # the common case: nothing runs around the handler
            response, _ = _call(request, target, (), error_routes)
            return response if "_session" not in request.__dict__ else _finish(request, response, (), error_routes)[0]
        scopes: Tuple[RequestHooks, ...] = (app.hooks,)
    else:
        scopes = (blueprint.hooks, app.hooks)
        if blueprint.hooks.status_handlers:
            error_routes = ChainMap(blueprint.hooks.status_handlers, error_routes)
    unhandled: Optional[BaseException] = None
    try:
        response, unhandled = _call(request, target, scopes, error_routes)
        response, failure = _finish(request, response, scopes, error_routes)
        unhandled = failure or unhandled
        return response
    finally:
        for scope in scopes:
            for teardown in reversed(scope.teardown):
                try:
                    teardown(request, unhandled)
                except Exception as exc:  # logged; the other hooks still run
                    logger.error("teardown_request hook %r failed", teardown, exc_info=exc)


def _call(request: Request, target: Callable[[Any], Any], scopes: Tuple[RequestHooks, ...],
          error_routes: Any) -> Tuple[Response, Optional[BaseException]]:
    """The ``before_request`` hooks (the app's first), then the handler unless one
    answered: (the response, the exception no error handler took)."""
    try:
        result = _before(request, scopes) if scopes else None
        if result is None:
            result = target(request)
        if type(result) is Response and type(result.headers) is dict:  # the common case, inline
            status = result.status_code
            if type(status) is int and 100 <= status <= 999:
                return result, None
        if isinstance(result, tuple):  # (status, message), as in 1.5.x
            status, message = result
            if error_routes.get(status) is None:
                raise LookupError(f"no error handler for status {status!r}")
            result = _app.call_error_handler(error_routes, status, request, message)
        return _app._checked_response(result), None
    except HTTPError as exc:
        return _app.call_error_handler(error_routes, exc.status, request, exc.message), None
    except HttpParserError as exc:  # e.g. a malformed form or a body over a limit: its status
        return _app.call_error_handler(error_routes, exc.status, request, exc.reason), None
    except Exception as exc:  # noqa: BLE001 - logged there; the answer is the 500 page
        return _handle_exception(scopes, error_routes, request, target, exc)


def _before(request: Request, scopes: Tuple[RequestHooks, ...]) -> Any:
    """The first answer of a ``before_request`` hook (the app's hooks first), or ``None``."""
    for scope in reversed(scopes):
        for hook in scope.before:
            result = hook(request)
            if result is not None:
                return result
    return None


def call_handler(request: Request, target: Callable[[Any], Any], error_routes: Any) -> Response:
    """``target(request)`` as a ``Response`` with no hooks around it (``ScheduledResponse``)."""
    return _call(request, target, (), error_routes)[0]


def _finish(request: Request, response: Response, scopes: Tuple[RequestHooks, ...],
            error_routes: Any) -> Tuple[Response, Optional[BaseException]]:
    """The ``after_request`` hooks (the blueprint's first, last registered first), then
    the session saved: (the response, the exception that made it a 500 instead)."""
    try:
        for scope in scopes:
            for after in reversed(scope.after):
                response = after(request, response)
                if not isinstance(response, Response):
                    raise TypeError(f"the after_request hook {after!r} returned "
                                    f"{type(response).__name__}, not the Response")
        save_session(request, response)
        return response, None
    except Exception as exc:
        logger.error("after_request on %s %s failed", request.method, request.target, exc_info=exc)
        return _app.call_error_handler(error_routes, 500, request, _app._failure_message(exc)), exc


def _handle_exception(scopes: Tuple[RequestHooks, ...], error_routes: Any, request: Request, target: Any,
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
