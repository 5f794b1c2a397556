#!/usr/bin/env bash
# The static checks CI runs: ruff (rules in pyproject.toml [tool.ruff]) over the package,
# the tests, the benchmarks, the fuzzers, the scripts and the examples, then mypy
# (pyproject.toml [tool.mypy]: default checks on outside/, --strict on outside.http and
# outside.websocket). Exits non-zero when either reports anything.
#
# usage: scripts/lint.sh [--fix]    (--fix lets ruff repair what it can first)
# Needs: ruff and mypy (both in the "test" extra). PYTHON picks the interpreter (default: python).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python}
cd "$ROOT" || exit 2

fix=()
case "${1:-}" in
    "") ;;
    --fix) fix=(--fix) ;;
    *) echo "usage: scripts/lint.sh [--fix]" >&2; exit 2 ;;
esac

status=0
echo "== ruff"
"$PYTHON" -m ruff check "${fix[@]}" outside tests benchmarks fuzz scripts examples || status=1
echo "== mypy"
"$PYTHON" -m mypy || status=1
exit $status
