"""WebSocket echo end to end: outside's server against a `websockets` and an aiohttp server.

Every contender serves the same echo on ``/ws`` (``benchmarks/apps``), one worker process,
no compression (the load client offers none). ``outside`` and ``outside-py`` echo from a
handler per connection (``connection.send(connection.recv())`` in a loop, the C build and
the pure Python one); ``outside-events`` (C build) echoes from a message callback
(``ws.on_message(lambda connection, message: connection.send(message))``). Workloads,
each run against every contender in a rotating order, ``--repeat`` times; the tables
give medians:

- ``32b-1``: 32 B messages, one client, one message in flight (round trips per second);
- ``32b-50``: 32 B messages, 50 clients, one message in flight each;
- ``32b-pipelined``: 32 B messages, one connection, 100 messages in flight;
- ``1m-1``: 1 MiB messages, one client (MB/s each way);
- ``idle-1000``: resident memory of the server with 1,000 open idle WebSockets.

Besides the rate, every timed run records the server's CPU time (user + system, all its
processes and threads, from ``/proc/<pid>/stat``) divided by the messages echoed: the
load client runs on the same cores and can saturate one of them (its share of a core is
reported too), and then the rate is the client's, while CPU per message is still the
server's. Ratios are taken within each round, then the median over rounds.

outside runs on its defaults: a blocking handler's thread leaves the ``max_workers`` pool
for the connection's life, and ``max_websockets`` (10,000) is above the 1,000 idle ones.

    python -m benchmarks.bench_websocket_e2e --repeat 5 --seconds 3
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from benchmarks import wsload
from benchmarks.apps import APPS, CONTENDERS, OUTSIDE_ENV, REPO, Contender, Launch
from benchmarks.run import Server, rss_bytes

IDLE_CONNECTIONS = 1000
IN_FLIGHT = 100
MIB = 1024 * 1024

# outside's benchmark app (``/hello`` tells the runner it is up) with the given /ws echo.
OUTSIDE_PROGRAM = """
import sys
sys.path.insert(0, {apps!r})
import outside_app
from outside import OutsideHTTP
server = OutsideHTTP(("127.0.0.1", {port}))
server.config.update(workers=1, access_log=False, log_level="WARNING")
server.set_route("/hello", outside_app.hello)
{websocket}
server.run()
"""
HANDLER_ECHO = "outside_app.add_websocket_echo(server)"
CALLBACK_ECHO = """
from outside import WebSocket
ws = WebSocket()
ws.on_message(lambda connection, message: connection.send(message))
server.set_route("/ws", ws)
"""


def outside_command(websocket: str) -> Callable[[Launch], List[str]]:
    return lambda launch: [sys.executable, "-c",
                           OUTSIDE_PROGRAM.format(apps=str(APPS), port=launch.port, websocket=websocket)]


def _callback_api_missing() -> Optional[str]:
    probe = subprocess.run([sys.executable, "-c", "from outside import WebSocket; WebSocket.on_message"],
                           cwd=REPO, env={**os.environ, **OUTSIDE_ENV}, capture_output=True, text=True)
    return None if probe.returncode == 0 else "this outside has no WebSocket.on_message"


def contenders() -> List[Contender]:
    peers = {contender.name: contender for contender in CONTENDERS}
    return [
        replace(peers["outside"], command=outside_command(HANDLER_ECHO)),
        replace(peers["outside"], name="outside-events", label="outside (C), on_message callback",
                command=outside_command(CALLBACK_ECHO), needs=_callback_api_missing),
        replace(peers["outside-py"], command=outside_command(HANDLER_ECHO),
                env={**OUTSIDE_ENV, "OUTSIDE_NO_EXTENSIONS": "1"}),
        peers["websockets"],
        peers["aiohttp"],
    ]


@dataclass(frozen=True)
class Measurement:
    """One timed run against one contender."""

    rate: float  # in the workload's unit
    messages: int  # echoes received within the timed part
    server_cpu: float  # the server's CPU seconds over the timed part
    server_share: float  # ... as a share of one core
    client_cpu: float  # the load client's share of one core


def pipelined(port: int, pids: Sequence[int], size: int, in_flight: int, duration: float) -> Measurement:
    """Messages per second echoed on one connection that keeps ``in_flight`` outstanding."""
    sock, rest = wsload.connect("127.0.0.1", port, "/ws")
    frame = wsload.client_frame(os.urandom(size), os.urandom(4))
    counter = wsload.ReplyCounter()
    try:
        counter.feed(rest)
        server_start = wsload.process_cpu_seconds(pids)
        cpu_start, start = time.process_time(), time.perf_counter()
        sock.sendall(frame * in_flight)
        echoed = 0
        deadline = start + duration
        while time.perf_counter() < deadline:
            data = sock.recv(1 << 20)
            if not data:
                raise ConnectionError("the server closed the connection")
            done = counter.feed(data)
            if done:
                echoed += done
                sock.sendall(frame * done)  # refill: always in_flight outstanding
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        server_cpu = wsload.process_cpu_seconds(pids) - server_start
        return Measurement(echoed / elapsed, echoed, server_cpu, server_cpu / elapsed, cpu / elapsed)
    finally:
        wsload.close(sock)


def idle_memory(server: Server, count: int) -> Dict[str, float]:
    """Resident memory (MiB) before and with ``count`` open idle WebSockets."""
    before = rss_bytes(server.pids())
    sockets: List[socket.socket] = []
    try:
        for _ in range(count):
            sock, _rest = wsload.connect("127.0.0.1", server.launch.port, "/ws")
            sockets.append(sock)
        time.sleep(1.0)
        after = rss_bytes(server.pids())
        wsload.check_echo("127.0.0.1", server.launch.port, "/ws")  # still serving
    finally:
        for sock in sockets:
            sock.close()
    return {"before": before / MIB, "after": after / MIB,
            "per_connection_kib": (after - before) / count / 1024}


Run = Callable[[int, Sequence[int], float], Measurement]  # (port, server pids, seconds)


@dataclass(frozen=True)
class Workload:
    run: Run
    unit: str  # of the rate
    cpu_unit: str  # of the server's CPU time per message
    cpu_scale: float  # CPU seconds per message -> cpu_unit


def closed_loop(clients: int, size: int, key: str = "rate", scale: float = 1.0) -> Run:
    """``wsload``'s closed-loop echo: each client waits for its echo before sending again."""
    def run(port: int, pids: Sequence[int], seconds: float) -> Measurement:
        result = wsload.run_echo("127.0.0.1", port, "/ws", clients, size, seconds, pids)
        return Measurement(result[key] / scale, int(result["messages"]), result["server_cpu_s"],
                           result["server_cpu"], result["client_cpu"])
    return run


