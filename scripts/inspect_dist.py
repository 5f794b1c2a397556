"""Check what an sdist or a wheel of outside contains, and print its tag and size.

    python scripts/inspect_dist.py dist/outside_framework-*.tar.gz dist/*.whl

An sdist must hold the vendored llhttp (sources, licences, README), the Cython sources,
``py.typed`` and the build files, and no generated C or compiled objects. A wheel must
hold ``py.typed`` and name both licences (ours and llhttp's) in its metadata. Exits
non-zero and says why when a check fails.
"""
from __future__ import annotations

import sys
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

SDIST_REQUIRED = [
    "LICENSE", "pyproject.toml", "setup.py", "MANIFEST.in",
    "outside/py.typed", "outside/_version.py",
    "vendor/llhttp/LICENSE", "vendor/llhttp/LICENSE-MIT", "vendor/llhttp/README.md",
    "vendor/llhttp/include/llhttp.h",
    "vendor/llhttp/src/api.c", "vendor/llhttp/src/http.c", "vendor/llhttp/src/llhttp.c",
]
LICENSES = ["LICENSE", "vendor/llhttp/LICENSE", "vendor/llhttp/LICENSE-MIT"]
COMPILED_SUFFIXES = (".so", ".pyd", ".dylib", ".o", ".obj")


def _sdist_problems(path: Path) -> list[str]:
    with tarfile.open(path) as archive:
        # Member names start with "<name>-<version>/"; compare the paths below it.
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    problems = [f"missing {name}" for name in SDIST_REQUIRED if name not in names]
    generated = [name for name in names
                 if name.startswith("outside/_speedups/") and name.endswith((".c", ".cpp"))]
    problems += [f"generated C shipped: {name}" for name in generated]
    problems += [f"compiled object shipped: {name}" for name in names if name.endswith(COMPILED_SUFFIXES)]
    cython_sources = sorted(name for name in names if name.endswith((".pyx", ".pxd")))
    print(f"  Cython sources: {', '.join(cython_sources) or 'none'}")
    return problems


def _wheel_problems(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        info = next(name for name in names if name.endswith(".dist-info/METADATA"))
        metadata = HeaderParser().parsestr(archive.read(info).decode())
        wheel_info = HeaderParser().parsestr(archive.read(info.replace("METADATA", "WHEEL")).decode())
    dist_info = info.rsplit("/", 1)[0]
    problems = [] if "outside/py.typed" in names else ["missing outside/py.typed"]
    declared = metadata.get_all("License-File") or []
    for licence in LICENSES:
        if licence not in declared:
            problems.append(f"License-File {licence} not in METADATA")
        if f"{dist_info}/licenses/{licence}" not in names:
            problems.append(f"{licence} not in {dist_info}/licenses/")
    compiled = sorted(name for name in names if name.endswith(COMPILED_SUFFIXES))
    print(f"  Version {metadata['Version']}, Metadata-Version {metadata['Metadata-Version']}, "
          f"tags {', '.join(wheel_info.get_all('Tag') or [])}")
    print(f"  License-File: {', '.join(declared)}")
    print(f"  compiled modules: {', '.join(compiled) or 'none (pure Python)'}")
    return problems


def main(paths: list[str]) -> int:
    failed = False
    for name in paths:
        path = Path(name)
        print(f"{path.name} ({path.stat().st_size / 1024:.0f} KiB)")
        problems = _wheel_problems(path) if path.suffix == ".whl" else _sdist_problems(path)
        for problem in problems:
            print(f"  PROBLEM: {problem}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
