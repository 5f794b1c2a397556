"""The package's layers, checked on the real import graph.

Every module of ``outside`` imports on its own in a fresh interpreter (no import cycle,
no hidden dependency on an import order). The sans-I/O cores, ``outside.http`` and
``outside.websocket``, import nothing of the engine (``outside.server``) or of the app
layer: they may use the standard library, each other and the speedup twins only. And
``import outside`` does not load the engine, the test client or the WSGI adapter.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import List

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "outside")
EXTENSION_SUFFIXES = (".so", ".pyd")

# What the cores may load: themselves and the speedup twins they are built on.
CORE_PACKAGES = ("outside.http", "outside.websocket")
CORE_MAY_LOAD = CORE_PACKAGES + ("outside.speedups", "outside._speedups")


def all_modules() -> List[str]:
    """Every importable module under ``outside/`` (sources and compiled twins)."""
    names = set()
    for directory, subdirectories, files in os.walk(PACKAGE):
        subdirectories[:] = [name for name in subdirectories
                             if os.path.exists(os.path.join(directory, name, "__init__.py"))]
        package = os.path.relpath(directory, ROOT).replace(os.sep, ".")
        for file in files:
            stem = file.split(".")[0]
            if file.endswith(".py") or file.endswith(EXTENSION_SUFFIXES):
                names.add(package if stem == "__init__" else f"{package}.{stem}")
    names.discard("outside.__main__")  # runs the command line
    return sorted(names)


def modules_loaded_by(module: str, skip_package_init: bool = False) -> List[str]:
    """The ``outside`` modules in ``sys.modules`` after importing ``module`` alone in a
    new interpreter. ``skip_package_init``: ``outside/__init__.py`` does not run (the
    parent package is an empty shell), so only what ``module`` itself pulls in counts."""
    shell = ("import sys, types\n"
             f"shell = types.ModuleType('outside'); shell.__path__ = [{PACKAGE!r}]\n"
             "sys.modules['outside'] = shell\n") if skip_package_init else ""
    program = (shell + f"import importlib, json, sys\nimportlib.import_module({module!r})\n"
               "print(json.dumps(sorted(name for name in sys.modules if name.split('.')[0] == 'outside')))\n")
    environment = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"importing {module} alone failed:\n{result.stderr}"
    return json.loads(result.stdout.splitlines()[-1])


def test_the_module_list_is_complete():
    modules = all_modules()
    assert {"outside", "outside.app", "outside.http.parser", "outside.websocket.protocol",
            "outside.server.worker", "outside.routing.rules", "outside.rules"} <= set(modules)
    assert "outside._speedups._http_parser" in modules  # a compiled twin is found too


@pytest.mark.parametrize("module", all_modules())
def test_every_module_imports_on_its_own(module):
    assert module in modules_loaded_by(module)


def _in(name: str, packages: tuple) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


@pytest.mark.parametrize("module", [name for name in all_modules() if _in(name, CORE_PACKAGES)])
def test_sans_io_cores_import_no_engine_and_no_app_layer(module):
    loaded = modules_loaded_by(module, skip_package_init=True)
    assert module in loaded
    outside_cores = [name for name in loaded if name != "outside" and not _in(name, CORE_MAY_LOAD)]
    assert outside_cores == [], f"{module} imports {outside_cores}"


def test_the_shell_check_can_see_a_layer_violation():
    # The app layer does reach the cores: the same check must report them.
    loaded = modules_loaded_by("outside.app", skip_package_init=True)
    assert "outside.http.events" in loaded and "outside.request" in loaded


def test_import_outside_loads_no_engine_test_client_or_wsgi_adapter():
    loaded = modules_loaded_by("outside")
    assert "outside.app" in loaded
    assert [name for name in loaded if _in(name, ("outside.server", "outside.testing", "outside.wsgi"))] == []


def test_lazy_names_load_when_used():
    program = ("import sys, outside\n"
               "assert 'outside.server.tls' not in sys.modules\n"
               "from outside import TLSConfigError\n"
               "assert TLSConfigError.__module__ == 'outside.server.tls', TLSConfigError.__module__\n"
               "assert outside.TestClient.__module__ == 'outside.testing'\n"
               "assert outside.to_wsgi.__module__ == 'outside.wsgi'\n"
               "assert set(outside.__all__) <= set(dir(outside))\n"
               "try:\n    outside.no_such_name\nexcept AttributeError as exc:\n    print(exc)\n")
    environment = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "module 'outside' has no attribute 'no_such_name'"