WORKLOADS: Dict[str, Workload] = {
    "32b-1": Workload(closed_loop(1, 32), "msg/s", "µs/msg", 1e6),
    "32b-50": Workload(closed_loop(50, 32), "msg/s", "µs/msg", 1e6),
    "32b-pipelined": Workload(lambda port, pids, seconds: pipelined(port, pids, 32, IN_FLIGHT, seconds),
                              "msg/s", "µs/msg", 1e6),
    # One message is one MiB each way: CPU milliseconds per message are per MiB echoed.
    "1m-1": Workload(closed_loop(1, MIB, "bytes_per_s", 1e6), "MB/s", "ms/MiB", 1e3),
}
# Ratio columns (a, b): rates as a / b, CPU per message as b / a; above 1 favours a.
PAIRS: List[Tuple[str, str]] = [("outside", "websockets"), ("outside", "aiohttp"),
                                ("outside-events", "websockets"), ("outside-events", "aiohttp"),
                                ("outside-events", "outside")]
SHORT = {"outside-events": "events"}

Results = Dict[str, Dict[str, List[Measurement]]]  # workload -> contender -> one per round


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--only", default="",
                        help="comma-separated contenders (default: all of "
                             + ", ".join(c.name for c in contenders()) + ")")
    parser.add_argument("--scratch", default="/tmp/outside-bench-ws")
    parser.add_argument("--no-pin", action="store_true",
                        help="let the kernel place servers and the load client on any CPU")
    parser.add_argument("--warmup", type=float, default=1.0,
                        help="seconds of each workload per server before the timed rounds")
    args = parser.parse_args(argv)
    pin = not args.no_pin and len(os.sched_getaffinity(0)) >= 2
    if pin:  # the load client on one CPU, every server on another: no fight over a core
        server_cpu, client_cpu = sorted(os.sched_getaffinity(0))[:2]
        os.sched_setaffinity(0, {client_cpu})

    known = {contender.name for contender in contenders()}
    only = set(args.only.split(",")) - {""} if args.only else known
    if only - known:
        parser.error(f"unknown contenders: {', '.join(sorted(only - known))}")
    chosen = [contender for contender in contenders() if contender.name in only]
    runnable = []
    for contender in chosen:
        reason = contender.needs()
        if reason:
            print(f"skipping {contender.name}: {reason}", file=sys.stderr, flush=True)
        else:
            runnable.append(contender)
    servers = [Server(contender, 1, Path(args.scratch), Path(args.scratch)) for contender in runnable]
    results: Results = {name: {s.contender.name: [] for s in servers} for name in WORKLOADS}
    idle: Dict[str, Dict[str, float]] = {}
    try:
        for server in servers:
            server.start()
            if pin:
                pin_threads(server.pids(), server_cpu)
            wsload.check_echo("127.0.0.1", server.launch.port, "/ws")
        # One untimed pass: every server reaches its steady state (threads started, the
        # allocator's thresholds raised by large messages) before anything is measured.
        for server in servers if args.warmup > 0 else ():
            for workload in WORKLOADS.values():
                workload.run(server.launch.port, server.pids(), args.warmup)
        for round_ in range(args.repeat):
            for name, workload in WORKLOADS.items():
                turn = servers[round_ % len(servers):] + servers[:round_ % len(servers)]
                for server in turn:
                    got = workload.run(server.launch.port, server.pids(), args.seconds)
                    results[name][server.contender.name].append(got)
                    print(f"round {round_ + 1} {name:14} {server.contender.name:14} "
                          f"{got.rate:10,.0f} {workload.unit:6} "
                          f"{per_message(got, workload):8.2f} {workload.cpu_unit:7}"
                          f" server CPU {got.server_share:.2f}, client CPU {got.client_cpu:.2f}",
                          file=sys.stderr, flush=True)
                    time.sleep(0.3)
        for server in servers:
            idle[server.contender.name] = idle_memory(server, IDLE_CONNECTIONS)
    finally:
        for server in servers:
            server.stop()
    args.pinned = pin
    report([server.contender.name for server in servers], results, idle, args)


