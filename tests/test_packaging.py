"""The package as users get it: same API with and without the C twins, honest about
which is active, typed, single-versioned, and (when installed from a wheel) carrying
both licences in its metadata.

These tests run against whatever ``outside`` is imported: the checkout in development,
the installed wheel under ``scripts/check-dist.sh`` and cibuildwheel.
"""
from __future__ import annotations

import importlib.machinery
import importlib.metadata
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import outside
import outside._version
import outside.speedups as speedups

PACKAGE_DIR = Path(outside.__file__).resolve().parent
DISTRIBUTION = "outside-framework"

# Prints, as JSON, what a fresh interpreter sees of the package.
PROBE = """
import json, outside, outside.speedups as s
print(json.dumps({
    "public": sorted(name for name in dir(outside) if not name.startswith("_")),
    "all": sorted(getattr(outside, "__all__", [])),
    "speedups": sorted(s.__all__),
    "active": s.ACTIVE,
    "compiled": {name: getattr(s, name) is not None for name in dir(s) if name.endswith("C")},
    "pure_in_use": all(getattr(s, name[:-1]) is getattr(s, name[:-1] + "Py")
                       for name in dir(s) if name.endswith("C")),
}))
"""


def _probe(no_extensions: bool) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "OUTSIDE_NO_EXTENSIONS"}
    if no_extensions:
        env["OUTSIDE_NO_EXTENSIONS"] = "1"
    # Import the same package as this process does, wherever it lives.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_DIR.parent), env.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                            text=True, timeout=60, check=True)
    return json.loads(result.stdout)


def _compiled_twins() -> dict:
    return {name: getattr(speedups, name) for name in dir(speedups) if name.endswith("C")}


def _is_extension_module(twin: object) -> bool:
    """Whether a twin (a class, or a module of functions) comes from a compiled module."""
    module = twin if isinstance(twin, types.ModuleType) else sys.modules[twin.__module__]
    return str(module.__file__).endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def test_same_public_names_with_and_without_extensions():
    with_c, forced_pure = _probe(no_extensions=False), _probe(no_extensions=True)
    assert with_c["public"] == forced_pure["public"]
    assert with_c["all"] == forced_pure["all"]
    assert with_c["speedups"] == forced_pure["speedups"]
    assert "OutsideHTTP" in with_c["public"]


def test_forced_pure_uses_only_pure_twins():
    forced_pure = _probe(no_extensions=True)
    assert forced_pure["active"] == "python"
    assert forced_pure["compiled"] and not any(forced_pure["compiled"].values())
    assert forced_pure["pure_in_use"]


def test_active_reflects_the_compiled_twins_in_use():
    twins = _compiled_twins()
    assert twins, "outside.speedups names no compiled twin"
    expected = "c" if all(twin is not None for twin in twins.values()) else "python"
    assert expected == speedups.ACTIVE
    for name, twin in twins.items():
        if twin is not None:  # what is reported compiled must really be an extension module
            assert _is_extension_module(twin), f"{name} is not from an extension module"


def test_no_compiled_module_silently_failed_to_load():
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    built = {path.name.split(".")[0] for path in (PACKAGE_DIR / "_speedups").glob("*")
             if path.name.endswith(suffixes)}
    silently_missing = {module: error for module, error in speedups.IMPORT_ERRORS.items()
                        if module in built}
    assert not silently_missing


def test_package_is_typed():
    assert (PACKAGE_DIR / "py.typed").is_file()


def test_version_has_one_source():
    assert outside.__version__ == outside._version.__version__


def _installed_distribution() -> importlib.metadata.Distribution:
    """The distribution that installed the imported package, or skip (checkout, editable)."""
    try:
        distribution = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"{DISTRIBUTION} is not installed")
    if distribution.read_text("INSTALLER") is None:  # an egg-info left in the checkout by a build
        pytest.skip("the metadata found is a build's egg-info, not an installed distribution")
    init = PACKAGE_DIR / "__init__.py"
    if not any(Path(distribution.locate_file(file)).resolve() == init for file in distribution.files or []):
        pytest.skip("the imported outside is not the installed distribution's (checkout or editable)")
    return distribution


def test_installed_metadata_matches_the_package():
    distribution = _installed_distribution()
    assert distribution.version == outside._version.__version__
    assert distribution.metadata["License-Expression"] == "MIT"


def test_installed_metadata_names_both_licences():
    distribution = _installed_distribution()
    licence_files = distribution.metadata.get_all("License-File") or []
    assert {"LICENSE", "vendor/llhttp/LICENSE-MIT"} <= set(licence_files)
    for name in licence_files:
        text = distribution.read_text(f"licenses/{name}")
        assert text and "MIT" in text, name
