"""Fuzz target: the C and pure-Python request parsers must agree on every input.

Both twins get the same bytes whole and cut at the same input-derived points; any
difference in events, error class/status or upgrade bytes is a finding. Run:
``python -m fuzz.http_differential [libFuzzer options] [corpus dirs]``.
"""
from .harness import chunkings, instrumented_imports, run

with instrumented_imports(enabled=__name__ == "__main__"):
    from outside.speedups import RequestParserC, RequestParserPy

    from .http_outcome import ContractViolation, parse, split_input

if RequestParserC is None:
    raise SystemExit("the C request parser is not built (python setup.py build_ext --inplace)")


def check(data: bytes) -> None:
    """Fail when the twins' outcomes differ for any way of feeding ``data``."""
    limits, stream = split_input(data)
    for chunks in [[stream], *chunkings(stream)]:
        c_outcome = parse(RequestParserC, limits, chunks)
        py_outcome = parse(RequestParserPy, limits, chunks)
        if c_outcome != py_outcome:
            raise ContractViolation(
                f"limits {limits}, fed as {chunks!r}\nC:      {c_outcome}\npython: {py_outcome}")


if __name__ == "__main__":
    run(check)
