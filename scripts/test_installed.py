"""Run the test suite against the installed ``outside``, once per implementation.

Used by cibuildwheel's test command and by ``scripts/check-dist.sh``. Run it from a
scratch directory holding copies of ``tests/``, ``pyproject.toml`` (pytest settings) and
what the tests read, but not the ``outside`` sources, so imports reach the installed one:

    python scripts/test_installed.py --expect c tests [-- extra pytest arguments]

The suite runs twice: as installed (``--expect`` names the implementation
``outside.speedups`` must pick; ``c`` fails the run when an extension did not load) and
forced pure with ``OUTSIDE_NO_EXTENSIONS=1``. Before each run it checks that pick, and
that ``outside`` is not imported from the current directory. It prints a line per run and
exits non-zero when any run failed.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

PROBE = (
    "import outside, outside.speedups as s; "
    "print(s.ACTIVE); print(outside.__file__); print(dict(s.IMPORT_ERRORS))"
)
RUNS = ("installed", "forced-pure")


def _environment(run: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("OUTSIDE_NO_EXTENSIONS", None)
    if run == "forced-pure":
        env["OUTSIDE_NO_EXTENSIONS"] = "1"
    return env


def _probe(run: str, expected: str) -> str:
    """Return an error message, or "" when the installed package picked ``expected``."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=_environment(run),
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        return f"import outside failed:\n{result.stderr}"
    active, location, errors = result.stdout.splitlines()[:3]
    if Path(location).resolve().is_relative_to(Path.cwd().resolve()):
        return f"outside was imported from the current directory ({location}), not the installed package"
    if active != expected:
        return f"outside.speedups.ACTIVE is {active!r}, expected {expected!r} (import errors: {errors})"
    print(f"[{run}] outside from {location}: ACTIVE={active}", flush=True)
    return ""


def _counts(report: Path) -> str:
    try:
        suites = ElementTree.parse(report).getroot()
    except (OSError, ElementTree.ParseError):
        return "no report"
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites.iter("testsuite"):
        for key in totals:
            totals[key] += int(suite.get(key, 0))
    failed = totals["failures"] + totals["errors"]
    passed = totals["tests"] - failed - totals["skipped"]
    return f"{passed} passed, {failed} failed, {totals['skipped']} skipped"


def _run(run: str, expected: str, tests: str, pytest_args: list[str]) -> tuple:
    started = time.monotonic()
    label = f"{run} ({expected})"
    problem = _probe(run, expected)
    if problem:
        print(problem, file=sys.stderr)
        return label, "FAIL (implementation)", "-", time.monotonic() - started
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.xml"
        command = [sys.executable, "-m", "pytest", tests, "-p", "no:cacheprovider",
                   f"--junitxml={report}", *pytest_args]
        code = subprocess.call(command, env=_environment(run))
        counts = _counts(report)
    status = "ok" if code == 0 else f"FAIL (pytest exit {code})"
    return label, status, counts, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tests", help="the copied tests directory")
    parser.add_argument("--expect", choices=["c", "python"], default="c",
                        help="implementation the package must pick as installed")
    parser.add_argument("--only", choices=RUNS, help="do one run instead of both")
    parser.add_argument("--summary", type=Path,
                        help="append one tab-separated row per run to this file")
    parser.add_argument("--label", default="", help="first columns of those rows")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    options = parser.parse_args(argv)
    results = []
    for run in [options.only] if options.only else RUNS:
        expected = options.expect if run == "installed" else "python"
        results.append(_run(run, expected, options.tests, options.pytest_args))
    print(f"\n{'run':<24} {'status':<24} {'tests':<40} seconds")
    for label, status, counts, seconds in results:
        print(f"{label:<24} {status:<24} {counts:<40} {seconds:.0f}")
        if options.summary:
            with options.summary.open("a") as summary:
                summary.write(f"{options.label}\t{label}\t{status}\t{counts}\t{seconds:.0f}\n")
    return 0 if all(status == "ok" for _, status, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
