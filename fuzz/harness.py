"""What every harness shares: deterministic splitting of an input and the atheris driver."""
from __future__ import annotations

import contextlib
import os
import random
import sys
import zlib
from typing import Callable, ContextManager, List

# Byte-at-a-time feeding costs one call per byte: keep it for inputs this short.
BYTEWISE_LIMIT = 512


def random_splits(data: bytes) -> List[bytes]:
    """Cut ``data`` at 1 to 8 points chosen by a generator seeded from the input itself.

    Seeding from the input keeps every run of the same input identical (so a finding
    replays), while the mutator still reaches new cut positions by changing the input.
    """
    rng = random.Random(zlib.crc32(data))
    cuts = sorted(rng.randrange(len(data) + 1) for _ in range(rng.randint(1, 8)))
    return [data[start:end] for start, end in zip([0, *cuts], [*cuts, len(data)])]


def bytewise(data: bytes) -> List[bytes]:
    """One byte per chunk: the harshest split for a state machine."""
    return [data[i:i + 1] for i in range(len(data))]


def chunkings(data: bytes) -> List[List[bytes]]:
    """The ways each input is fed: random splits always, byte by byte when short."""
    ways = [random_splits(data)]
    if len(data) <= BYTEWISE_LIMIT:
        ways.append(bytewise(data))
    return ways


def instrumented_imports(enabled: bool) -> ContextManager:
    """Instrument the Python modules of outside and of the oracles imported in this block.

    ``enabled`` is true when the target runs as the fuzzer; the regression tests import
    the same modules plainly (and need no atheris). ``FUZZ_PYTHON_COVERAGE=0`` turns it
    off too: under AddressSanitizer instrumented Python runs about 16 times slower, so
    the sanitizer runs are guided by the C coverage alone.
    """
    if not enabled or os.environ.get("FUZZ_PYTHON_COVERAGE") == "0":
        return contextlib.nullcontext()
    import atheris

    return atheris.instrument_imports(include=["outside", "fuzz"])


def run(check: Callable[[bytes], None]) -> None:
    """Hand ``check`` to libFuzzer with the command line's options and corpus dirs.

    libFuzzer starts copies of itself through a shell (``-fork``, ``-minimize_crash``)
    with ``argv[0]`` as the command, so that is how this target is started again.
    """
    import atheris

    command = f"{sys.executable} -m {sys.modules['__main__'].__spec__.name}"
    atheris.Setup([command, *sys.argv[1:]], check)
    atheris.Fuzz()
