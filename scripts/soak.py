"""Soak test: full load on a multi-process server for minutes, then check nothing leaked.

    python scripts/soak.py --minutes 10 [--workers 2] [--ws-clients 200]

Four loads run at once against one server: ``wrk`` on hello world, ``wrk`` POSTing a
64 KiB JSON body (Lua script), ``wrk`` fetching a 10 MiB file, and WebSocket clients
(the ``websockets`` library, one asyncio task each) echoing messages without pause.
Every ``--interval`` seconds the RSS and open descriptors of the supervisor and of
each worker are sampled. At the end it checks: no socket errors and no non-2xx in any
load, no worker restarted (same PIDs), RSS growth under ``--max-growth`` per process
between the end of the warm-up and the end, and descriptors back to their baseline
once the clients are gone. It prints a table and exits 1 if any check failed.
``OUTSIDE_NO_EXTENSIONS=1`` runs the server with the pure-Python twins.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import websockets.asyncio.client  # noqa: E402

from tests.servers import RunningServer, open_fds, rss_kib, start_app  # noqa: E402

FILE_SIZE = 10 * 1024 * 1024
JSON_SIZE = 64 * 1024

SERVER_CODE = """
import json
@app.route("/")
def hello(request):
    return Response(200, {"Content-Type": "text/plain"}, "Hello, world!")
@app.route("/json", methods=["POST"])
def echo_size(request):
    items = json.loads(request.body.read())
    return Response(200, {"Content-Type": "application/json"}, json.dumps({"items": len(items)}))
@app.route("/file")
def big_file(request):
    return Response(200, {"Content-Type": "application/octet-stream"}, FilePath(FILE_PATH))
@app.websocket("/echo")
def echo(connection):
    for message in connection:
        connection.send(message)
"""

POST_LUA = """
local file = io.open("{path}", "rb")
wrk.method = "POST"
wrk.body = file:read("*a")
wrk.headers["Content-Type"] = "application/json"
file:close()
"""


@dataclass
class LoadResult:
    """What one load did: requests (or messages) completed, and what went wrong."""
    name: str
    completed: int = 0
    socket_errors: int = 0
    non_2xx: int = 0
    detail: str = ""


@dataclass
class ProcessSamples:
    """RSS (KiB) and open descriptors of one server process over time."""
    role: str
    rss: List[int] = field(default_factory=list)
    fds: List[int] = field(default_factory=list)
    times: List[float] = field(default_factory=list)


def json_body() -> bytes:
    """A JSON array of about ``JSON_SIZE`` bytes."""
    item = {"name": "soak", "value": 12345, "tags": ["a", "b", "c"]}
    text = json.dumps([item] * (JSON_SIZE // len(json.dumps(item)) + 1))
    return text[:JSON_SIZE - 1].rsplit("},", 1)[0].encode() + b"}]"


def run_wrk(url: str, seconds: int, connections: int,
            extra: Tuple[str, ...] = ()) -> subprocess.Popen[str]:
    """Start ``wrk`` (one thread) for ``seconds``; read its report with ``wrk_result``."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "20s", *extra, url]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wrk_result(name: str, process: subprocess.Popen[str]) -> LoadResult:
    """Parse the summary ``wrk`` prints."""
    output, _ = process.communicate()
    result = LoadResult(name, detail=output.strip().splitlines()[-2] if output.strip() else "")
    done = re.search(r"(\d+) requests in", output)
    result.completed = int(done.group(1)) if done else 0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result.socket_errors = sum(int(n) for n in errors.groups()) if errors else 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result.non_2xx = int(non_2xx.group(1)) if non_2xx else 0
    if process.returncode != 0 or not done:
        result.socket_errors += 1
        result.detail = output.strip()[-300:]
    return result


async def _echo_client(url: str, deadline: float, result: LoadResult) -> None:
    message = "x" * 512
    try:
        async with websockets.asyncio.client.connect(url, max_size=None, open_timeout=30) as ws:
            while time.monotonic() < deadline:
                await ws.send(message)
                if await asyncio.wait_for(ws.recv(), 30) != message:
                    result.non_2xx += 1  # a wrong echo counts as a bad answer
                result.completed += 1
                await asyncio.sleep(0.01)  # keeps 200 clients from starving the loads
    except Exception as exc:
        result.socket_errors += 1
        result.detail = f"{type(exc).__name__}: {exc}"


def run_websockets(url: str, clients: int, seconds: float) -> LoadResult:
    """``clients`` WebSocket connections echoing 512-byte messages for ``seconds``."""
    result = LoadResult(f"websocket x{clients}")

    async def main() -> None:
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(_echo_client(url, deadline, result) for _ in range(clients)))

    asyncio.run(main())
    return result


def sample(server: RunningServer, samples: Dict[int, ProcessSamples], start: float) -> None:
    """One RSS and descriptor sample of the supervisor and every current worker."""
    for pid in [server.pid] + server.children():
        entry = samples.setdefault(pid, ProcessSamples("supervisor" if pid == server.pid else "worker"))
        try:
            rss, fds = rss_kib(pid), open_fds(pid)
        except (OSError, RuntimeError):
            continue  # exited between the listing and the read
        entry.rss.append(rss)
        entry.fds.append(fds)
        entry.times.append(time.monotonic() - start)


