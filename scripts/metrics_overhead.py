"""What metrics cost on hello-world: requests/s with metrics off and on (and, given a
second checkout, the same app on it), server pinned to CPU 0 and wrk to CPU 1,
alternating rounds, medians. Also the server's CPU time per request (user + system,
from /proc), which other load on the machine disturbs far less than requests/s.

    python scripts/metrics_overhead.py [--rounds 3] [--baseline /path/to/other/checkout]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = """
import logging
from outside import OutsideHTTP, Response
app = OutsideHTTP(("127.0.0.1", 0))
app.config.update(workers=1, {config})
app.set_route("/", lambda request: Response(200, {{"Content-Type": "text/plain"}}, "Hello, World!"))
app.run()
"""


def _read(path: str) -> str:
    with open(path) as file:
        return file.read()


def serve(tree: str, config: str):
    with tempfile.NamedTemporaryFile("w+", delete=False) as log:
        env = dict(os.environ, PYTHONPATH=tree)
        process = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c", APP.format(config=config)],
                                   cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        match = re.search(r"Listening on http://([\d.]+):(\d+)", _read(log.name))
        if match:
            return process, f"http://{match.group(1)}:{match.group(2)}/"
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(_read(log.name))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    fields = _read(f"/proc/{pid}/stat").rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, seconds: int, pid: int):
    """(requests/s, server CPU microseconds per request)."""
    cpu = cpu_seconds(pid)
    output = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c50", f"-d{seconds}s", url],
                            capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(pid) - cpu
    errors = re.search(r"Socket errors: (.*)", output)
    if errors or "Non-2xx" in output:
        raise RuntimeError(output)
    count = int(re.search(r"(\d+) requests in", output).group(1))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)), cpu / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--baseline", help="another checkout to compare (metrics keys left out)")
    options = parser.parse_args()
    variants = {"metrics off": (ROOT, "metrics=False"), "metrics on": (ROOT, "metrics=True, metrics_port=0")}
    if options.baseline:
        # today's defaults of the listen backlog and of max_socket_reuse (older trees: 50 and 100)
        variants = {"baseline": (options.baseline, "backlog_length=2048, max_socket_reuse=1000"), **variants}
    results = {name: [] for name in variants}
    costs = {name: [] for name in variants}
    for _ in range(options.rounds):
        for name, (tree, config) in variants.items():
            process, url = serve(tree, config)
            try:
                wrk(url, 1, process.pid)  # warm up
                rate, cost = wrk(url, options.seconds, process.pid)
                results[name].append(rate)
                costs[name].append(cost)
            finally:
                process.terminate()
                process.wait(10)
    reference = statistics.median(results["metrics off"])
    reference_cost = statistics.median(costs["metrics off"])
    for name, values in results.items():
        median, cost = statistics.median(values), statistics.median(costs[name])
        print(f"{name:12s} median {median:9.0f} req/s ({median / reference:.3f} of metrics off), "
              f"{cost:6.1f} us CPU/request ({cost / reference_cost:.3f}); "
              f"rounds: {', '.join(f'{v:.0f}' for v in values)}")
    # Other load on the machine drifts slowly: the ratio within each round (runs a few
    # seconds apart) is steadier than the ratio of medians.
    for name in results:
        if name != "metrics off":
            paired = [on / off for on, off in zip(results[name], results["metrics off"])]
            cpu = [on / off for on, off in zip(costs[name], costs["metrics off"])]
            print(f"{name:12s} / metrics off, per round: req/s median {statistics.median(paired):.3f}, "
                  f"CPU/request median {statistics.median(cpu):.3f}")


if __name__ == "__main__":
    main()
