"""Publish/subscribe fan-out: outside against ``websockets.broadcast`` and socketify.

Each server (``benchmarks/apps/pubsub_*.py``) runs pinned to CPU 0 (``taskset -c 0``);
this client runs on CPU 1. ``--subscribers`` (1,000) WebSocket connections subscribe to
one topic; a control connection sends ``go K`` and the server publishes K 32-byte binary
messages to the topic; the client reads every subscriber (one epoll loop, counting
bytes) until each has all K, then asks again, for ``--seconds``. Reported: delivered
messages per second and the server's CPU time (user + system, all its processes and
threads, ``/proc/<pid>/stat``) per delivered message, which does not depend on how fast
the client reads.

Contenders: ``outside`` (one worker, C build), ``outside-2w`` (two worker processes,
``pubsub = "local"``: the subscribers spread over both, the publisher is in one), the
same two with the pure-Python twins (``outside-pure``, ``OUTSIDE_NO_EXTENSIONS=1``),
``websockets`` (asyncio, ``broadcast()``) and ``socketify`` (``app.publish``), when it
is installed. ``redis-p99``: two outside servers of one worker on one Redis
(``redis-server`` on CPU 0 too), 10 subscribers on the second, the first publishing
1,000 messages per second that carry their publish time: the 50th/99th percentiles of
publish-to-receive. Each round runs every contender in turn, ``--repeat`` rounds; the
tables give medians, and the CPU ratios are taken within each round, then the median.

    python -m benchmarks.bench_pubsub --repeat 3 --seconds 3
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from .wsload import connect, process_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
APPS = Path(__file__).resolve().parent / "apps"
FRAME_SIZE = 2 + 32  # a server's 32-byte binary message: 2 bytes of header


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def text_frame(text: str) -> bytes:
    """A masked text frame from a client (payload < 126 bytes)."""
    payload, mask = text.encode(), os.urandom(4)
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


def family(pid: int) -> List[int]:
    """``pid`` and its child processes (worker processes of a supervisor)."""
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children = (task / "children").read_text().split()
            pids += [int(child) for child in children]
    except OSError:
        pass
    return pids


class Server:
    """A server process pinned to CPU 0, stopped by its PID."""

    def __init__(self, argv: Sequence[str], port: int, env_extra: Optional[Dict[str, str]] = None) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), **(env_extra or {}))
        self.port = port
        self.process = subprocess.Popen(["taskset", "-c", "0", sys.executable, *argv], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                time.sleep(0.3)  # every worker is up
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{argv} did not listen on {port}")

    def cpu(self) -> float:
        return process_cpu_seconds(family(self.process.pid))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def subscribe_all(port: int, count: int) -> List[socket.socket]:
    sockets = []
    for _ in range(count):
        sock, rest = connect("127.0.0.1", port, "/ws")
        sock.sendall(text_frame("sub"))
        data = rest
        while len(data) < 4:  # "ok": a 2-byte header and 2 bytes
            data += sock.recv(64)
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def fan_out(server: Server, subscribers: int, seconds: float, batch: int) -> Dict[str, float]:
    """Delivered messages per second and server CPU per delivered message."""
    sockets = subscribe_all(server.port, subscribers)
    control, _ = connect("127.0.0.1", server.port, "/ws")
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ)
    try:
        delivered = 0
        cpu_start, start = server.cpu(), time.monotonic()
        while time.monotonic() - start < seconds:
            control.sendall(text_frame(f"go {batch}"))
            expected = subscribers * batch * FRAME_SIZE
            received = 0
            deadline = time.monotonic() + 30
            while received < expected and time.monotonic() < deadline:
                for key, _ in selector.select(1.0):
                    try:
                        received += len(key.fileobj.recv(1 << 16))  # type: ignore[union-attr]
                    except BlockingIOError:
                        pass
            if received < expected:
                raise RuntimeError(f"only {received} of {expected} bytes arrived")
            delivered += subscribers * batch
        elapsed, cpu = time.monotonic() - start, server.cpu() - cpu_start
    finally:
        selector.close()
        for sock in [*sockets, control]:
            sock.close()
    return {"rate": delivered / elapsed, "cpu_us": cpu / delivered * 1e6}


def redis_latency(subscribers: int, rate: int, count: int) -> Optional[Dict[str, float]]:
    binary = shutil.which("redis-server")
    if binary is None or importlib.util.find_spec("redis") is None:
        return None
    redis_port = free_port()
    redis = subprocess.Popen(["taskset", "-c", "0", binary, "--port", str(redis_port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    servers: List[Server] = []
    try:
        time.sleep(0.3)
        url = f"redis://127.0.0.1:{redis_port}/0"
        for _ in range(2):
            port = free_port()
            servers.append(Server([str(APPS / "pubsub_outside.py"), str(port), "1", url], port))
        sockets = subscribe_all(servers[1].port, subscribers)
        control, _ = connect("127.0.0.1", servers[0].port, "/ws")
        time.sleep(0.3)
        control.sendall(text_frame(f"rate {rate} {count}"))
        latencies: List[float] = []
        buffers = {sock: bytearray() for sock in sockets}
        selector = selectors.DefaultSelector()
        for sock in sockets:
            selector.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + count / rate + 10
        while len(latencies) < subscribers * count and time.monotonic() < deadline:
            for key, _ in selector.select(1.0):
                sock = key.fileobj
                try:
                    data = sock.recv(1 << 16)  # type: ignore[union-attr]
                except BlockingIOError:
                    continue
                now = time.time()
                buffer = buffers[sock]  # type: ignore[index]
                buffer += data
                while len(buffer) >= FRAME_SIZE:
                    latencies.append(now - float(buffer[2:FRAME_SIZE]))
                    del buffer[:FRAME_SIZE]
        selector.close()
        control.close()
        for sock in sockets:
            sock.close()
        latencies.sort()
        return {"p50_ms": latencies[len(latencies) // 2] * 1e3,
                "p99_ms": latencies[int(len(latencies) * 0.99)] * 1e3,
                "received": len(latencies) / (subscribers * count)}
    finally:
        for server in servers:
            server.stop()
        redis.terminate()
        redis.wait(10)


PURE = {"OUTSIDE_NO_EXTENSIONS": "1"}  # the pure-Python twins (the fan-out loop among them)


def contenders() -> Dict[str, List[str]]:
    found = {
        "outside": [str(APPS / "pubsub_outside.py"), "{port}", "1", "local"],
        "outside-2w": [str(APPS / "pubsub_outside.py"), "{port}", "2", "local"],
        "outside-pure": [str(APPS / "pubsub_outside.py"), "{port}", "1", "local"],
        "outside-pure-2w": [str(APPS / "pubsub_outside.py"), "{port}", "2", "local"],
        "websockets": [str(APPS / "pubsub_websockets.py"), "{port}"],
    }
    if importlib.util.find_spec("socketify") is not None:
        found["socketify"] = [str(APPS / "pubsub_socketify.py"), "{port}"]
    return found


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=20, help="messages per go")
    options = parser.parse_args(argv)
    os.sched_setaffinity(0, {1})
    results: Dict[str, List[Dict[str, float]]] = {}
    latencies: List[Dict[str, float]] = []
    for round_number in range(options.repeat):
        names = list(contenders())
        names = names[round_number % len(names):] + names[:round_number % len(names)]
        for name in names:
            port = free_port()
            argv_ = [part.replace("{port}", str(port)) for part in contenders()[name]]
            server = Server(argv_, port, PURE if name.startswith("outside-pure") else None)
            try:
                results.setdefault(name, []).append(
                    fan_out(server, options.subscribers, options.seconds, options.batch))
            finally:
                server.stop()
            print(f"round {round_number + 1} {name}: {results[name][-1]}", flush=True)
        latency = redis_latency(10, 1000, int(1000 * options.seconds))
        if latency is not None:
            latencies.append(latency)
            print(f"round {round_number + 1} redis: {latency}", flush=True)
    print()
    print(f"fan-out of 32-byte messages to {options.subscribers} subscribers, medians of {options.repeat}")
    print("| server | delivered msg/s | server CPU µs per delivered message |")
    print("| --- | ---: | ---: |")
    medians = {name: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
               for name, runs in results.items()}
    for name, median in medians.items():
        print(f"| {name} | {median['rate']:,.0f} | {median['cpu_us']:.3f} |")
    pairs = [(name, "outside") for name in medians if name not in ("outside", "outside-pure-2w")]
    pairs += [(name, "outside-pure") for name in ("outside-pure-2w", "socketify", "websockets")
              if name in medians and "outside-pure" in medians]
    for name, base in pairs:  # ratios within each round (the same machine load), then the median
        ratios = [other["cpu_us"] / ours["cpu_us"] for other, ours in zip(results[name], results[base])]
        print(f"CPU per message: {name} / {base} = {statistics.median(ratios):.2f} "
              f"(rounds: {', '.join(f'{ratio:.2f}' for ratio in ratios)})")
    if latencies:
        print(f"redis publish-to-receive at 1,000 msg/s, 10 subscribers: p50 "
              f"{statistics.median(r['p50_ms'] for r in latencies):.2f} ms, p99 "
              f"{statistics.median(r['p99_ms'] for r in latencies):.2f} ms, received "
              f"{statistics.median(r['received'] for r in latencies):.4f}")


if __name__ == "__main__":
    main()
