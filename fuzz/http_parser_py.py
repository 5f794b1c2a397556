"""Fuzz target: the pure-Python request parser against its contract.

Run: ``python -m fuzz.http_parser_py [libFuzzer options] [corpus dirs]``.
"""
from .harness import instrumented_imports, run

with instrumented_imports(enabled=__name__ == "__main__"):
    from outside.speedups import RequestParserPy

    from .http_outcome import self_consistency_check

check = self_consistency_check(RequestParserPy)

if __name__ == "__main__":
    run(check)
