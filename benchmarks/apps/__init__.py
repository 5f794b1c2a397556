"""The contenders of the end-to-end benchmark: how to start each one and what it serves.

Each contender runs one tiny app (the modules beside this file) on 127.0.0.1 with the
same number of worker processes, no access log, and otherwise its defaults. Workload
groups: ``hello`` (GET /hello), ``json`` (POST /echo), ``static`` (GET /static/<file>),
``ws`` (WebSocket echo on /ws), ``idle`` (idle keep-alive connections).
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
HTTP = frozenset({"hello", "json", "static", "idle"})
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
        return f"not installed: {', '.join(missing)}" if missing else None
    return check


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


def _gunicorn(worker_class: str) -> Callable[[Launch], List[str]]:
    def command(launch: Launch) -> List[str]:
        # --threads above 1 would silently turn a sync worker into gthread.
        threads = GTHREADS if worker_class == "gthread" else 1
        return [sys.executable, "-m", "gunicorn", "--chdir", str(APPS), "-b", f"127.0.0.1:{launch.port}",
                "-w", str(launch.workers), "-k", worker_class, "--threads", str(threads),
                "--log-level", "warning", "flask_app:app"]
    return command


def _uvicorn(launch: Launch) -> List[str]:
    return [sys.executable, "-m", "uvicorn", "--app-dir", str(APPS), "--host", "127.0.0.1",
            "--port", str(launch.port), "--workers", str(launch.workers), "--http", "httptools",
            "--loop", "asyncio", "--lifespan", "off", "--no-access-log", "--log-level", "warning",
            "asgi_app:app"]


def _nginx(launch: Launch) -> List[str]:
    config = write_config(launch.run_dir, launch.port, launch.workers, launch.static_dir)
    return ["nginx", "-e", str(launch.run_dir / "error.log"), "-p", str(launch.run_dir), "-c", str(config)]


def _binary_missing(name: str) -> Callable[[], Optional[str]]:
    return lambda: None if shutil.which(name) else f"{name} is not installed"


OUTSIDE_ENV = {"PYTHONPATH": str(REPO)}

CONTENDERS: List[Contender] = [
    Contender("outside", "outside (C)", HTTP | {"ws"}, _script("outside_app.py"), OUTSIDE_ENV,
              _outside_missing),
    Contender("outside-py", "outside (pure Python)", HTTP | {"ws"}, _script("outside_app.py"),
              {**OUTSIDE_ENV, "OUTSIDE_NO_EXTENSIONS": "1"}, _outside_missing),
    Contender("outside-1.5.8", "outside 1.5.8 (PyPI)", HTTP, _old_outside, {}, _old_outside_missing),
    Contender("flask-dev", "Flask (Werkzeug dev server)", HTTP, _script("flask_app.py"), {},
              _module_missing("flask")),
    Contender("gunicorn-sync", "gunicorn sync + Flask", HTTP, _gunicorn("sync"), {},
              _module_missing("flask", "gunicorn")),
    Contender("gunicorn-gthread", f"gunicorn gthread ({GTHREADS} threads) + Flask", HTTP, _gunicorn("gthread"),
              {}, _module_missing("flask", "gunicorn")),
    Contender("uvicorn", "uvicorn + raw ASGI (httptools, asyncio)", HTTP, _uvicorn, {},
              _module_missing("uvicorn", "httptools")),
    Contender("aiohttp", "aiohttp.web", HTTP | {"ws"}, _script("aiohttp_app.py"), {},
              _module_missing("aiohttp")),
    Contender("websockets", "websockets (asyncio)", frozenset({"ws"}), _script("websockets_app.py"), {},
              _module_missing("websockets"), http=False),
    Contender("nginx", "nginx (fixed string, sendfile)", frozenset({"hello", "static", "idle"}), _nginx, {},
              _binary_missing("nginx")),
]
