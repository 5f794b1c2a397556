"""Fuzz target: the multipart/form-data parser against its contract.

Run: ``python -m fuzz.multipart_py [libFuzzer options] [corpus dirs]``.
"""
from .harness import instrumented_imports, run

with instrumented_imports(enabled=__name__ == "__main__"):
    from .multipart_outcome import check

if __name__ == "__main__":
    run(check)
