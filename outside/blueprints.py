"""``Blueprint``: a group of routes, hooks, error handlers and templates registered on
an app under a name (endpoints ``"name.function"``) and an optional URL prefix."""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Type, Union

from .hooks import RequestHooks
from .routing import check_handler
from .templating import caller_root_path

Handler = Callable[..., Any]
Deferred = Callable[[Any, str], None]  # (app, url prefix)


def join_prefix(prefix: Optional[str], rule: str) -> str:
    """``/admin`` + ``/users`` -> ``/admin/users``; ``/admin`` + ``/`` -> ``/admin/``."""
    if not prefix:
        return rule
    return prefix.rstrip("/") + rule


class Blueprint:
    """Routes and hooks to register on an app with ``server.register_blueprint(bp)``::

        admin = Blueprint("admin", url_prefix="/admin")

        @admin.route("/")
        def index(request):
            return Response(200, {}, request.url_for(".index"))   # "/admin/"

    ``route``, ``add_url_rule`` and ``websocket`` take the same arguments as on the app;
    endpoints become ``"admin.index"`` (``".index"`` inside the blueprint's own
    handlers and templates). ``before_request``, ``after_request``, ``teardown_request``
    and ``errorhandler`` hooks run only for the blueprint's routes. ``template_folder``
    (relative to the directory of the module creating the blueprint) is searched after
    the app's.
    """

    def __init__(self, name: str, url_prefix: Optional[str] = None,
                 template_folder: Optional[str] = None) -> None:
        if not name or "." in name:
            raise ValueError(f"a blueprint name must be non-empty without '.', not {name!r}")
        if url_prefix is not None and not url_prefix.startswith("/"):
            raise ValueError(f"url_prefix {url_prefix!r} must start with '/'")
        self.name = name
        self.url_prefix = url_prefix
        self.template_folder = template_folder
        self.root_path = caller_root_path()
        self.hooks = RequestHooks()
        self._deferred: List[Deferred] = []
        self._registrations: List[Tuple[Any, str]] = []

    def _record(self, deferred: Deferred) -> None:
        self._deferred.append(deferred)
        for app, prefix in self._registrations:  # already registered: apply now too
            deferred(app, prefix)

    def add_url_rule(self, rule: str, handler: Handler, methods: Optional[Iterable[str]] = None,
                     endpoint: Optional[str] = None) -> None:
        """``app.add_url_rule`` with ``rule`` under the prefix and the endpoint under the name."""
        name = f"{self.name}.{endpoint or getattr(handler, '__name__', type(handler).__name__)}"
        methods = list(methods) if methods is not None else None
        self._record(lambda app, prefix: app.add_url_rule(join_prefix(prefix, rule), handler, methods, name))

    def route(self, rule: str, methods: Optional[Iterable[str]] = None,
              endpoint: Optional[str] = None) -> Callable[[Handler], Handler]:
        """Decorator form of ``add_url_rule`` (see ``OutsideHTTP.route``)."""
        def register(handler: Handler) -> Handler:
            self.add_url_rule(rule, handler, methods, endpoint)
            return handler
        return register

    def websocket(self, rule: str, endpoint: Optional[str] = None,
                  on_exit: Optional[Callable[[], None]] = None, **options: Any) -> Callable[[Handler], Handler]:
        """Decorator: a WebSocket route (see ``OutsideHTTP.websocket``)."""
        def register(handler: Handler) -> Handler:
            name = f"{self.name}.{endpoint or handler.__name__}"
            self._record(lambda app, prefix: app.websocket(join_prefix(prefix, rule), name, on_exit,
                                                           **options)(handler))
            return handler
        return register

    def before_request(self, function: Handler) -> Handler:
        """``function(request)`` before each of this blueprint's handlers (after the app's);
        a response it returns answers instead of the handler."""
        return self.hooks.add_before(function)

    def after_request(self, function: Handler) -> Handler:
        """``function(request, response) -> response`` after each of this blueprint's handlers."""
        return self.hooks.add_after(function)

    def teardown_request(self, function: Handler) -> Handler:
        """``function(request, exc)`` at the end of each of this blueprint's requests."""
        return self.hooks.add_teardown(function)

    def register_error_handler(self, key: Union[int, Type[BaseException]], function: Handler) -> None:
        """``function`` answers status ``key`` (``f(request, message)``) or exceptions of
        the class ``key`` (``f(request, exc)``) raised by this blueprint's handlers."""
        if isinstance(key, int):
            check_handler(function, f"error handler for {key}", ["request", "message"])
            self.hooks.status_handlers[key] = function
        else:
            self.hooks.add_exception_handler(key, function)

    def errorhandler(self, key: Union[int, Type[BaseException]]) -> Callable[[Handler], Handler]:
        """Decorator form of ``register_error_handler``."""
        def register(function: Handler) -> Handler:
            self.register_error_handler(key, function)
            return function
        return register

    def render_template(self, name: str, request: Any = None, **context: Any) -> Any:
        """``render_template`` of the app this blueprint is registered on (the request's
        app when given); the blueprint's ``template_folder`` is searched after the app's."""
        app = request.app if request is not None and request.app is not None else None
        if app is None:
            if not self._registrations:
                raise RuntimeError(f"blueprint {self.name!r} is not registered on an app yet")
            app = self._registrations[0][0]
        return app.render_template(name, request, **context)

    def register(self, app: Any, url_prefix: Optional[str] = None) -> None:
        """Add everything recorded to ``app`` (what ``app.register_blueprint`` calls)."""
        registered: Dict[str, Any] = app.blueprints
        if registered.get(self.name) not in (None, self):
            raise ValueError(f"another blueprint named {self.name!r} is already registered")
        if any(existing is app for existing, _ in self._registrations):
            raise ValueError(f"blueprint {self.name!r} is already registered on this app")
        prefix = url_prefix if url_prefix is not None else (self.url_prefix or "")
        registered[self.name] = self
        self._registrations.append((app, prefix))
        for deferred in self._deferred:
            deferred(app, prefix)

    def __repr__(self) -> str:
        return f"<Blueprint {self.name!r}>"
