"""Fuzz target: the compiled WebSocket frame codec, and the protocol driving it.

Coverage of the C code needs the build of ``scripts/sanitize.sh``. Run:
``python -m fuzz.ws_frames_c [libFuzzer options] [corpus dirs]``.
"""
from .harness import instrumented_imports, run

with instrumented_imports(enabled=__name__ == "__main__"):
    from outside.speedups import WebSocketFramesC

    from .ws_outcome import self_consistency_check

if WebSocketFramesC is None:
    raise SystemExit("the compiled frame codec is not built (python setup.py build_ext --inplace)")

check = self_consistency_check(WebSocketFramesC)

if __name__ == "__main__":
    run(check)
