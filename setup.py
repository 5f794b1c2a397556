"""Build script for the optional C speedups of outside.

The package is pure Python at heart. This script compiles the Cython extensions in
``outside/_speedups`` (the llhttp request parser and the WebSocket codec) when it can;
when it cannot (no Cython, no compiler, a failing build), it warns and installs the
pure-Python package, which has the same API.

``OUTSIDE_NO_EXTENSIONS=1`` skips the extensions on purpose.
"""
import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent
NO_EXTENSIONS = os.environ.get("OUTSIDE_NO_EXTENSIONS", "") not in ("", "0")
LLHTTP = Path("vendor") / "llhttp"

# name -> sources (relative to this file). Extensions whose first source is missing are skipped.
EXTENSIONS = {
    "outside._speedups._http_parser": [
        "outside/_speedups/_http_parser.pyx",
        str(LLHTTP / "src" / "llhttp.c"),
        str(LLHTTP / "src" / "api.c"),
        str(LLHTTP / "src" / "http.c"),
    ],
    "outside._speedups._mask": ["outside/_speedups/_mask.pyx"],
    "outside._speedups._frames": ["outside/_speedups/_frames.py"],
}


def _warn(message: str) -> None:
    bar = "*" * 75
    print(f"\n{bar}\n{message}\n{bar}\n", file=sys.stderr)


class OptionalBuildExt(build_ext):
    """build_ext that falls back to the pure-Python package instead of failing."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, missing headers, ...
            _warn(f"WARNING: outside's C speedups could not be built ({exc!r}).\n"
                  "Installing the pure-Python implementation (same API, slower).")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            _warn(f"WARNING: building {ext.name} failed ({exc!r}).\n"
                  "outside will use its pure-Python implementation.")


def _extensions() -> list:
    if NO_EXTENSIONS:
        _warn("OUTSIDE_NO_EXTENSIONS is set: installing the pure-Python implementation.")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        _warn("WARNING: Cython is not installed: installing the pure-Python implementation.")
        return []
    extensions = [
        Extension(
            name,
            sources,
            include_dirs=[str(LLHTTP / "include")],
            define_macros=[("CYTHON_TRACE", "0")],
        )
        for name, sources in EXTENSIONS.items()
        if (HERE / sources[0]).exists()
    ]
    return [compiled for extension in extensions for compiled in _cythonize(cythonize, extension)]


def _cythonize(cythonize, extension: Extension) -> list:
    """Translate one extension to C; a failure drops only that one (its pure twin stays)."""
    try:
        return cythonize(
            [extension],
            language_level=3,
            compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
        )
    except Exception as exc:
        _warn(f"WARNING: Cython failed on {extension.name} ({exc!r}).\n"
              "outside will use its pure-Python implementation of it.")
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
