"""The contenders of the end-to-end benchmark: how to start each one and what it serves.

Each contender runs one tiny app (the modules beside this file) on 127.0.0.1 with the
same number of worker processes, no access log, and otherwise its defaults. Workload
groups: ``hello`` (GET /hello), ``json`` (GET /json, built per request), ``pipeline``
(GET /hello, 16 pipelined), ``echo`` (POST /echo), ``static`` (GET /static/<file>),
``ws`` (WebSocket echo on /ws), ``idle`` (idle keep-alive connections).

Tags select sets of contenders: ``peers`` (outside against the fastest Python servers,
each on its own fastest interface) and ``wsgi`` (one WSGI app, plain or Flask, on each
WSGI server; outside runs it through ``server.mount``).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from .nginx_conf import write_config

APPS = Path(__file__).resolve().parent
REPO = APPS.parent.parent
OLD_OUTSIDE = "outside-framework==1.5.8"
# The old release is also named ``outside``: it lives in a venv of its own, outside the repo.
CACHE = Path(os.environ.get("OUTSIDE_BENCH_CACHE", Path.home() / ".cache" / "outside-benchmarks"))
HTTP = frozenset({"hello", "json", "pipeline", "echo", "static", "idle"})
FAST = frozenset({"hello", "json", "pipeline"})  # what the apps without /echo or /static serve
WSGI_WORKLOADS = frozenset({"hello-50", "json-50"})  # what the WSGI-only contenders are run with
PEERS, WSGI = "peers", "wsgi"
GTHREADS = 8  # gunicorn gthread: threads per worker


@dataclass(frozen=True)
class Launch:
    """Where and how one contender is started."""

    port: int
    workers: int
    static_dir: Path
    run_dir: Path  # scratch space of this contender (configs, logs)


@dataclass(frozen=True)
class Contender:
    """One server under test."""

    name: str  # the id used by --only and in tables
    label: str  # the name shown in the report
    serves: frozenset
    command: Callable[[Launch], List[str]]
    env: Dict[str, str] = field(default_factory=dict)
    needs: Callable[[], Optional[str]] = lambda: None  # why it cannot run, or None
    http: bool = True  # answers GET /hello (used to wait until it is up)
    tags: frozenset = frozenset()  # PEERS, WSGI: the sets it belongs to
    workloads: Optional[frozenset] = None  # the only workloads it is run with (None: all it serves)
    wsgi_app: str = ""  # in the WSGI set: "plain" or "flask"

    def environment(self, launch: Launch) -> Dict[str, str]:
        """The process environment: ours without PYTHONPATH, plus the contender's."""
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        env.update(self.env, OUTSIDE_BENCH_STATIC=str(launch.static_dir), PYTHONUNBUFFERED="1")
        return env


def _script(name: str, python: str = sys.executable) -> Callable[[Launch], List[str]]:
    return lambda launch: [python, str(APPS / name), str(launch.port), str(launch.workers)]


def _module_missing(*modules: str) -> Callable[[], Optional[str]]:
    def check() -> Optional[str]:
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        return f"did not install: {', '.join(missing)} (pip install {' '.join(missing)})" if missing else None
    return check


def _wsgi_script(name: str, module: str) -> Callable[[Launch], List[str]]:
    return lambda launch: _script(name)(launch) + [module]


