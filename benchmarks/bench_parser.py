"""Requests parsed per second: outside's parsers against httptools, h11 and aiohttp.

Three workloads (a browser GET of ~500 bytes with 11 headers, a small JSON POST, a
pipelined burst of 16 GETs), each parsed by every contender that is installed:

- ``outside-c`` / ``outside-py``: ``outside.speedups.RequestParserC`` / ``RequestParserPy``;
  ``feed`` returns the events (heads with str fields and the header list, body pieces, ends).
- ``httptools``: llhttp with Python callbacks collecting method, URL, version, keep-alive,
  the header list, the body pieces and each completed message (bytes, not decoded).
- ``aiohttp-c`` / ``aiohttp-py``: aiohttp's request parsers (message tuples and payload streams).
- ``h11``: a server ``Connection``; in the burst it must answer each request (an empty
  200) before it parses the next one, as h11 requires of a server.

Parsers are reused across rounds, as on a keep-alive connection (h11: a new connection
per round). Run either way:

    pytest benchmarks/bench_parser.py --benchmark-enable          # pytest-benchmark tables
    python -m benchmarks.bench_parser --repeat 5                   # req/s medians and ratios

The second form measures all contenders side by side, in short turns, ``--repeat``
times, and prints the median requests per second and the median ratio of each contender
to httptools, aiohttp-py and h11 (the table in ``benchmarks/README.md``).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import time
from datetime import datetime, timezone
from typing import Callable, Dict, List, Optional

import pytest

from outside import speedups

Parse = Callable[[bytes], object]

BROWSER_GET = (
    b"GET /articles/2024/http-parsing-in-python?utm_source=newsletter&page=2 HTTP/1.1\r\n"
    b"Host: www.example.org\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\n"
    b"Accept-Encoding: gzip, deflate, br, zstd\r\n"
    b"Referer: https://www.example.org/articles/\r\n"
    b"Connection: keep-alive\r\n"
    b"Cookie: session=7f3c9a1e5b; theme=dark\r\n"
    b"Upgrade-Insecure-Requests: 1\r\n"
    b"Sec-Fetch-Dest: document\r\n"
    b"Sec-Fetch-Mode: navigate\r\n"
    b"\r\n"
)
JSON_BODY = json.dumps({"name": "widget", "quantity": 3, "tags": ["new", "blue"]}).encode()
JSON_POST = (
    b"POST /api/v1/orders HTTP/1.1\r\n"
    b"Host: api.example.org\r\n"
    b"User-Agent: python-requests/2.32.3\r\n"
    b"Accept: application/json\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: " + str(len(JSON_BODY)).encode() + b"\r\n"
    b"\r\n" + JSON_BODY
)
PIPELINED_GET = (
    b"GET /api/v1/items/42 HTTP/1.1\r\n"
    b"Host: api.example.org\r\n"
    b"User-Agent: bench/1.0\r\n"
    b"Accept: */*\r\n"
    b"\r\n"
)
WORKLOADS: Dict[str, tuple] = {  # name -> (input, requests in it)
    "browser-get": (BROWSER_GET, 1),
    "json-post": (JSON_POST, 1),
    "pipelined-16": (PIPELINED_GET * 16, 16),
}
# The goals of issue 2: the C parser against httptools, the pure one against these two.
BASELINES = ("httptools", "aiohttp-py", "h11")


# ----------------------------------------------------------------------------- contenders
# Each factory returns a ``parse(data)`` callable (or None when the contender is missing)
# and each parse returns something from which ``completed`` counts the finished requests.


def outside_parser(parser_class: Optional[type]) -> Optional[Parse]:
    if parser_class is None:
        return None
    try:
        return parser_class().feed
    except NotImplementedError:  # the pure twin before it exists
        return None


class HttptoolsCollector:
    """httptools callbacks that collect what outside's parser returns."""

    def __init__(self, httptools) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.messages: list = []

    def parse(self, data: bytes) -> list:
        self.messages = []
        self.parser.feed_data(data)
        return self.messages

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers: list = []
        self.body: list = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        parser = self.parser
        self.head = (parser.get_method(), self.url, parser.get_http_version(),
                     self.headers, parser.should_keep_alive())

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.messages.append((self.head, self.body))


def httptools_parser() -> Optional[Parse]:
    try:
        import httptools
    except ImportError:
        return None
    return HttptoolsCollector(httptools).parse


class _Transportless:
    """The little of an asyncio protocol that aiohttp's payload streams call."""

    def pause_reading(self) -> None:
        pass

    def resume_reading(self, resume_parser: bool = True) -> None:
        pass


def aiohttp_parser(compiled: bool) -> Optional[Parse]:
    try:
        from aiohttp import http_parser
    except ImportError:
        return None
    parser_class = http_parser.HttpRequestParserC if compiled else http_parser.HttpRequestParserPy
    if compiled and parser_class is http_parser.HttpRequestParserPy:
        return None  # aiohttp was installed without its extensions
    loop = asyncio.new_event_loop()
    parser = parser_class(_Transportless(), loop, 2**16, max_line_size=8190, max_field_size=8190)
    return lambda data: parser.feed_data(data)[0]


