#!/usr/bin/env bash
# Build the C speedups with AddressSanitizer + UndefinedBehaviorSanitizer, run the
# parser and codec test suites under them, then a short fuzz run of every C harness.
#
# The sanitized build is made in a scratch copy of the tree, so the checkout's own
# build (and anyone running tests from it meanwhile) is never touched: there is
# nothing to restore afterwards. Any sanitizer report stops the run with a failure.
#
#   scripts/sanitize.sh                     # tests + 60 s per fuzz target
#   FUZZ_SECONDS=600 scripts/sanitize.sh    # longer fuzz runs
#   SANITIZE_TARGETS="ws_frames_c:600 http_differential" SANITIZE_TESTS= scripts/sanitize.sh
#   SANITIZE_KEEP=1 ...                     # keep the scratch build to reuse it
#
# clang is preferred: with it the build also carries libFuzzer coverage counters
# (-fsanitize=fuzzer-no-link) so the fuzzer is guided by the C code, and atheris'
# asan_with_fuzzer.so supplies the runtimes. With gcc only, the sanitizers still run
# but the fuzzer sees no coverage of the C code, only of the Python code (which, under
# ASan, runs about 16 times slower instrumented: see fuzz/harness.py).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
TESTS_DEFAULT="tests/test_parser*.py tests/test_websocket_frames.py tests/test_websocket_mask.py
  tests/test_websocket_protocol.py tests/test_websocket_deflate.py tests/test_websocket_twins.py
  tests/test_fuzz_regressions.py"
SANITIZE_TESTS=${SANITIZE_TESTS-$TESTS_DEFAULT}
TARGETS_DEFAULT="http_parser_c http_differential ws_frames_c ws_differential"
SANITIZE_TARGETS=${SANITIZE_TARGETS-$TARGETS_DEFAULT}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/outside-sanitize.XXXXXX")

cleanup() { if [ -z "${SANITIZE_KEEP:-}" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi; }
trap cleanup EXIT

say() { printf '\n=== %s\n' "$*"; }

# --- toolchain and runtimes --------------------------------------------------
SANITIZERS="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
if command -v clang >/dev/null; then
  CC=clang
  SANITIZERS="$SANITIZERS -fsanitize=fuzzer-no-link"
  PYTHON_COVERAGE=0  # the C coverage guides the fuzzer
  ATHERIS_DIR=$("$PYTHON" -c 'import atheris; print(atheris.path())' 2>/dev/null || true)
  if [ -n "$ATHERIS_DIR" ] && [ -f "$ATHERIS_DIR/asan_with_fuzzer.so" ]; then
    PRELOAD="$ATHERIS_DIR/asan_with_fuzzer.so"
  else
    PRELOAD=$(clang -print-file-name=libclang_rt.asan-x86_64.so)
  fi
elif command -v gcc >/dev/null; then
  CC=gcc
  PYTHON_COVERAGE=1  # the only coverage there is, slow as it is under ASan
  PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
else
  echo "sanitize.sh needs clang or gcc" >&2; exit 2
fi
# Python's own allocations are never freed at exit (leak reports would be noise); with
# PYTHONMALLOC=malloc every object goes through ASan, not pymalloc's arenas.
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:halt_on_error=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
sanitized() { env LD_PRELOAD="$PRELOAD" PYTHONMALLOC=malloc "$@"; }

# --- build in a scratch copy ---------------------------------------------------
say "copying the tree to $WORK"
(cd "$ROOT" && tar --exclude=.git --exclude='.venv*' --exclude=build --exclude='*.so' \
   --exclude='fuzz/runs' --exclude='fuzz/artifacts' -cf - .) | (cd "$WORK" && tar -xf -)
rm -f "$WORK"/outside/_speedups/*.c  # force Cython to regenerate, no stale C
# build_ext needs setup.py alone; older setuptools reject pyproject's PEP 639 license field.
rm -f "$WORK/pyproject.toml"

say "building with $CC: $SANITIZERS"
(cd "$WORK" && CC="$CC" LDSHARED="$CC -shared" \
   CFLAGS="$SANITIZERS -g -O1 -fno-omit-frame-pointer" LDFLAGS="$SANITIZERS" \
   "$PYTHON" setup.py build_ext --inplace -q)

cd "$WORK"
sanitized "$PYTHON" - <<'PY'
import outside.speedups as s
assert s.ACTIVE == "c", f"sanitized build incomplete: {s.IMPORT_ERRORS}"
print("sanitized speedups active:", s.RequestParserC.__module__)
PY
grep -l __asan_report outside/_speedups/*.so >/dev/null || { echo "build is not sanitized" >&2; exit 1; }

# --- the test suites -------------------------------------------------------------
if [ -n "$SANITIZE_TESTS" ]; then
  existing=""
  for path in $SANITIZE_TESTS; do [ -e "$path" ] && existing="$existing $path"; done
  say "tests under ASan+UBSan:$existing"
  # shellcheck disable=SC2086
  sanitized "$PYTHON" -m pytest -q -p no:cacheprovider $existing
fi

# --- short fuzz runs ---------------------------------------------------------------
for spec in $SANITIZE_TARGETS; do
  target=${spec%%:*}; seconds=${spec#"$target"}; seconds=${seconds#:}; seconds=${seconds:-$FUZZ_SECONDS}
  [ -f "fuzz/$target.py" ] || { echo "skipping $target: no harness"; continue; }
  family=${target%%_*}; [ "$family" = ws ] && family=websocket
  runs="$ROOT/fuzz/runs/$target"; mkdir -p "$runs" "$ROOT/fuzz/artifacts"
  say "fuzzing $target for $seconds s under ASan+UBSan"
  sanitized env FUZZ_PYTHON_COVERAGE=$PYTHON_COVERAGE nice -n 19 "$PYTHON" -m "fuzz.$target" -max_total_time="$seconds" \
    -rss_limit_mb=6144 -print_final_stats=1 -artifact_prefix="$ROOT/fuzz/artifacts/$target-" \
    "$runs" "fuzz/corpus/$family"
done
say "no sanitizer reports"
