"""Fuzz target: the llhttp-based C request parser against its contract.

Coverage of the C code needs a build with ``-fsanitize=fuzzer-no-link``, which
``scripts/sanitize.sh`` makes (with ASan and UBSan). Run:
``python -m fuzz.http_parser_c [libFuzzer options] [corpus dirs]``.
"""
from .harness import instrumented_imports, run

with instrumented_imports(enabled=__name__ == "__main__"):
    from outside.speedups import RequestParserC

    from .http_outcome import self_consistency_check

if RequestParserC is None:
    raise SystemExit("the C request parser is not built (python setup.py build_ext --inplace)")

check = self_consistency_check(RequestParserC)

if __name__ == "__main__":
    run(check)