def pin_threads(pids: Sequence[int], cpu: int) -> None:
    """Keep every thread of the processes ``pids`` on ``cpu`` (threads started later
    inherit it from the thread that starts them)."""
    for pid in pids:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                os.sched_setaffinity(int(task), {cpu})
            except OSError:  # the thread ended meanwhile
                pass


def per_message(measurement: Measurement, workload: Workload) -> float:
    """The server's CPU time per echoed message, in the workload's ``cpu_unit``."""
    if not measurement.messages:
        return float("nan")
    return measurement.server_cpu / measurement.messages * workload.cpu_scale


def paired_median(ours: List[float], theirs: List[float]) -> float:
    """The median over rounds of ours / theirs, each ratio taken within one round."""
    return statistics.median(a / b for a, b in zip(ours, theirs))


def ratio_head(numerator: str, denominator: str) -> str:
    return f"{SHORT.get(numerator, numerator)} / {SHORT.get(denominator, denominator)}"


def table(names: List[str], heads: List[str], rows: List[Tuple[str, str, List[str]]]) -> None:
    """Print a Markdown table: workload, unit, one column per contender, then the ratios."""
    print("| workload | unit | " + " | ".join(names + heads) + " |")
    print("| --- | --- |" + " ---: |" * (len(names) + len(heads)))
    for workload, unit, cells in rows:
        print(f"| {workload} | {unit} | " + " | ".join(cells) + " |")


def report(names: List[str], results: Results, idle: Dict[str, Dict[str, float]],
           args: argparse.Namespace) -> None:
    pairs = [(a, b) for a, b in PAIRS if a in names and b in names]
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, {args.repeat} rounds x {args.seconds:g} s after a "
          f"{args.warmup:g} s warm-up, {'servers and client pinned to separate CPUs' if args.pinned else 'unpinned'}, "
          "medians; ratios: the median over rounds of the ratio within each round\n")

    print("Rate (ratios a / b: above 1, a echoed more)\n")
    rows = []
    for name, workload in WORKLOADS.items():
        rates = {contender: [m.rate for m in runs] for contender, runs in results[name].items()}
        rows.append((name, workload.unit, [f"{statistics.median(rates[n]):,.0f}" for n in names]
                     + [f"{paired_median(rates[a], rates[b]):.2f}x" for a, b in pairs]))
    table(names, [ratio_head(a, b) for a, b in pairs], rows)

    print("\nServer CPU time per message (ratios b / a: above 1, a used less CPU per message)\n")
    rows = []
    for name, workload in WORKLOADS.items():
        cpu = {contender: [per_message(m, workload) for m in runs]
               for contender, runs in results[name].items()}
        digits = 1 if workload.cpu_scale == 1e6 else 2
        rows.append((name, workload.cpu_unit, [f"{statistics.median(cpu[n]):.{digits}f}" for n in names]
                     + [f"{paired_median(cpu[b], cpu[a]):.2f}x" for a, b in pairs]))
    table(names, [ratio_head(b, a) for a, b in pairs], rows)

    print("\nCPU share of one core during the timed runs, server / load client\n")
    print("| workload | " + " | ".join(names) + " |")
    print("| --- |" + " ---: |" * len(names))
    for name in WORKLOADS:
        cells = [f"{statistics.median(m.server_share for m in results[name][n]):.2f} / "
                 f"{statistics.median(m.client_cpu for m in results[name][n]):.2f}" for n in names]
        print(f"| {name} | " + " | ".join(cells) + " |")

    print(f"\n| {IDLE_CONNECTIONS} idle WebSockets | RSS before (MiB) | RSS after (MiB) "
          "| KiB per connection |")
    print("| --- | ---: | ---: | ---: |")
    for name in names:
        memory = idle[name]
        print(f"| {name} | {memory['before']:.1f} | {memory['after']:.1f} "
              f"| {memory['per_connection_kib']:.1f} |")


if __name__ == "__main__":
    main()
