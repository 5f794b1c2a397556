"""WebSocket echo end to end: outside's server against a `websockets` and an aiohttp server.

Every contender serves the same echo on ``/ws`` (``benchmarks/apps``), one worker process,
no compression (the load client offers none). Workloads, each run against every
contender in a rotating order, ``--repeat`` times; the tables give medians:

- ``32b-1``: 32 B messages, one client, one message in flight (round trips per second);
- ``32b-50``: 32 B messages, 50 clients, one message in flight each;
- ``32b-pipelined``: 32 B messages, one connection, 100 messages in flight;
- ``1m-1``: 1 MiB messages, one client (MB/s each way);
- ``idle-1000``: resident memory of the server with 1,000 open idle WebSockets.

outside runs a handler thread per open WebSocket, so it is started with
``max_workers=1100`` (the default, 150, would hold the 151st connection in the backlog).

    python -m benchmarks.bench_websocket_e2e --repeat 3 --seconds 3
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Dict, List, Optional

from benchmarks import wsload
from benchmarks.apps import APPS, CONTENDERS, OUTSIDE_ENV, Contender, Launch
from benchmarks.run import Server, rss_bytes

IDLE_CONNECTIONS = 1000
IN_FLIGHT = 100
MIB = 1024 * 1024

# outside's benchmark app, with enough handler threads for the idle workload.
OUTSIDE_PROGRAM = """
import sys
sys.path.insert(0, {apps!r})
import outside_app
from outside import OutsideHTTP
server = OutsideHTTP(("127.0.0.1", {port}))
server.config.update(workers=1, access_log=False, log_level="WARNING", max_workers=1100)
server.set_route("/hello", outside_app.hello)
outside_app.add_websocket_echo(server)
server.run()
"""


def outside_command(launch: Launch) -> List[str]:
    return [sys.executable, "-c", OUTSIDE_PROGRAM.format(apps=str(APPS), port=launch.port)]


def contenders() -> List[Contender]:
    peers = {contender.name: contender for contender in CONTENDERS}
    return [
        replace(peers["outside"], command=outside_command),
        replace(peers["outside-py"], command=outside_command,
                env={**OUTSIDE_ENV, "OUTSIDE_NO_EXTENSIONS": "1"}),
        peers["websockets"],
        peers["aiohttp"],
    ]


def pipelined(port: int, size: int, in_flight: int, duration: float) -> float:
    """Messages per second echoed on one connection that keeps ``in_flight`` outstanding."""
    sock, rest = wsload.connect("127.0.0.1", port, "/ws")
    frame = wsload.client_frame(os.urandom(size), os.urandom(4))
    counter = wsload.ReplyCounter()
    try:
        counter.feed(rest)
        sock.sendall(frame * in_flight)
        echoed = 0
        start = time.perf_counter()
        deadline = start + duration
        while time.perf_counter() < deadline:
            data = sock.recv(1 << 20)
            if not data:
                raise ConnectionError("the server closed the connection")
            done = counter.feed(data)
            if done:
                echoed += done
                sock.sendall(frame * done)  # refill: always in_flight outstanding
        return echoed / (time.perf_counter() - start)
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


Workload = Callable[[int, float], float]  # (port, seconds) -> rate


def closed_loop(clients: int, size: int, result: str, scale: float = 1.0) -> Workload:
    """``wsload``'s closed-loop echo: each client waits for its echo before sending again."""
    def run(port: int, seconds: float) -> float:
        return wsload.run_echo("127.0.0.1", port, "/ws", clients, size, seconds)[result] / scale
    return run


WORKLOADS: Dict[str, Workload] = {
    "32b-1": closed_loop(1, 32, "rate"),
    "32b-50": closed_loop(50, 32, "rate"),
    "32b-pipelined": lambda port, seconds: pipelined(port, 32, IN_FLIGHT, seconds),
    "1m-1": closed_loop(1, MIB, "bytes_per_s", 1e6),
}
UNITS = {"32b-1": "msg/s", "32b-50": "msg/s", "32b-pipelined": "msg/s", "1m-1": "MB/s"}


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--scratch", default="/tmp/outside-bench-ws")
    args = parser.parse_args(argv)

    servers = [Server(contender, 1, Path(args.scratch), Path(args.scratch)) for contender in contenders()]
    rates: Dict[str, Dict[str, List[float]]] = {name: {s.contender.name: [] for s in servers}
                                                 for name in WORKLOADS}
    idle: Dict[str, Dict[str, float]] = {}
    try:
        for server in servers:
            server.start()
            wsload.check_echo("127.0.0.1", server.launch.port, "/ws")
        for round_ in range(args.repeat):
            for name, workload in WORKLOADS.items():
                turn = servers[round_ % len(servers):] + servers[:round_ % len(servers)]
                for server in turn:
                    rate = workload(server.launch.port, args.seconds)
                    rates[name][server.contender.name].append(rate)
                    print(f"round {round_ + 1} {name:14} {server.contender.name:12} {rate:12,.0f}",
                          file=sys.stderr, flush=True)
                    time.sleep(0.3)
        for server in servers:
            idle[server.contender.name] = idle_memory(server, IDLE_CONNECTIONS)
    finally:
        for server in servers:
            server.stop()
    report(servers, rates, idle, args)


def report(servers: List[Server], rates: Dict[str, Dict[str, List[float]]],
           idle: Dict[str, Dict[str, float]], args: argparse.Namespace) -> None:
    names = [server.contender.name for server in servers]
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.repeat} rounds x "
          f"{args.seconds:g} s, medians; ratio: outside (C) / peer within the same rounds\n")
    print("| workload | unit | " + " | ".join(names) + " | vs websockets | vs aiohttp |")
    print("| --- | --- |" + " ---: |" * (len(names) + 2))
    for workload, by_server in rates.items():
        medians = {name: statistics.median(values) for name, values in by_server.items()}
        ours = by_server["outside"]
        ratios = [statistics.median(mine / theirs for mine, theirs in zip(ours, by_server[peer]))
                  for peer in ("websockets", "aiohttp")]
        cells = " | ".join(f"{medians[name]:,.0f}" for name in names)
        print(f"| {workload} | {UNITS[workload]} | {cells} | {ratios[0]:.2f}x | {ratios[1]:.2f}x |")
    print(f"\n| {IDLE_CONNECTIONS} idle WebSockets | RSS before (MiB) | RSS after (MiB) "
          "| KiB per connection |")
    print("| --- | ---: | ---: | ---: |")
    for name in names:
        memory = idle[name]
        print(f"| {name} | {memory['before']:.1f} | {memory['after']:.1f} "
              f"| {memory['per_connection_kib']:.1f} |")


if __name__ == "__main__":
    main()
