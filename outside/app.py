"""The application: ``OutsideHTTP`` (routes and error handlers) and ``OutsideHTTP_Redirect``.

The engine (``outside.server``) owns sockets and workers; for each request it calls
``dispatch`` and for each request it cannot parse ``error_response``, then ``render``.
The test client (``outside.testing``) and the WSGI adapter (``outside.wsgi``) drive the
same steps without sockets.
"""
from __future__ import annotations

import copy
import functools
import logging
import signal
import threading
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
    Tuple,
    TypeVar,
    Union,
)
from urllib.parse import quote, urlsplit

from . import hooks as _hooks
from . import templating as _templating
from .compressing import compress_for_render
from .config import default_config
from .helpers import build_url
from .proxy import TrustedProxies
from .request import Request
from .response import Rendered, Response, ResponseError, render
from .routing import MountRouter, PrefixRouter, RouteConflictError, Rule, RuleMap, check_handler
from .status import STATUS_DESCRIPTIONS, get_description
from .websocket_route import WebSocket

if TYPE_CHECKING:  # imported where used: the engine, the test client and WSGI load on demand
    from .routing import RuleMatch
    from .server import Server
    from .testing import TestClient
    from .wsgi import WSGIApplication

logger = logging.getLogger("outside")

Handler = Callable[[Request], Any]
ErrorHandler = Callable[..., Response]
# What the decorators take and give back unchanged: a rule handler also takes the
# rule's variables, a WebSocket handler takes the connection.
RouteFunction = TypeVar("RouteFunction", bound=Callable[..., Any])
ErrorFunction = TypeVar("ErrorFunction", bound=ErrorHandler)


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
    ``HttpParserError`` (a malformed form: 400, a body over a limit: 413...) calls the
    handler of its ``status`` with its ``reason``. Any other exception, a status without
    an error handler, a result that is not a ``Response``,
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
        return _hooks.call_handler(self.request, self.route_function, self.error_routes)


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
        self._server: Optional[Server] = None
        self.hooks = _hooks.RequestHooks()
        self.blueprints: Dict[str, Any] = {}

    def set_errorhandler(self, errorcode: int, handler: ErrorHandler) -> None:
        """Answer status ``errorcode`` with ``handler(request, message=None) -> Response``.

        Raises ``HandlerSignatureError`` when ``handler`` cannot take ``(request, message)``.
        """
        check_handler(handler, f"error handler for {errorcode}", ["request", "message"])
        self._error_routes[errorcode] = handler

    def errorhandler(self, errorcode: Any) -> Callable[[ErrorFunction], ErrorFunction]:
        """Decorator form of ``set_errorhandler``::

            @server.errorhandler(404)
            def not_found(request, message=None):
                return Response(404, {}, f"nothing at {request.url}")

        Unlike Flask's, the handler gets the request and the message (``None``, or the
        text of a ``(status, message)`` tuple a handler returned, or of ``abort``), not
        an exception. ``errorcode`` may also be an exception class: ``f(request, exc)``
        then answers the exceptions of that class a handler raises (the most specific
        class registered wins); see ``register_error_handler``.
        """
        def register(handler: ErrorFunction) -> ErrorFunction:
            self.register_error_handler(errorcode, handler)
            return handler
        return register

    def register_error_handler(self, key: Any, handler: ErrorHandler) -> None:
        """``handler(request, message)`` for the status code ``key``, or
        ``handler(request, exc) -> Response`` for exceptions of the class ``key``."""
        if isinstance(key, int):
            self.set_errorhandler(key, handler)
        else:
            self.hooks.add_exception_handler(key, handler)

    def remove_errorhandler(self, errorcode: int) -> None:
        """Go back to the built-in handler for ``errorcode`` (a code outside the table loses its handler)."""
        if errorcode in STATUS_DESCRIPTIONS:
            self._error_routes[errorcode] = DefaultErrorHandler(errorcode)
        else:
            self._error_routes.pop(errorcode, None)

    def dispatch(self, request: Request) -> Union[Response, WebSocket]:
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

    def render(self, response: Response, request: Request, keep_alive: bool = True) -> Rendered:
        """``response`` serialized for ``request`` as the engine sends it; a response that
        must not be sent (``ResponseError``) is replaced by the 500 handler's."""
        try:
            response, json_body = compress_for_render(response, request, self.config)
            return render(response, request, keep_alive, self.config, json_body)
        except ResponseError as exc:
            logger.error("invalid response to %s: %s", request, exc)
            return render(self.error_response(500, request, str(exc)), request, False, self.config)

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
        TrustedProxies(self.config.get("forwarded_allow_ips"))  # a wrong entry stops here, not per request
        self._server = Server(self)
        previous = _install_stop_signals(self.terminate)
        try:
            self._server.run()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def publish(self, topic: str, message: Union[str, bytes]) -> None:
        """Send ``message`` to every WebSocket connection and ``EventStream`` subscribed
        to ``topic`` (``connection.subscribe(topic)``): ``str`` as a text message, ``bytes``
        as binary. From any handler or thread; it reaches the other worker processes
        (``config["pubsub"]`` ``"local"``) or every server on the same Redis
        (``"redis://..."``). Never blocks on a slow subscriber. Raises ``TypeError`` or
        ``ValueError`` for a topic that is not a ``str`` of 1 to 256 characters or a
        message that is neither ``str`` nor ``bytes``. See ``docs/pubsub.md``."""
        from .pubsub import publish
        publish(topic, message)

    def terminate(self, signum: Optional[int] = None, stackframe: Any = None) -> None:
        """Stop gracefully: no new connections, in-flight requests may finish within
        ``config["termination_timeout"]``. Safe from signal handlers and other threads."""
        self._terminate_process = True
        server = self._server
        if server is not None:
            server.stop()


