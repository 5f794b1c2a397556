"""Load outside (and peers) with wrk, side by side, and print a Markdown table of medians.

    python benchmarks/wrk/compare.py --rounds 3 --duration 5 --targets leader pool uvicorn

All targets run at once (idle when not loaded); each round loads them one after
another at each connection count, so neighbours in time share the noise of a busy
machine. The table shows the median of each cell and the ratio to the last target (the peer).
"""
from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def command(target: str, port: int) -> Tuple[List[str], Dict[str, str]]:
    env = dict(os.environ, PYTHONPATH=ROOT)
    if target == "uvicorn":
        return ([sys.executable, "-m", "uvicorn", "--app-dir", HERE, "uvicorn_hello:app",
                 "--port", str(port), "--http", "httptools", "--loop", "asyncio",
                 "--log-level", "warning", "--no-access-log"], env)
    engine, _, twin = target.partition("-")
    if twin == "py":
        env["OUTSIDE_NO_EXTENSIONS"] = "1"
    return [sys.executable, os.path.join(HERE, "hello.py"), str(port), "--engine", engine], env


def wait_for_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def parse_latency(text: str, label: str) -> float:
    match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(port: int, connections: int, duration: int) -> Tuple[float, float, float]:
    """(requests per second, p50 ms, p99 ms)."""
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency",
                          f"http://127.0.0.1:{port}/"], capture_output=True, text=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Socket errors:.*|Non-2xx.*", out)
    if errors:
        print(f"  wrk: {errors.group(0)}", file=sys.stderr)
    return (float(rps.group(1)) if rps else 0.0, parse_latency(out, "50%"), parse_latency(out, "99%"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", nargs="+", default=["leader", "leader-py", "uvicorn"])
    parser.add_argument("--connections", nargs="+", type=int, default=[1, 50, 256])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    args = parser.parse_args()
    results: Dict[Tuple[str, int], List[Tuple[float, float, float]]] = {}
    servers, ports = [], {}
    try:
        for target in args.targets:  # all start now; an idle server costs the others nothing
            ports[target] = free_port()
            cmd, env = command(target, ports[target])
            servers.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL))
            wait_for_port(ports[target])
        for round_number in range(args.rounds):
            for connections in args.connections:
                for target in args.targets:  # neighbours in time share the machine's noise
                    result = run_wrk(ports[target], connections, args.duration)
                    results.setdefault((target, connections), []).append(result)
                    print(f"round {round_number + 1} {target} -c{connections}: "
                          f"{result[0]:.0f} req/s p50 {result[1]:.2f} ms p99 {result[2]:.2f} ms",
                          file=sys.stderr)
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
    print("| target | connections | req/s (median) | p50 ms | p99 ms | vs " + args.targets[-1] + " |")
    print("| --- | --- | --- | --- | --- | --- |")
    medians = {key: [statistics.median(column) for column in zip(*runs)] for key, runs in results.items()}
    for connections in args.connections:
        for target in args.targets:
            rps, p50, p99 = medians[(target, connections)]
            baseline = medians[(args.targets[-1], connections)][0] or float("nan")
            print(f"| {target} | {connections} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {rps / baseline:.2f}x |")

if __name__ == "__main__":
    main()