def settled_fds(server: RunningServer, baseline: Dict[int, int], timeout: float) -> Dict[int, int]:
    """Each process's descriptors, waiting up to ``timeout`` for them to reach the baseline."""
    deadline = time.monotonic() + timeout
    while True:
        now = {pid: open_fds(pid) for pid in baseline if os.path.exists(f"/proc/{pid}")}
        if all(now.get(pid, -1) <= count for pid, count in baseline.items()) or time.monotonic() > deadline:
            return now
        time.sleep(0.5)


def at_or_after(entry: ProcessSamples, moment: float) -> Optional[int]:
    """The first RSS sample taken at or after ``moment`` seconds."""
    for when, rss in zip(entry.times, entry.rss):
        if when >= moment:
            return rss
    return None


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ws-clients", type=int, default=200)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds before the RSS reference (default: 20%% of the run, at most 60)")
    parser.add_argument("--max-growth", type=float, default=10.0, help="allowed RSS growth, %%")
    args = parser.parse_args(argv)
    seconds = max(10, int(args.minutes * 60))
    warmup = args.warmup if args.warmup is not None else min(60.0, seconds * 0.2)

    workdir = tempfile.mkdtemp(prefix="outside-soak-")
    file_path = os.path.join(workdir, "big.bin")
    with open(file_path, "wb") as file:
        file.write(os.urandom(FILE_SIZE))
    body_path = os.path.join(workdir, "body.json")
    with open(body_path, "wb") as file:
        file.write(json_body())
    lua_path = os.path.join(workdir, "post.lua")
    with open(lua_path, "w") as file:
        file.write(POST_LUA.format(path=body_path))

    # Each WebSocket holds a handler thread; leave room for them and for the HTTP loads.
    max_workers = args.ws_clients + 64
    code = f"FILE_PATH = {file_path!r}\n" + SERVER_CODE
    config = {"workers": args.workers, "max_workers": max_workers, "backlog_length": 1024}
    failures: List[str] = []
    with start_app(code, config=config) as server:
        deadline = time.monotonic() + 10
        while len(server.children()) < args.workers and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        workers_before = sorted(server.children())
        baseline_fds = {pid: open_fds(pid) for pid in [server.pid] + workers_before}
        samples: Dict[int, ProcessSamples] = {}
        start = time.monotonic()
        sample(server, samples, start)

        url = server.url
        loads = [
            ("hello", run_wrk(url + "/", seconds, 32)),
            ("json 64 KiB POST", run_wrk(url + "/json", seconds, 8, ("-s", lua_path))),
            ("file 10 MiB", run_wrk(url + "/file", seconds, 4)),
        ]
        ws_results: List[LoadResult] = []
        ws_thread = threading.Thread(target=lambda: ws_results.append(
            run_websockets(f"ws://{server.host}:{server.port}/echo", args.ws_clients, seconds)))
        ws_thread.start()
        while ws_thread.is_alive() or any(p.poll() is None for _, p in loads):
            time.sleep(min(args.interval, 1.0))
            if time.monotonic() - start >= len(next(iter(samples.values())).times) * args.interval:
                sample(server, samples, start)
        results = [wrk_result(name, process) for name, process in loads]
        ws_thread.join()
        results += ws_results
        sample(server, samples, start)
        workers_after = sorted(server.children())
        final_fds = settled_fds(server, baseline_fds, timeout=20)

    print(f"soak: {seconds} s, {args.workers} workers, {args.ws_clients} WebSocket clients, "
          f"parser: {'pure' if os.environ.get('OUTSIDE_NO_EXTENSIONS') else 'C'}")
    print(f"\n{'load':<20}{'done':>12}{'per s':>10}{'sock err':>10}{'non-2xx':>10}")
    for result in results:
        print(f"{result.name:<20}{result.completed:>12}{result.completed / seconds:>10.0f}"
              f"{result.socket_errors:>10}{result.non_2xx:>10}")
        if result.socket_errors or result.non_2xx:
            failures.append(f"{result.name}: {result.socket_errors} socket errors, "
                            f"{result.non_2xx} non-2xx ({result.detail})")

    print(f"\n{'pid':<9}{'role':<12}{'RSS start':>11}{'RSS warm':>10}{'RSS end':>10}"
          f"{'growth':>9}{'fds base':>10}{'fds peak':>10}{'fds end':>9}")
    for pid, entry in samples.items():
        warm = at_or_after(entry, warmup) or entry.rss[0]
        growth = 100.0 * (entry.rss[-1] - warm) / warm
        base, end = baseline_fds.get(pid, entry.fds[0]), final_fds.get(pid, -1)
        print(f"{pid:<9}{entry.role:<12}{entry.rss[0]:>9}Ki{warm:>8}Ki{entry.rss[-1]:>8}Ki"
              f"{growth:>8.1f}%{base:>10}{max(entry.fds):>10}{end:>9}")
        if growth >= args.max_growth:
            failures.append(f"pid {pid}: RSS grew {growth:.1f}% after warm-up")
        if pid in baseline_fds and end != base:
            failures.append(f"pid {pid}: {end} descriptors at the end, {base} at the start")
    if workers_after != workers_before:
        failures.append(f"workers restarted: {workers_before} -> {workers_after}")

    print()
    for failure in failures:
        print("FAIL", failure)
    print("PASS" if not failures else f"{len(failures)} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
