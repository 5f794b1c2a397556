"""Ten zero-downtime reloads (SIGHUP) while wrk loads the server: what wrk saw.

    python scripts/reload_under_load.py [--reloads 10] [--workers 2] [--connections 50]

Starts ``tests/apps/pid.py`` with a supervisor, runs ``wrk`` for the whole time, sends
SIGHUP, waits until every worker has been replaced, and so on; then prints wrk's
requests, socket errors and non-2xx answers. Exits 1 if any request failed.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from servers import start_app  # noqa: E402


def wait_replaced(server, old: set, count: int, timeout: float = 30.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        current = set(server.children())
        if len(current) == count and not current & old:
            return time.monotonic() - started
        time.sleep(0.02)
    raise RuntimeError(f"workers not replaced within {timeout} s:\n{server.log()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reloads", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between reloads")
    options = parser.parse_args()
    with start_app("pid", {"workers": options.workers}) as server:
        duration = int(options.reloads * (options.pause + 2) + 4)
        load = subprocess.Popen(["wrk", "-t2", f"-c{options.connections}", f"-d{duration}s",
                                 "--timeout", "5s", server.url + "/"],
                                stdout=subprocess.PIPE, text=True)
        time.sleep(1.5)
        pids, times = set(server.children()), []
        for _ in range(options.reloads):
            old = set(server.children())
            server.send_signal(signal.SIGHUP)
            times.append(wait_replaced(server, old, options.workers))
            pids |= set(server.children())
            time.sleep(options.pause)
        output, _ = load.communicate(timeout=duration + 30)
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    socket_errors = [int(value) for value in errors.groups()] if errors else [0, 0, 0, 0]
    non_2xx = int(re.search(r"Non-2xx or 3xx responses: (\d+)", output).group(1)) \
        if "Non-2xx" in output else 0
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)
    print(output.strip())
    print(f"\nreloads: {options.reloads}, worker processes seen: {len(pids)}, "
          f"replacement time: median {sorted(times)[len(times) // 2]:.2f} s, max {max(times):.2f} s")
    print(f"requests: {requests} ({rate}/s), socket errors (connect, read, write, timeout): "
          f"{socket_errors}, non-2xx: {non_2xx}")
    return 0 if not any(socket_errors) and not non_2xx else 1


if __name__ == "__main__":
    sys.exit(main())
