"""Two checkouts of outside side by side: did a change make the hot paths slower?

    python -m benchmarks.ab OLD_TREE NEW_TREE --rounds 5 --duration 5

Both trees serve ``benchmarks/apps/outside_app.py`` (one worker, access log off), each
pinned to CPU 0 while the load generator runs on CPU 1, one at a time, alternating in
every round so that the drift of a shared machine hits both alike. Workloads: ``wrk`` on
``/hello`` with 50 connections, and a 32-byte WebSocket echo with 50 clients
(``benchmarks/wsload.py``). Prints the median of each and the new/old ratio of medians.
Each tree needs its extensions built (``python setup.py build_ext --inplace``).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from typing import Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(HERE, "apps", "outside_app.py")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


def _start(tree: str, port: int, pure: bool) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=tree)
    env.pop("OUTSIDE_NO_EXTENSIONS", None)
    if pure:
        env["OUTSIDE_NO_EXTENSIONS"] = "1"
    process = subprocess.Popen(["taskset", "-c", "0", sys.executable, APP, str(port), "1"],
                               cwd=os.path.join(HERE, "apps"), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    _wait_listening(port)
    return process


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wrk(port: int, duration: float) -> float:
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c50", f"-d{int(duration)}s",
                          f"http://127.0.0.1:{port}/hello"],
                         capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    return float(match.group(1))


def _ws(port: int, duration: float) -> float:
    out = subprocess.run(["taskset", "-c", "1", sys.executable, os.path.join(HERE, "wsload.py"),
                          "--port", str(port), "--clients", "50", "--size", "32",
                          "--duration", str(duration)],
                         capture_output=True, text=True, check=True).stdout
    return float(json.loads(out)["rate"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--pure", action="store_true", help="OUTSIDE_NO_EXTENSIONS=1 in both")
    args = parser.parse_args()
    trees = {"old": os.path.abspath(args.old), "new": os.path.abspath(args.new)}
    results: Dict[str, Dict[str, List[float]]] = {
        name: {"hello": [], "ws": []} for name in trees}
    for round_number in range(args.rounds):
        order = list(trees) if round_number % 2 == 0 else list(reversed(list(trees)))
        for name in order:
            port = _free_port()
            process = _start(trees[name], port, args.pure)
            try:
                _wrk(port, 1)  # warm-up, untimed
                results[name]["hello"].append(_wrk(port, args.duration))
                results[name]["ws"].append(_ws(port, args.duration))
            finally:
                _stop(process)
        print(f"round {round_number + 1}: " + ", ".join(
            f"{name} hello {results[name]['hello'][-1]:.0f} ws {results[name]['ws'][-1]:.0f}"
            for name in trees), flush=True)
    print("| workload | old (median) | new (median) | new/old |")
    print("| --- | ---: | ---: | ---: |")
    for workload, unit in (("hello", "req/s"), ("ws", "msg/s")):
        old = statistics.median(results["old"][workload])
        new = statistics.median(results["new"][workload])
        print(f"| {workload} ({unit}) | {old:,.0f} | {new:,.0f} | {new / old:.2f}x |")


if __name__ == "__main__":
    main()
