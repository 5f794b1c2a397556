"""Load outside (and peers) with wrk, side by side, and print a Markdown table of medians.

    python benchmarks/wrk/compare.py --rounds 3 --duration 5 --targets leader pool uvicorn

Each round runs every target at every connection count, one after another, so the
noise of a shared machine hits them alike; the table shows the median per cell.
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
    for round_number in range(args.rounds):
        for target in args.targets:
            port = free_port()
            cmd, env = command(target, port)
            server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_for_port(port)
                for connections in args.connections:
                    result = run_wrk(port, connections, args.duration)
                    results.setdefault((target, connections), []).append(result)
                    print(f"round {round_number + 1} {target} -c{connections}: "
                          f"{result[0]:.0f} req/s p50 {result[1]:.2f} ms p99 {result[2]:.2f} ms",
                          file=sys.stderr)
            finally:
                server.terminate()
                server.wait(10)
    print("| target | connections | req/s (median) | p50 ms | p99 ms |")
    print("| --- | --- | --- | --- | --- |")
    for (target, connections), runs in results.items():
        rps, p50, p99 = (statistics.median(column) for column in zip(*runs))
        print(f"| {target} | {connections} | {rps:,.0f} | {p50:.2f} | {p99:.2f} |")


if __name__ == "__main__":
    main()