def _outside_missing() -> Optional[str]:
    probe = subprocess.run([sys.executable, "-c", "from outside import OutsideHTTP"], cwd=REPO,
                           env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
    return None if probe.returncode == 0 else f"outside does not import: {probe.stderr.strip().splitlines()[-1:]}"


def old_outside_python() -> Path:
    """The venv with the 1.5.8 release from PyPI, created on first use."""
    venv = CACHE / "outside-1.5.8"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", OLD_OUTSIDE], check=True)
    return python


def _old_outside_missing() -> Optional[str]:
    try:
        old_outside_python()
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"could not install {OLD_OUTSIDE}: {exc}"
    return None


def _old_outside(launch: Launch) -> List[str]:
    return _script("outside_app.py", str(old_outside_python()))(launch)


def _gunicorn(worker_class: str, app: str = "flask_app:app") -> Callable[[Launch], List[str]]:
    def command(launch: Launch) -> List[str]:
        # --threads above 1 would silently turn a sync worker into gthread.
        threads = GTHREADS if worker_class == "gthread" else 1
        return [sys.executable, "-m", "gunicorn", "--chdir", str(APPS), "-b", f"127.0.0.1:{launch.port}",
                "-w", str(launch.workers), "-k", worker_class, "--threads", str(threads),
                "--log-level", "warning", app]
    return command


def _uvicorn(loop: str) -> Callable[[Launch], List[str]]:
    def command(launch: Launch) -> List[str]:
        return [sys.executable, "-m", "uvicorn", "--app-dir", str(APPS), "--host", "127.0.0.1",
                "--port", str(launch.port), "--workers", str(launch.workers), "--http", "httptools",
                "--loop", loop, "--lifespan", "off", "--no-access-log", "--log-level", "warning",
                "asgi_app:app"]
    return command


def _granian(interface: str, app: str) -> Callable[[Launch], List[str]]:
    def command(launch: Launch) -> List[str]:
        return [sys.executable, "-m", "granian", "--interface", interface, "--host", "127.0.0.1",
                "--port", str(launch.port), "--workers", str(launch.workers), "--working-dir", str(APPS),
                "--no-access-log", "--log-level", "warning", app]
    return command


def _nginx(launch: Launch) -> List[str]:
    config = write_config(launch.run_dir, launch.port, launch.workers, launch.static_dir)
    return ["nginx", "-e", str(launch.run_dir / "error.log"), "-p", str(launch.run_dir), "-c", str(config)]


def _binary_missing(name: str) -> Callable[[], Optional[str]]:
    return lambda: None if shutil.which(name) else f"{name} is not installed"


OUTSIDE_ENV = {"PYTHONPATH": str(REPO)}

CONTENDERS: List[Contender] = [
    Contender("outside", "outside (C)", HTTP | {"ws"}, _script("outside_app.py"), OUTSIDE_ENV,
              _outside_missing, tags=frozenset({PEERS})),
    Contender("outside-py", "outside (pure Python)", HTTP | {"ws"}, _script("outside_app.py"),
              {**OUTSIDE_ENV, "OUTSIDE_NO_EXTENSIONS": "1"}, _outside_missing, tags=frozenset({PEERS})),
    Contender("outside-1.5.8", "outside 1.5.8 (PyPI)", HTTP, _old_outside, {}, _old_outside_missing),
    Contender("flask-dev", "Flask (Werkzeug dev server)", HTTP, _script("flask_app.py"), {},
              _module_missing("flask")),
    Contender("gunicorn-sync", "gunicorn sync + Flask", HTTP, _gunicorn("sync"), {},
              _module_missing("flask", "gunicorn"), tags=frozenset({PEERS})),
    Contender("gunicorn-gthread", f"gunicorn gthread ({GTHREADS} threads) + Flask", HTTP, _gunicorn("gthread"),
              {}, _module_missing("flask", "gunicorn")),
    Contender("uvicorn", "uvicorn + raw ASGI (httptools, asyncio)", HTTP, _uvicorn("asyncio"), {},
              _module_missing("uvicorn", "httptools"), tags=frozenset({PEERS})),
    Contender("uvicorn-uvloop", "uvicorn + raw ASGI (httptools, uvloop)", HTTP, _uvicorn("uvloop"), {},
              _module_missing("uvicorn", "httptools", "uvloop"), tags=frozenset({PEERS})),
    Contender("aiohttp", "aiohttp.web", HTTP | {"ws"}, _script("aiohttp_app.py"), {},
              _module_missing("aiohttp"), tags=frozenset({PEERS})),
    Contender("websockets", "websockets (asyncio)", frozenset({"ws"}), _script("websockets_app.py"), {},
              _module_missing("websockets"), http=False),
    Contender("nginx", "nginx (fixed strings, sendfile)", FAST | {"static", "idle"}, _nginx, {},
              _binary_missing("nginx"), tags=frozenset({PEERS})),
    Contender("granian-rsgi", "granian RSGI", FAST, _granian("rsgi", "rsgi_app:app"), {},
              _module_missing("granian"), tags=frozenset({PEERS})),
    Contender("socketify", "socketify App (uWebSockets)", FAST, _script("socketify_app.py"), {},
              _module_missing("socketify"), tags=frozenset({PEERS})),
    Contender("granian-wsgi", "granian WSGI + plain WSGI", FAST, _granian("wsgi", "wsgi_plain:app"), {},
              _module_missing("granian"), tags=frozenset({PEERS, WSGI}), wsgi_app="plain"),
    Contender("bjoern", "bjoern + plain WSGI", FAST, _wsgi_script("bjoern_app.py", "wsgi_plain"), {},
              _module_missing("bjoern"), tags=frozenset({PEERS, WSGI}), wsgi_app="plain"),
    Contender("fastpysgi", "fastpysgi + plain WSGI", FAST, _wsgi_script("fastpysgi_app.py", "wsgi_plain"), {},
              _module_missing("fastpysgi"), tags=frozenset({PEERS, WSGI}), wsgi_app="plain"),
    # The WSGI set: the same two apps on every WSGI server, outside through server.mount.
    Contender("outside-wsgi", "outside mount + plain WSGI", FAST, _wsgi_script("outside_wsgi.py", "wsgi_plain"),
              OUTSIDE_ENV, _outside_missing, tags=frozenset({WSGI}), workloads=WSGI_WORKLOADS, wsgi_app="plain"),
    Contender("gunicorn-wsgi", "gunicorn sync + plain WSGI", FAST, _gunicorn("sync", "wsgi_plain:app"), {},
              _module_missing("gunicorn"), tags=frozenset({WSGI}), workloads=WSGI_WORKLOADS, wsgi_app="plain"),
    Contender("outside-wsgi-flask", "outside mount + Flask", FAST, _wsgi_script("outside_wsgi.py", "wsgi_flask"),
              OUTSIDE_ENV, _outside_missing, tags=frozenset({WSGI}), workloads=WSGI_WORKLOADS, wsgi_app="flask"),
    Contender("granian-wsgi-flask", "granian WSGI + Flask", FAST, _granian("wsgi", "wsgi_flask:app"), {},
              _module_missing("granian", "flask"), tags=frozenset({WSGI}), workloads=WSGI_WORKLOADS,
              wsgi_app="flask"),
    Contender("bjoern-flask", "bjoern + Flask", FAST, _wsgi_script("bjoern_app.py", "wsgi_flask"), {},
              _module_missing("bjoern", "flask"), tags=frozenset({WSGI}), workloads=WSGI_WORKLOADS, wsgi_app="flask"),
    Contender("gunicorn-wsgi-flask", "gunicorn sync + Flask (two routes)", FAST,
              _gunicorn("sync", "wsgi_flask:app"), {}, _module_missing("gunicorn", "flask"), tags=frozenset({WSGI}),
              workloads=WSGI_WORKLOADS, wsgi_app="flask"),
]
