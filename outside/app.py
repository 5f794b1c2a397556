"""The application: ``OutsideHTTP`` (routes and error handlers) and ``OutsideHTTP_Redirect``.

The engine (``outside.server``) owns sockets and workers; for each request it calls
``dispatch`` and for each request it cannot parse ``error_response``, then ``render``.
"""
from __future__ import annotations

import logging
import signal
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from .config import default_config
from .request import Request
from .response import Response
from .routing import PrefixRouter
from .status import STATUS_DESCRIPTIONS, get_description

try:  # written alongside this module; the package must import without it
    from .websocket import WebSocket
except ImportError:  # pragma: no cover - only while the WebSocket package is absent
    WebSocket = None  # type: ignore[assignment,misc]

logger = logging.getLogger("outside")

Handler = Callable[[Request], Any]
ErrorHandler = Callable[..., Response]


class DefaultErrorHandler:
    """The built-in handler for ``status``: ``"<code> <description> (<message>)"`` as text/plain."""

    __slots__ = ("status",)

    def __init__(self, status: int) -> None:
        self.status = status

    def __call__(self, request: Request, message: Optional[str] = None) -> Response:
        text = f"{self.status} {get_description(self.status)} ({message or 'No further information.'})"
        return Response(self.status, {"Content-Type": "text/plain; charset=utf-8"}, text)

    def __repr__(self) -> str:
        return f"DefaultErrorHandler({self.status})"


def _checked_response(result: Any) -> Response:
    """``result`` if it is a sendable ``Response``; ``TypeError``/``ValueError`` otherwise."""
    if not isinstance(result, Response):
        raise TypeError(f"a handler returned {type(result).__name__}, not a Response")
    if not isinstance(result.headers, dict):
        raise TypeError(f"Response.headers is a {type(result.headers).__name__}, not a dict")
    status = result.status_code
    if type(status) is not int or not 100 <= status <= 999:
        raise ValueError(f"invalid status code {status!r}")
    return result


def _failure_message(exc: BaseException) -> str:
    return f"Unhandled {type(exc).__name__} while handling the request."


def call_error_handler(error_routes: Dict[int, ErrorHandler], status: int,
                       request: Request, message: Optional[str] = None) -> Response:
    """The response of the error handler for ``status``; never raises.

    A status without a handler uses the built-in one. A handler that raises or returns
    something unsendable is logged and replaced by the 500 handler (by the built-in
    one when the failing handler is the 500 handler itself).
    """
    handler = error_routes.get(status)
    if handler is not None:
        try:
            return _checked_response(handler(request, message))
        except Exception as exc:
            logger.error("The error handler for %s failed", status, exc_info=exc)
            if status != 500:
                return call_error_handler(error_routes, 500, request, _failure_message(exc))
    return DefaultErrorHandler(status)(request, message)


class ScheduledResponse:
    """One call of a route handler, turned into a ``Response`` whatever the handler does.

    ``run()`` calls ``route_function(request)``. A ``Response`` is returned as it is; a
    ``(status, message)`` tuple calls ``error_routes[status](request, message)``. An
    exception, a status without an error handler, a result that is not a ``Response``,
    headers that are not a dict or a status code outside 100-999 give the 500 handler's
    response, with a message naming the exception class; the traceback is logged on the
    ``outside`` logger. Unlike 1.5.x, ``run()`` never returns ``None``.
    """

    def __init__(self, request: Request, route_function: Handler,
                 error_routes: Dict[int, ErrorHandler]) -> None:
        self.request = request
        self.route_function = route_function
        self.error_routes = error_routes

    def run(self) -> Response:
        """The handler's response (or the 500 handler's)."""
        request = self.request
        try:
            result = self.route_function(request)
            if isinstance(result, tuple):
                status, message = result
                handler = self.error_routes.get(status)
                if handler is None:
                    raise LookupError(f"no error handler for status {status!r}")
                result = handler(request, message)
            return _checked_response(result)
        except Exception as exc:
            logger.error("Handler %r failed on %s %s", self.route_function, request.method,
                         request.target, exc_info=exc)
            return call_error_handler(self.error_routes, 500, request, _failure_message(exc))


