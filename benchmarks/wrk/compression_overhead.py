"""Hello world with and without the compression step: two trees served side by side.

    python benchmarks/wrk/compression_overhead.py --base /path/to/tree/before --rounds 3

Serves ``benchmarks/wrk/hello.py`` from the tree ``--base`` (e.g. a checkout from before
compression) and from this one, each pinned to CPU 0, and loads them in turn with
``wrk -t1 -c50 -d5s`` pinned to CPU 1, with and without ``Accept-Encoding: gzip`` (the
13-byte body is below the 1 KiB threshold either way). Prints per cell the median req/s,
the median of the per-round ratios this/base, and the server's CPU time per request
(user + system from ``/proc``, steadier than req/s on a shared machine).
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

HERE = os.path.dirname(os.path.abspath(__file__))
THIS_TREE = os.path.dirname(os.path.dirname(HERE))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(tree: str, port: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=tree)
    process = subprocess.Popen(["taskset", "-c", "0", sys.executable,
                                os.path.join(tree, "benchmarks", "wrk", "hello.py"), str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the server of {tree} did not start")


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wrk(port: int, pid: int, duration: int, gzip: bool) -> tuple:
    """(req/s, server CPU microseconds per request) of one wrk run."""
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c50", f"-d{duration}s"]
    if gzip:
        command += ["-H", "Accept-Encoding: gzip"]
    cpu = _cpu_seconds(pid)
    output = subprocess.run(command + [f"http://127.0.0.1:{port}/"], capture_output=True,
                            text=True, check=True).stdout
    cpu = _cpu_seconds(pid) - cpu
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return rate, cpu * 1e6 / max(1, requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the tree to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    args = parser.parse_args()
    trees = {"base": os.path.abspath(args.base), "this": THIS_TREE}
    ports = {name: _free_port() for name in trees}
    servers = {name: _serve(tree, ports[name]) for name, tree in trees.items()}
    results: dict = {(name, gzip): [] for name in trees for gzip in (False, True)}
    try:
        for _ in range(args.rounds):
            for gzip in (False, True):
                for name in trees:
                    results[(name, gzip)].append(_wrk(ports[name], servers[name].pid,
                                                      args.duration, gzip))
    finally:
        for process in servers.values():
            process.terminate()
            process.wait(10)
    for gzip in (False, True):
        base, this = results[("base", gzip)], results[("this", gzip)]
        ratios = [mine[0] / theirs[0] for mine, theirs in zip(this, base)]
        label = "Accept-Encoding: gzip" if gzip else "no Accept-Encoding"
        print(f"{label}: base {statistics.median(r for r, _ in base):,.0f} req/s, "
              f"this {statistics.median(r for r, _ in this):,.0f} req/s, "
              f"median round ratio {statistics.median(ratios):.3f}; CPU per request "
              f"base {statistics.median(c for _, c in base):.1f} us, "
              f"this {statistics.median(c for _, c in this):.1f} us")


if __name__ == "__main__":
    main()