class OutsideHTTP(BaseApp):
    """An HTTP (and WebSocket) server with routes and error handlers.

    ``OutsideHTTP(("127.0.0.1", 8080))``; then routes, and ``run()``. Three kinds of
    routes, tried in this order for each request:

    1. rules, Flask-style: ``@server.route("/users/<int:user_id>")`` and
       ``@server.websocket("/ws")`` (see ``outside.routing.rules``): the whole path must match;
    2. mounted WSGI applications: ``server.mount("/legacy", flask_app)``;
    3. prefix routes, as in 1.5.x: ``set_route("/hello", handler)``, the longest prefix
       of the path wins.

    None: the 404 handler. Before routing, the client's address and scheme are taken
    from forwarding headers when the peer is a trusted proxy (``outside.proxy``).
    """

    def __init__(self, host: Tuple[str, int]) -> None:
        super().__init__(host)
        self._router = PrefixRouter()
        self._routes: Dict[str, Any] = self._router.routes
        self._rules = RuleMap()
        self._mounts = MountRouter()
        self._proxies: Tuple[Any, Optional[TrustedProxies]] = (None, None)  # (config value, parsed)
        self._wsgi_app: Optional[WSGIApplication] = None
        self.root_path = _templating.caller_root_path()  # config["template_folder"] is relative to it
        self._jinja_env: Any = None

    def set_route(self, route: str, handler: Any) -> None:
        """Serve paths starting with ``route`` with ``handler(request)`` or a ``WebSocket``.

        Setting a route again replaces it (1.5.x). Raises ``HandlerSignatureError`` when
        ``handler`` cannot be called with the request alone.
        """
        if not isinstance(handler, WebSocket):
            check_handler(handler, "route handler", ["request"])
        self._router.add(route, handler)

    def remove_route(self, route: str) -> None:
        """Stop serving ``route`` (``KeyError`` if it is not set)."""
        self._router.remove(route)

    def add_url_rule(self, rule: str, handler: Union[Callable[..., Any], WebSocket],
                     methods: Optional[Iterable[str]] = None, endpoint: Optional[str] = None) -> None:
        """Serve the path pattern ``rule`` with ``handler(request, **variables)``.

        ``methods``: the HTTP methods served (default ``["GET"]``); HEAD is served
        wherever GET is, OPTIONS is answered with the ``Allow`` list, and another method
        gets the 405 handler's response with ``Allow``. ``endpoint``: the name for
        ``url_for`` (default: the handler's ``__name__``).

        ``handler`` may also be a ``WebSocket`` (blocking or event-driven): it serves
        the rule's WebSocket connections, whose handlers find the rule's variables in
        ``connection.request.view_args``; ``endpoint`` is then required.

        Raises ``RuleError`` for a malformed rule, ``RouteConflictError`` when the same
        rule already serves one of ``methods`` (or the endpoint name is taken) and
        ``HandlerSignatureError`` when ``handler`` cannot take the request and the
        rule's variables.
        """
        if isinstance(handler, WebSocket):
            if endpoint is None:
                raise TypeError("add_url_rule with a WebSocket needs an endpoint name")
            self._add_rule(rule, ["GET"], endpoint, handler)
        else:
            self._add_rule(rule, methods or ["GET"], endpoint or _name_of(handler), handler,
                           ("route handler", ["request"]))

    def _add_rule(self, rule: str, methods: Iterable[str], endpoint: str, function: Any,
                  signature: Optional[Tuple[str, List[str]]] = None,
                  build_target: Optional[Callable[[Rule], Any]] = None) -> None:
        """The one way into the rule map, for every kind of rule: parse ``rule``; when
        ``signature`` = (role, positional names) is given, check that ``function`` takes
        those and the rule's variables; the target is ``function`` itself or what
        ``build_target(parsed rule)`` makes of it; then register (conflict checks)."""
        parsed = Rule(rule, methods, endpoint, function)
        if signature is not None:
            role, positional = signature
            check_handler(function, role, positional, parsed.variables)
        if build_target is not None:
            parsed.target = build_target(parsed)
        self._rules.add(parsed, function)

    def route(self, rule: str, methods: Optional[Iterable[str]] = None,
              endpoint: Optional[str] = None) -> Callable[[RouteFunction], RouteFunction]:
        """Decorator form of ``add_url_rule``, as in Flask::

            @server.route("/users/<int:user_id>", methods=["GET", "POST"])
            def user(request, user_id):
                return Response(200, {}, {"id": user_id, "method": request.method})

        The handler gets the request, then each variable as a keyword argument (also
        in ``request.view_args``). It returns a ``Response`` or a ``(status, message)``
        tuple, as ``set_route`` handlers do. Unlike ``set_route``, the rule matches the
        whole path, not a prefix.
        """
        def register(handler: RouteFunction) -> RouteFunction:
            self.add_url_rule(rule, handler, methods, endpoint)
            return handler
        return register

    def websocket(self, rule: str, endpoint: Optional[str] = None,
                  on_exit: Optional[Callable[[], None]] = None,
                  **options: Any) -> Callable[[RouteFunction], RouteFunction]:
        """Decorator: the function runs for each WebSocket connection on ``rule``::

            @server.websocket("/rooms/<room>")
            def chat(connection, room):
                for message in connection:
                    connection.send(message)

        The function gets the ``WebSocketConnection`` and the rule's variables as
        keyword arguments. ``on_exit`` runs once when a connection ends; ``options``
        go to ``WebSocket`` (``allowed_origins``, ``subprotocols``, ``max_message_size``,
        ``compression``). A plain HTTP request to the rule gets the 400 handler.
        """
        def build_target(parsed: Rule) -> WebSocket:
            handler = parsed.target
            target = WebSocket(**options)
            if parsed.variables:
                target.on_connection(lambda connection: handler(
                    connection, **connection.request.view_args))
            else:
                target.on_connection(handler)
            if on_exit is not None:
                target.on_exit(on_exit)
            return target

        def register(handler: RouteFunction) -> RouteFunction:
            self._add_rule(rule, ["GET"], endpoint or _name_of(handler), handler,
                           ("WebSocket handler", ["connection"]), build_target)
            return handler
        return register

    def url_for(self, endpoint: str, _external: bool = False, _request: Optional[Request] = None,
                **values: Any) -> str:
        """The path of the rule named ``endpoint``, its variables filled from ``values``
        (percent-encoded); the other values become the query string, e.g.
        ``url_for("user", user_id=7, tab="posts")`` -> ``/users/7?tab=posts``.

        ``_request``: the request being answered, which ``".name"`` (the endpoint
        ``name`` of the request's blueprint) and ``_external=True`` (an absolute
        ``scheme://host/path`` URL from the request's scheme and ``Host``, as trusted
        proxies report them) need; ``request.url_for(...)`` passes it.
        Raises ``BuildError`` naming what is missing or unknown.
        """
        return build_url(self._rules, endpoint, values, _external, _request)

    def before_request(self, function: Callable[[Request], Any]) -> Callable[[Request], Any]:
        """Decorator: ``function(request)`` runs before every handler; when it returns a
        response (or a ``(status, message)`` tuple) that is the answer, and the handler
        does not run. See ``outside.hooks`` for the order with blueprints."""
        return self.hooks.add_before(function)

    def after_request(self, function: Callable[[Request, Response], Response]) -> Callable[..., Response]:
        """Decorator: ``function(request, response)`` returns the response to send (the
        same one, changed, or another), after every handler."""
        return self.hooks.add_after(function)

    def teardown_request(self, function: Callable[[Request, Optional[BaseException]], Any]) -> Callable[..., Any]:
        """Decorator: ``function(request, exc)`` runs at the end of every request, even
        when the handler failed: ``exc`` is the exception no error handler took, else
        ``None``. It runs before the response is written; exceptions are logged."""
        return self.hooks.add_teardown(function)

    def register_blueprint(self, blueprint: Any, url_prefix: Optional[str] = None) -> None:
        """Add the routes, hooks and templates of ``blueprint`` (``outside.Blueprint``),
        under ``url_prefix`` (default: the blueprint's own)."""
        blueprint.register(self, url_prefix)

    @property
    def jinja_env(self) -> Any:
        """The Jinja2 ``Environment`` of ``render_template`` (add filters and globals here);
        ``RuntimeError`` when Jinja2 is not installed."""
        if self._jinja_env is None:
            self._jinja_env = _templating.create_environment(self)
        return self._jinja_env

    def render_template(self, name: str, request: Optional[Request] = None, **context: Any) -> Response:
        """The template ``name`` rendered with ``context``, as a 200 ``Response`` (typed
        by the extension; set ``status_code`` for another status). Pass the ``request``
        (or call ``request.render_template``) so templates get ``request``, ``session``,
        ``get_flashed_messages`` and a ``url_for`` that knows it.
        See ``outside.templating``."""
        return _templating.template_response(self, name, request, context)

    def render_template_string(self, source: str, request: Optional[Request] = None, **context: Any) -> str:
        """The template text ``source`` rendered (autoescaped) with ``context``, as a str."""
        return _templating.render_text(self, None, source, request, context)

    def mount(self, prefix: str, application: Callable[..., Iterable[bytes]]) -> None:
        """Serve the WSGI ``application`` (Flask, Django...) for ``prefix`` and every
        path below it (``/legacy``, ``/legacy/...``; not ``/legacyfoo``). It sees
        ``SCRIPT_NAME`` = ``prefix`` and ``PATH_INFO`` = the rest (see ``outside.wsgi``).

        Raises ``RouteConflictError`` when ``prefix`` is already mounted.
        """
        from .wsgi import WSGIMount
        if not isinstance(prefix, str) or not prefix.startswith("/"):
            raise ValueError(f"mount prefix {prefix!r} must start with '/'")
        check_handler(application, "WSGI application", ["environ", "start_response"])
        if prefix in self._mounts.routes:
            raise RouteConflictError(f"{prefix!r} already serves {self._mounts.routes[prefix].application!r}; "
                                     f"mount each application under its own prefix")
        self._mounts.add(prefix, WSGIMount(application, prefix, self.config))

    @property
    def wsgi_app(self) -> WSGIApplication:
        """This app as a WSGI callable (``outside.wsgi.WSGIApplication``), e.g. for
        ``gunicorn mymodule:server.wsgi_app``."""
        if self._wsgi_app is None:
            from .wsgi import WSGIApplication
            self._wsgi_app = WSGIApplication(self)
        return self._wsgi_app

    def test_client(self, **options: Any) -> TestClient:
        """A client calling this app without sockets, for unit tests
        (``outside.testing.TestClient``; ``options`` go to it)::

            client = server.test_client()
            assert client.get("/users/7").json() == {"id": 7, "method": "GET"}
        """
        from .testing import TestClient
        return TestClient(self, **options)

    def dispatch(self, request: Request) -> Union[Response, WebSocket]:
        """The answer to ``request``; never raises.

        First the trusted-proxy headers are applied. Then rules, mounts and prefix
        routes are tried in that order (see the class docstring); none: the 404
        handler. A ``WebSocket`` target is returned as it is when the request asks for
        a WebSocket upgrade (the engine performs the handshake), else the 400 handler
        answers. A function target runs through ``ScheduledResponse``.
        ``config["pre_send"]`` is applied to every ``Response`` returned.
        """
        if self.config.get("forwarded_allow_ips"):
            self._apply_proxies(request)
        request.app = self
        path = request.url
        if self._rules.rules:
            found = self._rules.match(path, request.method)
            if found is not None:
                return self._answer_rule(request, found)
        target = self._mounts.match(path) if self._mounts.routes else None
        if target is None:
            target = self._router.match(path)
        return self._answer(request, target)

    def _answer(self, request: Request, target: Any) -> Union[Response, WebSocket]:
        if target is None:
            target = _not_found
        elif isinstance(target, WebSocket):
            if _is_websocket_upgrade(request):
                return target
            target = _websocket_only
        response = _hooks.respond(self, request, target)
        return response if self.config.get("pre_send") is None else self._pre_send(response, request)

    def _answer_rule(self, request: Request, found: RuleMatch) -> Union[Response, WebSocket]:
        rule = found.rule
        if rule is not None:
            request.blueprint = rule.endpoint.rpartition(".")[0] or None
            request.view_args = values = found.values
            target = rule.target
            if values and not isinstance(target, WebSocket):
                target = functools.partial(target, **values)
            return self._answer(request, target)
        if found.redirect is not None:
            query = request.target.partition("?")[2]
            location = quote(found.redirect, safe="/:@!$&'()*+,;=-._~") + ("?" + query if query else "")
            response = Response(308, {"Location": location}, "")
        else:
            allow = ", ".join(sorted(found.allowed))
            if request.method == "OPTIONS":
                response = Response(200, {"Allow": allow}, None)
            else:
                response = call_error_handler(self._error_routes, 405, request,
                                              f"{request.url} accepts {allow}.")
                response.headers["Allow"] = allow
        return self._pre_send(_hooks.respond(self, request, lambda _request: response), request)

    def _apply_proxies(self, request: Request) -> None:
        """Trust forwarding headers from ``config["forwarded_allow_ips"]`` (parsed once
        per value; an invalid value is logged and trusts no one)."""
        allow = self.config.get("forwarded_allow_ips")
        if not allow:
            return
        source, proxies = self._proxies
        if allow != source:
            try:
                proxies = TrustedProxies(allow)
            except ValueError as exc:
                logger.error("%s; forwarding headers are ignored", exc)
                proxies = None
            self._proxies = (copy.copy(allow), proxies)
        if proxies is not None:
            proxies.apply(request)


def _not_found(request: Request) -> Tuple[int, None]:
    return (404, None)


def _websocket_only(request: Request) -> Tuple[int, str]:
    return (400, "This route only accepts WebSocket connections.")


def _name_of(handler: Any) -> str:
    """The default endpoint name: the function's name."""
    return getattr(handler, "__name__", None) or type(handler).__name__


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