def _install_stop_signals(handler: Callable[..., None]) -> Dict[int, Any]:
    """Route SIGINT and SIGTERM to ``handler``; the replaced handlers (none off the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}


def _is_websocket_upgrade(request: Request) -> bool:
    return request.upgrade and "websocket" in request.headers.get("Upgrade", "").lower()


class BaseApp:
    """What every outside server has: config, error handlers, ``run`` and ``terminate``."""

    def __init__(self, host: Tuple[str, int]) -> None:
        self.config: Dict[str, Any] = default_config(host)
        self._error_routes: Dict[int, ErrorHandler] = {
            code: DefaultErrorHandler(code) for code in STATUS_DESCRIPTIONS}
        self._active_requests: List[Any] = []
        self._terminate_process = False
        self._server: Any = None

    def set_errorhandler(self, errorcode: int, handler: ErrorHandler) -> None:
        """Answer status ``errorcode`` with ``handler(request, message=None) -> Response``."""
        self._error_routes[errorcode] = handler

    def remove_errorhandler(self, errorcode: int) -> None:
        """Go back to the built-in handler for ``errorcode`` (a code outside the table loses its handler)."""
        if errorcode in STATUS_DESCRIPTIONS:
            self._error_routes[errorcode] = DefaultErrorHandler(errorcode)
        else:
            self._error_routes.pop(errorcode, None)

    def dispatch(self, request: Request) -> Any:
        """The ``Response`` for ``request`` (or a ``WebSocket`` to upgrade to); never raises."""
        raise NotImplementedError

    def error_response(self, status: int, request: Optional[Request], message: Optional[str] = None) -> Response:
        """The app's response for error ``status``, with ``pre_send`` applied; never raises.

        For the engine's own errors (parser errors 400/413/414/431/501/505, timeouts, a
        ``ResponseError`` from ``render`` -> 500). ``request`` may be ``None`` when none
        could be parsed: handlers then get a blank GET / request.
        """
        request = request if request is not None else Request.blank()
        return self._pre_send(call_error_handler(self._error_routes, status, request, message), request)

    def _pre_send(self, response: Response, request: Request) -> Response:
        """``config["pre_send"](response)``: its return value if it is a Response, else the (changed) one."""
        hook = self.config.get("pre_send")
        if hook is None:
            return response
        try:
            changed = hook(response)
        except Exception as exc:
            logger.error("pre_send %r failed", hook, exc_info=exc)
            return call_error_handler(self._error_routes, 500, request, _failure_message(exc))
        return changed if isinstance(changed, Response) else response

    def run(self) -> None:
        """Serve until ``terminate()`` (or SIGINT/SIGTERM). Blocks.

        When called from the main thread, SIGINT and SIGTERM call ``terminate`` while it
        runs (the previous handlers come back afterwards).
        """
        from .server import Server
        self._server = Server(self)
        previous = _install_stop_signals(self.terminate)
        try:
            self._server.run()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def terminate(self, signum: Optional[int] = None, stackframe: Any = None) -> None:
        """Stop gracefully: no new connections, in-flight requests may finish within
        ``config["termination_timeout"]``. Safe from signal handlers and other threads."""
        self._terminate_process = True
        server = self._server
        if server is not None:
            server.stop()


class OutsideHTTP(BaseApp):
    """An HTTP (and WebSocket) server with prefix routes and error handlers.

    ``OutsideHTTP(("127.0.0.1", 8080))``; ``set_route("/hello", handler)``; ``run()``.
    """

    def __init__(self, host: Tuple[str, int]) -> None:
        super().__init__(host)
        self._router = PrefixRouter()
        self._routes: Dict[str, Any] = self._router.routes

    def set_route(self, route: str, handler: Any) -> None:
        """Serve paths starting with ``route`` with ``handler(request)`` or a ``WebSocket``."""
        self._router.add(route, handler)

    def remove_route(self, route: str) -> None:
        """Stop serving ``route`` (``KeyError`` if it is not set)."""
        self._router.remove(route)

    def route(self, route: str) -> Callable[[Handler], Handler]:
        """Decorator form of ``set_route``."""
        def register(handler: Handler) -> Handler:
            self.set_route(route, handler)
            return handler
        return register

    def dispatch(self, request: Request) -> Any:
        """The answer to ``request``; never raises.

        The longest route that ``request.url`` starts with is used; none: the 404 handler.
        A ``WebSocket`` target is returned as it is when the request asks for a WebSocket
        upgrade (the engine performs the handshake), else the 400 handler answers. A
        function target runs through ``ScheduledResponse``. ``config["pre_send"]`` is
        applied to every ``Response`` returned.
        """
        target = self._router.match(request.url)
        if target is None:
            response = call_error_handler(self._error_routes, 404, request)
        elif WebSocket is not None and isinstance(target, WebSocket):
            if _is_websocket_upgrade(request):
                return target
            response = call_error_handler(self._error_routes, 400, request,
                                          "This route only accepts WebSocket connections.")
        else:
            response = ScheduledResponse(request, target, self._error_routes).run()
        return self._pre_send(response, request)


class OutsideHTTP_Redirect(BaseApp):
    """A server answering every request with 301 to ``destination`` + the request path
    without its leading ``/`` (query included): typically port 80 to the https site.

    A destination with no path at all (``https://example.com``) gets its ``/``: pasted
    onto the bare host, a path like ``/@evil.com`` would send clients to another host.
    """

    def __init__(self, host: Tuple[str, int], destination: str) -> None:
        super().__init__(host)
        if "://" in destination and not urlsplit(destination).path:
            destination += "/"
        self.destination = destination

    def location(self, request: Request) -> str:
        """Where ``request`` is sent."""
        target = request.target
        if not target.startswith("/"):  # absolute-form, "*" or authority-form
            parts = urlsplit(target) if "://" in target else None
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "") if parts else "/"
        return self.destination + target[1:]

    def dispatch(self, request: Request) -> Response:
        """301 to ``location(request)``."""
        response = Response(301, {"Location": self.location(request)}, "")
        return self._pre_send(response, request)
