"""The ``outside`` command line (also ``python -m outside``).

    outside                      serve the current directory on port 8000 (as 1.5.x did)
    outside serve [DIR]          serve DIR's files
    outside run module:server    run an app, like ``uvicorn module:app``
    outside echo                 a WebSocket echo server (``websocket`` is the 1.5.x name)
    outside demo                 the built-in demo page

``outside COMMAND --help`` explains each. Mistakes a user can fix (a port in use, an
unreadable certificate, an app that cannot be found, a route set up wrongly) print one
line and exit with 1.
"""
from __future__ import annotations

import argparse
import errno
import importlib
import os
import socket
import sys
import traceback
from typing import Any, Callable, List, Optional

from ._version import __version__
from .app import BaseApp, OutsideHTTP
from .routing import HandlerSignatureError
from .rules import BuildError, RouteConflictError, RuleError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
# Mistakes in setting up routes, reported with the user's line instead of a traceback.
SETUP_ERRORS = (BuildError, HandlerSignatureError, RouteConflictError, RuleError)


class CommandError(Exception):
    """A mistake the user can fix: printed as one line, exit status 1."""


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command in ``argv`` (default ``sys.argv[1:]``); the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    options = build_parser().parse_args(arguments or ["serve"])
    options.argv = arguments
    try:
        return options.handler(options)
    except CommandError as exc:
        print(f"outside: error: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command and its options."""
    parser = argparse.ArgumentParser(
        prog="outside", description="outside: an HTTP/1.1 and WebSocket server framework. "
        "Without a command, serves the current directory on port 8000.",
        epilog="Run 'outside COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"outside {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser(
        "serve", help="serve a directory's files",
        description="Serve the files under DIR: index.html for a folder, a listing otherwise, "
        "with MIME types, ranges and conditional requests. Nothing outside DIR is reachable.")
    serve.add_argument("directory", nargs="?", default=".", metavar="DIR",
                       help="the directory to serve (default: the current one)")
    _add_server_options(serve, for_app=False)
    serve.set_defaults(handler=serve_command)

    run = commands.add_parser(
        "run", help="run an outside app from a module",
        description="Import MODULE (from the current directory first) and serve its app ATTR, "
        "e.g. 'outside run myapp:server'. ATTR may also be a WSGI application (Flask...). "
        "Options left out keep the app's own config.")
    run.add_argument("app", metavar="MODULE:ATTR", help="where the app is, e.g. myapp:server")
    _add_server_options(run, for_app=True)
    run.add_argument("--reload", action="store_true",
                     help="restart the server when a .py file under the current directory changes "
                     "(for development)")
    run.set_defaults(handler=run_command)

    echo = commands.add_parser(
        "echo", aliases=["websocket"], help="run a WebSocket echo server",
        description="Accept WebSocket connections on any path and send every message back.")
    _add_server_options(echo, for_app=False)
    echo.set_defaults(handler=echo_command)

    demo = commands.add_parser(
        "demo", help="run the demo page (routes, JSON, an upload form, a WebSocket chat)",
        description="Serve the built-in demo: open the printed address in a browser, "
        "and in a second tab to chat between them.")
    _add_server_options(demo, for_app=False, workers=None)  # the chat spans workers (pub/sub)
    demo.set_defaults(handler=demo_command)
    return parser


def _add_server_options(parser: argparse.ArgumentParser, for_app: bool,
                        workers: Optional[int] = 1) -> None:
    """``--host``, ``--port``... For ``run`` the defaults are the app's own config;
    ``workers`` None leaves the config's default (one worker process per CPU)."""
    keep = " (default: the app's)" if for_app else ""
    parser.add_argument("--host", default=None if for_app else DEFAULT_HOST,
                        help=f"the address to listen on{keep or f' (default: {DEFAULT_HOST})'}; "
                        "0.0.0.0 for every interface")
    parser.add_argument("--port", type=int, default=None if for_app else DEFAULT_PORT,
                        help=f"the port{keep or f' (default: {DEFAULT_PORT})'}; 0 picks a free one")
    workers_default = "one per CPU" if workers is None else str(workers)
    parser.add_argument("--workers", type=int, default=None if for_app else workers,
                        help=f"worker processes{keep or f' (default: {workers_default})'}")
    parser.add_argument("--certfile", help="serve HTTPS with this PEM certificate chain")
    parser.add_argument("--keyfile", help="the PEM private key of --certfile (if not in it)")
    parser.add_argument("--forwarded-allow-ips", metavar="ADDRESSES",
                        help="proxies whose X-Forwarded-For/Forwarded headers are believed, "
                        "comma-separated addresses or networks (e.g. 127.0.0.1), or '*'")
    parser.add_argument("--log-level", choices=LOG_LEVELS, type=str.lower,
                        help="the level of the start-up and error log (default: info)")


def serve_command(options: argparse.Namespace) -> int:
    """``outside serve [DIR]``."""
    from .static import StaticFiles
    try:
        files = StaticFiles(options.directory)
    except OSError as exc:
        raise CommandError(f"cannot serve {options.directory!r}: {exc.strerror or exc}") from None
    app = OutsideHTTP((options.host, options.port))
    app.config["allow_range_from_mb"] = 0  # ranges for every file, as file servers do
    app.set_route("/", files)
    print(f"outside: serving {files.root}", file=sys.stderr, flush=True)
    return serve(app, options)


def run_command(options: argparse.Namespace) -> int:
    """``outside run MODULE:ATTR``, restarted on changes with ``--reload``."""
    if options.reload:
        from .reloader import run_with_reload
        child = [sys.executable, "-m", "outside"] + [word for word in options.argv if word != "--reload"]
        return run_with_reload(child, os.getcwd())
    directory = os.getcwd()
    app = load_app(options.app, directory)

    def load_again() -> BaseApp:  # SIGHUP (workers >= 2): the new code, with the same options
        forget_modules(directory)
        fresh = load_app(options.app, directory)
        apply_options(fresh, options)
        return fresh

    from .server import RELOAD_ATTRIBUTE
    setattr(app, RELOAD_ATTRIBUTE, load_again)
    return serve(app, options)


def forget_modules(directory: str) -> None:
    """Drop the imported modules whose files are under ``directory``, so the next import
    reads them again (a reload)."""
    root = os.path.abspath(directory) + os.sep
    for name, module in list(sys.modules.items()):
        if name == __package__ or name.startswith(__package__ + "."):
            continue  # the server itself stays (its classes must stay the same)
        path = getattr(module, "__file__", None)
        if path and os.path.abspath(path).startswith(root) and "site-packages" not in path:
            del sys.modules[name]


def echo_command(options: argparse.Namespace) -> int:
    """``outside echo``: every message is sent back."""
    from .websocket import WebSocket
    app = OutsideHTTP((options.host, options.port))
    echo = WebSocket()

    @echo.on_connection
    def send_back(connection: Any) -> None:
        for message in connection:
            connection.send(message)

    app.set_route("/", echo)
    return serve(app, options)


def demo_command(options: argparse.Namespace) -> int:
    """``outside demo``."""
    from .demo import create_app
    return serve(create_app((options.host, options.port)), options)


def load_app(spec: str, directory: str) -> BaseApp:
    """The app named by ``spec`` (``module:attribute``), importing from ``directory`` first.

    A WSGI application is served by a new ``OutsideHTTP`` that mounts it at ``/``.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise CommandError(f"{spec!r} is not MODULE:ATTR; name the app like myapp:server")
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        value: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise CommandError(f"no module named {module_name!r} in {directory} or on sys.path") from None
        raise  # the module exists but an import inside it failed: its traceback says where
    except SETUP_ERRORS as exc:
        raise CommandError(f"{_user_line(exc)}: {exc}") from None
    for name in attribute.split("."):
        if not hasattr(value, name):
            raise CommandError(f"module {module_name!r} has no attribute {attribute!r}")
        value = getattr(value, name)
    if isinstance(value, BaseApp):
        return value
    not_an_app = CommandError(f"{spec} is a {type(value).__name__}, not an OutsideHTTP app "
                              "or a WSGI application(environ, start_response)")
    if not callable(value):
        raise not_an_app
    app = OutsideHTTP((DEFAULT_HOST, DEFAULT_PORT))
    try:
        app.mount("/", value)
    except HandlerSignatureError:
        raise not_an_app from None
    return app


def _user_line(exc: BaseException) -> str:
    """``file:line`` of the innermost frame of ``exc`` outside this package: the
    user's line that set the faulty route or handler."""
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    where = "?"
    for frame, line in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(package) and not filename.startswith("<"):
            where = f"{filename}:{line}"
    return where


def serve(app: BaseApp, options: argparse.Namespace) -> int:
    """Apply the command-line options to ``app`` and run it until it is stopped."""
    host, port = apply_options(app, options)
    _explained(app.run, host, port)
    return 0


def apply_options(app: BaseApp, options: argparse.Namespace) -> tuple:
    """Set the command-line options in ``app.config``; the (host, port) to listen on."""
    host, port = app.config["host"]
    host = host if options.host is None else options.host
    port = port if options.port is None else options.port
    app.config["host"] = (host, port)
    if options.workers is not None:
        if options.workers < 1:
            raise CommandError("--workers must be 1 or more")
        app.config["workers"] = options.workers
    if options.keyfile and not options.certfile:
        raise CommandError("--keyfile needs --certfile")
    if options.certfile:
        app.config.update(ssl_enabled=True, ssl_certfile=options.certfile, ssl_keyfile=options.keyfile or "")
    if options.forwarded_allow_ips is not None:
        app.config["forwarded_allow_ips"] = options.forwarded_allow_ips
    if options.log_level:
        app.config["log_level"] = options.log_level.upper()
    return host, port


def _explained(run: Callable[[], None], host: str, port: int) -> None:
    """``run()``, with start-up failures the user can fix turned into ``CommandError``."""
    from .proxy import ProxyConfigError
    from .server import ConfigError, TLSConfigError
    try:
        run()
    except (TLSConfigError, ProxyConfigError, ConfigError) as exc:
        raise CommandError(str(exc)) from None
    except socket.gaierror as exc:
        raise CommandError(f"cannot listen on {host!r}: {exc.strerror}") from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(f"port {port} is already in use on {host}; stop the other server "
                               "or choose another --port") from None
        if exc.errno == errno.EACCES:
            raise CommandError(f"no permission to listen on {host}:{port} "
                               "(ports below 1024 need privileges)") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise CommandError(f"cannot listen on {host}: it is not an address of this machine") from None
        raise
