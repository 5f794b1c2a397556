"""Fuzz target: the pure-Python WebSocket frame codec, and the protocol driving it.

Run: ``python -m fuzz.ws_frames_py [libFuzzer options] [corpus dirs]``.
"""
from .harness import instrumented_imports, run

with instrumented_imports(enabled=__name__ == "__main__"):
    from outside.speedups import WebSocketFramesPy

    from .ws_outcome import self_consistency_check

check = self_consistency_check(WebSocketFramesPy)

if __name__ == "__main__":
    run(check)