def h11_parser() -> Optional[Parse]:
    try:
        import h11
    except ImportError:
        return None
    answer = (h11.Response(status_code=200, headers=[("Content-Length", "0")]), h11.EndOfMessage())

    def parse(data: bytes) -> list:
        connection = h11.Connection(h11.SERVER)
        connection.receive_data(data)
        events: list = []
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                return events
            if event is h11.PAUSED:  # h11 parses the next request once this one is answered
                for part in answer:
                    connection.send(part)
                connection.start_next_cycle()
                continue
            events.append(event)

    return parse


CONTENDERS: Dict[str, Callable[[], Optional[Parse]]] = {
    "outside-c": lambda: outside_parser(speedups.RequestParserC),
    "outside-py": lambda: outside_parser(speedups.RequestParserPy),
    "httptools": httptools_parser,
    "aiohttp-c": lambda: aiohttp_parser(compiled=True),
    "aiohttp-py": lambda: aiohttp_parser(compiled=False),
    "h11": h11_parser,
}


def completed(name: str, result) -> int:
    """How many requests a contender's parse result says were completed."""
    if name.startswith("outside"):
        return sum(1 for event in result if type(event).__name__ == "MessageEnd")
    if name == "h11":
        return sum(1 for event in result if type(event).__name__ == "EndOfMessage")
    return len(result)


def checked(name: str, workload: str) -> Parse:
    """The contender's parse function, after checking it parses the workload fully."""
    parse = CONTENDERS[name]()
    if parse is None:
        pytest.skip(f"{name} is not available")
    data, requests = WORKLOADS[workload]
    got = completed(name, parse(data))
    assert got == requests, f"{name} completed {got} of {requests} requests in {workload}"
    return parse


# --------------------------------------------------------------------------- pytest-benchmark

@pytest.mark.parametrize("name", list(CONTENDERS))
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_parse(benchmark, workload: str, name: str) -> None:
    parse = checked(name, workload)
    data, requests = WORKLOADS[workload]
    benchmark.group = workload
    benchmark.extra_info["requests_per_round"] = requests
    result = benchmark(parse, data)
    assert completed(name, result) == requests


# ------------------------------------------------------------------ side-by-side req/s table

def calibrate(parse: Parse, data: bytes, seconds: float) -> int:
    """How many rounds of ``parse(data)`` take about ``seconds``."""
    rounds = 1
    while True:
        if batch_time(parse, data, rounds) > seconds:
            return rounds
        rounds *= 2


def batch_time(parse: Parse, data: bytes, rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        parse(data)
    return time.perf_counter() - start


def measure(repeat: int, seconds: float, slices: int = 10) -> Dict[str, Dict[str, List[float]]]:
    """workload -> contender -> req/s of each repeat.

    Each repeat gives every contender ``slices`` batches of about ``seconds / slices``,
    taken in turns (in a rotating order), so that a burst of load on the machine falls
    on all contenders alike; a contender's rate in a repeat is from its median batch.
    """
    results: Dict[str, Dict[str, List[float]]] = {}
    for workload, (data, requests) in WORKLOADS.items():
        parsers = {}
        for name, factory in CONTENDERS.items():
            parse = factory()
            if parse is not None and completed(name, parse(data)) == requests:
                parsers[name] = parse
        names = list(parsers)
        rounds = {name: calibrate(parsers[name], data, seconds / slices) for name in names}
        results[workload] = {name: [] for name in names}
        for repetition in range(repeat):
            batches: Dict[str, List[float]] = {name: [] for name in names}
            for turn in range(slices):
                shift = (repetition + turn) % len(names)
                for name in names[shift:] + names[:shift]:
                    batches[name].append(batch_time(parsers[name], data, rounds[name]))
            for name in names:
                results[workload][name].append(requests * rounds[name] / statistics.median(batches[name]))
    return results


def table(results: Dict[str, Dict[str, List[float]]]) -> str:
    """Markdown: median req/s and, per baseline, the median of the per-repeat ratios."""
    lines = ["| workload | parser | req/s (median) | " + " | ".join(f"vs {b}" for b in BASELINES) + " |",
             "| --- | --- | ---: |" + " ---: |" * len(BASELINES)]
    for workload, rates in results.items():
        for name, samples in rates.items():
            ratios = []
            for baseline in BASELINES:
                reference = rates.get(baseline)
                ratios.append(f"{statistics.median(s / r for s, r in zip(samples, reference)):.2f}x"
                              if reference else "")
            lines.append(f"| {workload} | {name} | {statistics.median(samples):,.0f} | "
                         + " | ".join(ratios) + " |")
    return "\n".join(lines)


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--repeat", type=int, default=5, help="rounds over all contenders")
    arguments.add_argument("--seconds", type=float, default=1.0,
                           help="time per contender and repeat, in 10 turns")
    options = arguments.parse_args()
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
          f"{platform.machine()}, outside speedups: {speedups.ACTIVE}, repeat {options.repeat}")
    print(table(measure(options.repeat, options.seconds)))


if __name__ == "__main__":
    main()
