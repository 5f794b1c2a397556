"""Multipart form parsing: MiB/s and peak memory, outside against python-multipart and Werkzeug.

The body: 100 MiB (``--size``) of ``multipart/form-data`` with three text fields and one
file of random bytes, fed in 64 KiB pieces as a server reads them. Two workloads:

- ``form``: the whole form layer, fields decoded and the file stored (spilled to a
  temporary file past the in-memory threshold, as each library does by default):
  ``outside.forms.parse_form``, ``python_multipart.parse_form``, Werkzeug's
  ``werkzeug.formparser.parse_form_data``.
- ``parser``: the sans-I/O parsers alone, data handed to a no-op: ``outside``'s
  ``MultipartParser``, python-multipart's callback ``MultipartParser``, and the
  ``multipart`` package's ``PushMultipartParser``.

Speed is measured without tracing; peak memory (``tracemalloc``: Python allocations,
the input pieces excluded since they are generated on the fly) in a separate run.
Contenders take turns, ``--repeat`` rounds, medians printed. A peer that is not
installed is skipped with the reason. Run (pinned to one CPU for steadier numbers)::

    taskset -c 1 python -m benchmarks.bench_multipart --repeat 5
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any, Callable, Dict, List, Optional, Tuple

from outside.forms import FormLimits, parse_form
from outside.http.multipart import MultipartParser

BOUNDARY = b"----outsideBenchBoundary7MA4YWxkTrZu0gW"
CONTENT_TYPE = "multipart/form-data; boundary=" + BOUNDARY.decode()
PIECE = 64 * 1024
MiB = 1024 * 1024


class Body:
    """The benchmark body as pieces, generated on the fly (so it costs no memory)."""

    def __init__(self, size: int) -> None:
        fields = b"".join(b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="' + name
                          + b'"\r\n\r\n' + value + b"\r\n"
                          for name, value in ((b"title", b"Quarterly report"), (b"tags", b"a"), (b"tags", b"b")))
        self.head = fields + (b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="file"; '
                              b'filename="data.bin"\r\nContent-Type: application/octet-stream\r\n\r\n')
        self.tail = b"\r\n--" + BOUNDARY + b"--\r\n"
        block = os.urandom(PIECE)
        self.block = block.replace(b"\r\n--" + BOUNDARY, b"")  # (never happens with random bytes)
        self.file_size = size
        self.length = len(self.head) + size + len(self.tail)

    def pieces(self) -> Iterator[bytes]:
        yield self.head
        for _ in range(self.file_size // PIECE):
            yield self.block
        yield self.tail


class Reader:
    """A file-like view of the pieces (``read(n)``), for the parsers that pull."""

    def __init__(self, body: Body) -> None:
        self._pieces = body.pieces()
        self._rest = b""

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return self._rest + b"".join(self._pieces)
        while len(self._rest) < size:
            piece = next(self._pieces, None)
            if piece is None:
                break
            self._rest += piece
        data, self._rest = self._rest[:size], self._rest[size:]
        return data


def check_file(size: int, expected: int, name: str) -> None:
    if size != expected:
        raise AssertionError(f"{name} read a file of {size} bytes, expected {expected}")


# --- the form layer -------------------------------------------------------------------

def form_outside(body: Body) -> None:
    limits = FormLimits(max_body_size=None)
    form, files = parse_form(CONTENT_TYPE, body.pieces(), limits)
    check_file(files["file"].size, body.file_size, "outside")
    assert form.getlist("tags") == ["a", "b"]
    files["file"].close()


def _python_multipart_form() -> Optional[Callable[[Body], None]]:
    try:
        import python_multipart
    except ImportError:
        return None

    def run(body: Body) -> None:
        fields: List[Any] = []
        files: List[Any] = []
        headers = {"Content-Type": CONTENT_TYPE.encode(), "Content-Length": str(body.length).encode()}
        python_multipart.parse_form(headers, Reader(body), fields.append, files.append, chunk_size=PIECE)
        upload = files[0]
        check_file(upload.size, body.file_size, "python-multipart")
        assert [field.value for field in fields if field.field_name == b"tags"] == [b"a", b"b"]
        upload.close()
    return run


def _werkzeug_form() -> Optional[Callable[[Body], None]]:
    try:
        from werkzeug.formparser import parse_form_data
    except ImportError:
        return None

    def run(body: Body) -> None:
        environ = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": CONTENT_TYPE,
                   "CONTENT_LENGTH": str(body.length), "wsgi.input": Reader(body)}
        _, form, files = parse_form_data(environ)
        upload = files["file"]
        upload.stream.seek(0, os.SEEK_END)
        check_file(upload.stream.tell(), body.file_size, "werkzeug")
        assert form.getlist("tags") == ["a", "b"]
        upload.close()
    return run


# --- the parsers alone ----------------------------------------------------------------

def parser_outside(body: Body) -> None:
    parser = MultipartParser(BOUNDARY)
    size = 0
    for piece in body.pieces():
        for event in parser.feed(piece):
            if type(event) is bytes:
                size += len(event)
    parser.end()
    assert size >= body.file_size


def _python_multipart_parser() -> Optional[Callable[[Body], None]]:
    try:
        from python_multipart.multipart import MultipartParser as Parser
    except ImportError:
        return None

    def run(body: Body) -> None:
        counted = [0]

        def on_part_data(data: bytes, start: int, end: int) -> None:
            counted[0] += end - start
        parser = Parser(BOUNDARY, {"on_part_data": on_part_data})
        for piece in body.pieces():
            parser.write(piece)
        parser.finalize()
        assert counted[0] >= body.file_size
    return run


def _multipart_parser() -> Optional[Callable[[Body], None]]:
    try:
        import multipart
    except ImportError:
        return None

    def run(body: Body) -> None:
        parser = multipart.PushMultipartParser(BOUNDARY)
        size = 0
        for piece in body.pieces():
            for event in parser.parse(piece):
                if isinstance(event, (bytes, bytearray, memoryview)):
                    size += len(event)
        parser.close()
        assert size >= body.file_size
    return run


def contenders() -> Dict[str, Dict[str, Optional[Callable[[Body], None]]]]:
    return {
        "form": {"outside": form_outside, "python-multipart": _python_multipart_form(),
                 "werkzeug": _werkzeug_form()},
        "parser": {"outside": parser_outside, "python-multipart": _python_multipart_parser(),
                   "multipart": _multipart_parser()},
    }


def seconds(run: Callable[[Body], None], body: Body) -> float:
    start = time.perf_counter()
    run(body)
    return time.perf_counter() - start


def peak_kib(run: Callable[[Body], None], body: Body) -> float:
    tracemalloc.start()
    try:
        run(body)
        return tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()


def main(argv: Optional[List[str]] = None) -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--size", type=int, default=100, help="MiB of file data (default 100)")
    options.add_argument("--repeat", type=int, default=5, help="rounds per contender (default 5)")
    args = options.parse_args(argv)
    body = Body(args.size * MiB)
    small = Body(max(1, args.size // 10) * MiB)
    print(f"# multipart body: {body.length / MiB:.1f} MiB, one file and three fields, {PIECE // 1024} KiB pieces")
    print(f"# Python {platform.python_version()} on {platform.machine()}, {args.repeat} rounds, medians")
    for workload, runs in contenders().items():
        available = {name: run for name, run in runs.items() if run is not None}
        for name in runs.keys() - available.keys():
            print(f"# {workload}/{name}: skipped (not installed)")
        times: Dict[str, List[float]] = {name: [] for name in available}
        for _ in range(args.repeat):
            for name, run in available.items():
                times[name].append(seconds(run, body))
        print(f"\n{workload}: {'contender':<18} {'MiB/s':>8} {'peak KiB @' + str(small.file_size // MiB) + ' MiB':>16}"
              f" {'peak KiB @' + str(args.size) + ' MiB':>16}")
        rows: List[Tuple[str, float, float, float]] = []
        for name, run in available.items():
            rate = body.length / MiB / statistics.median(times[name])
            rows.append((name, rate, peak_kib(run, small), peak_kib(run, body)))
        for name, rate, peak_small, peak_big in rows:
            print(f"{'':<8}{name:<18} {rate:>8.0f} {peak_small:>16.0f} {peak_big:>16.0f}")


if __name__ == "__main__":
    main()
