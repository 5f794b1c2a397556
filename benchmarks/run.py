"""End-to-end benchmark: outside against its peers, on loopback, driven by wrk and wsload.

Every contender (``benchmarks/apps``) is started once on 127.0.0.1 with the same number
of worker processes, checked for correct answers, and then driven workload by workload,
round by round, with the contenders in a rotating order, so that drift of this shared
machine hits all of them alike. The servers run on one CPU (``taskset -c 0``), the load
generators on another (``-c 1``). Per run: the rate, p50 and p99 latency, and the server's
CPU time per request (all its processes, from /proc). The medians, spreads (min-max) and
ratios go to ``benchmarks/RESULTS.md`` with charts in ``benchmarks/charts/``.

    python -m benchmarks                      # everything: 3 rounds of 5 s runs
    python -m benchmarks --quick              # a smoke run: 1 round of 1 s runs
    python -m benchmarks --only outside,uvicorn,hello --repeat 5 --workers 2
    python -m benchmarks --only peers,wsgi,hello,json-50,pipeline-256   # the fastest Python servers

Every process the runner starts is in a process group of its own and is stopped by that
id when the run ends, also on Ctrl-C, SIGTERM or an error.
"""
from __future__ import annotations

import argparse
import http.client
import importlib.metadata
import json
import os
import platform
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from benchmarks import report, wsload
from benchmarks.apps import CONTENDERS, PEERS, REPO, WSGI, Contender, Launch
from benchmarks.apps._serve import HELLO, JSON_TYPE
from benchmarks.report import KIB, MIB, IdleMemory, Sample, Workload

HERE = Path(__file__).resolve().parent
JSON_BODY_SIZE = 4 * KIB
PAUSE = 0.5  # seconds between runs, for sockets and servers to settle
PIPELINE_SCRIPT = HERE / "wrk" / "pipeline.lua"
PIPELINE_DEPTH = 16  # requests per send in pipeline.lua
JSON_MESSAGE = {"message": "Hello, World!"}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100  # /proc CPU times are in these


# --------------------------------------------------------------------------- workloads

WORKLOADS: List[Workload] = [
    Workload("hello-1", "hello", 1, "/hello", "Hello world GET, 1 connection"),
    Workload("hello-50", "hello", 50, "/hello", "Hello world GET, 50 connections"),
    Workload("hello-256", "hello", 256, "/hello", "Hello world GET, 256 connections"),
    Workload("json-50", "json", 50, "/json", "JSON built per request (GET /json), 50 connections"),
    Workload("pipeline-256", "pipeline", 256, "/hello",
             f"Hello world GET, 256 connections, {PIPELINE_DEPTH} pipelined per send"),
    Workload("echo-50", "echo", 50, "/echo", "4 KiB JSON POST echoed, 50 connections", JSON_BODY_SIZE),
    Workload("static-1m", "static", 16, "/static/1m.bin", "1 MiB static file, 16 connections", MIB),
    Workload("static-100m", "static", 2, "/static/100m.bin", "100 MiB static file, 2 connections", 100 * MIB),
    Workload("ws-32b-1", "ws", 1, "/ws", "WebSocket echo, 32 B messages, 1 client", 32),
    Workload("ws-32b-50", "ws", 50, "/ws", "WebSocket echo, 32 B messages, 50 clients", 32),
    Workload("ws-1m", "ws", 1, "/ws", "WebSocket echo, 1 MiB messages, 1 client", MIB),
    Workload("idle-1000", "idle", 1000, "/hello", "1,000 idle keep-alive connections: server memory"),
]


# --------------------------------------------------------------------------- wrk

WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
SIZE_UNITS = {"B": 1, "KB": KIB, "MB": MIB, "GB": KIB * MIB, "TB": MIB * MIB}


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run reports (latencies in milliseconds)."""

    requests: int
    requests_per_s: float
    bytes_per_s: float
    p50_ms: float
    p99_ms: float
    socket_errors: int
    bad_status: int


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    return float(match.group(1)) * WRK_UNITS[match.group(2)] if match else float("nan")


def _size_bytes(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(B|KB|MB|GB|TB)", text)
    return float(match.group(1)) * SIZE_UNITS[match.group(2)] if match else float("nan")


def parse_wrk(output: str) -> WrkResult:
    """Read the summary of ``wrk --latency`` output."""
    def find(pattern: str, default: str = "nan") -> str:
        match = re.search(pattern, output, re.MULTILINE)
        return match.group(1) if match else default
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return WrkResult(
        requests=int(find(r"^\s*(\d+) requests in", "0")),
        requests_per_s=float(find(r"^Requests/sec:\s+([\d.]+)")),
        bytes_per_s=_size_bytes(find(r"^Transfer/sec:\s+(\S+)", "")),
        p50_ms=_duration_ms(find(r"^\s+50(?:\.000)?%\s+(\S+)", "")),
        p99_ms=_duration_ms(find(r"^\s+99(?:\.000)?%\s+(\S+)", "")),
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        bad_status=int(find(r"Non-2xx or 3xx responses: (\d+)", "0")),
    )


def wrk_command(url: str, connections: int, duration: float, script: Optional[Path] = None) -> List[str]:
    """wrk with one thread (as in the goals), latency percentiles, keep-alive asked for.

    ``Connection: keep-alive`` is sent explicitly because outside 1.5.8 closed HTTP/1.1
    connections without it; every other server keeps them open either way.
    """
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
               f"--timeout={max(10, round(duration * 2))}s", "-H", "Connection: keep-alive"]
    if script is not None:
        command += ["-s", str(script)]
    return command + [url]


def json_body() -> bytes:
    """A JSON document of exactly 4 KiB."""
    body = json.dumps({"items": ["x" * 60] * 60})
    return (body[:-1] + " " * (JSON_BODY_SIZE - len(body)) + "}").encode()


def json_post_script(directory: Path, body: bytes) -> Path:
    """A wrk Lua script that POSTs ``body`` as JSON."""
    path = directory / "post_json.lua"
    path.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                    f"wrk.body = [[{body.decode()}]]\n")
    return path


# --------------------------------------------------------------------------- processes

def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def group_pids(pgid: int) -> List[int]:
    """The processes in a process group (a server and the workers it forked)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                pids.append(int(entry.name))
    return pids


def cpu_ticks_of(pids: Iterable[int]) -> int:
    """CPU time of ``pids`` (clock ticks): each with all its threads and its reaped children."""
    total = 0
    for pid in pids:
        try:
            total += report.cpu_ticks(Path(f"/proc/{pid}/stat").read_text())
        except (OSError, IndexError, ValueError):
            pass  # gone between listing and reading
    return total


def pinned(command: List[str], cpus: str) -> List[str]:
    """``command`` run on the CPUs ``cpus`` (a taskset list such as ``0`` or ``0-1``); as is when
    ``cpus`` is empty."""
    return ["taskset", "-c", cpus] + command if cpus else command


def rss_bytes(pids: Iterable[int]) -> int:
    """The sum of the resident set sizes of ``pids``."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except (OSError, IndexError):
            pass
    return total


class Server:
    """One running contender, in a process group of its own."""

    def __init__(self, contender: Contender, workers: int, static_dir: Path, scratch: Path, cpus: str = "") -> None:
        self.contender = contender
        self.cpus = cpus
        self.launch = Launch(0, workers, static_dir, scratch / contender.name)
        self.launch.run_dir.mkdir(parents=True, exist_ok=True)
        self.log = self.launch.run_dir / "server.log"
        self.process: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 30.0) -> None:
        """Start the server on a free port and wait until it answers."""
        self.launch = replace(self.launch, port=free_port())
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                pinned(self.contender.command(self.launch), self.cpus), env=self.contender.environment(self.launch),
                cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"exited with {self.process.returncode}: {self.log_tail()}")
            if self._answers():
                return
            time.sleep(0.1)
        raise RuntimeError(f"did not answer within {timeout:.0f} s: {self.log_tail()}")

    def _answers(self) -> bool:
        try:
            if not self.contender.http:
                socket.create_connection(("127.0.0.1", self.launch.port), timeout=1).close()
                return True
            status, _ = http_get(self.launch.port, "/hello")
            return status == 200
        except OSError:
            return False

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pids(self) -> List[int]:
        return group_pids(self.process.pid) if self.process else []

    def cpu_ticks(self) -> int:
        """CPU time so far of every process of the server (its whole process group)."""
        return cpu_ticks_of(self.pids())

    def stop(self) -> None:
        """SIGTERM to the group, SIGKILL to whatever is left after 5 s."""
        if self.process is None:
            return
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and group_pids(self.process.pid):
                self.process.poll()
                time.sleep(0.05)
            if not group_pids(self.process.pid):
                break
        self.process.poll()
        self.process = None

    def log_tail(self, lines: int = 5) -> str:
        text = self.log.read_text(errors="replace").strip().splitlines() if self.log.exists() else []
        return " | ".join(text[-lines:]) or "(no output)"


def http_get(port: int, path: str, body: Optional[bytes] = None, timeout: float = 10.0) -> Tuple[int, bytes]:
    """(status, body) of one request; POST when ``body`` is given."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request("POST" if body is not None else "GET", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# --------------------------------------------------------------------------- measuring

def check_answers(server: Server, group: str, static_dir: Path, json_body: bytes) -> Optional[str]:
    """Why the contender's answers for ``group`` are wrong, or None when they are right."""
    port = server.launch.port
    try:
        if group in ("hello", "idle"):
            status, body = http_get(port, "/hello")
            return None if (status, body) == (200, HELLO) else f"GET /hello gave {status} {body[:40]!r}"
        if group == "json":
            return check_json(port)
        if group == "pipeline":
            count = pipelined_answers(port, PIPELINE_DEPTH)
            return None if count == PIPELINE_DEPTH else f"{count} answers to {PIPELINE_DEPTH} pipelined GET /hello"
        if group == "echo":
            status, body = http_get(port, "/echo", json_body)
            return None if (status, body) == (200, json_body) else f"POST /echo gave {status}, {len(body)} bytes"
        if group == "static":
            status, body = http_get(port, "/static/1m.bin")
            expected = (static_dir / "1m.bin").read_bytes()
            return None if (status, body) == (200, expected) else f"GET /static/1m.bin gave {status}, {len(body)} bytes"
        if group == "ws":
            wsload.check_echo("127.0.0.1", port, "/ws")
            return None
    except (OSError, ValueError, http.client.HTTPException) as exc:
        return f"{type(exc).__name__}: {exc}"
    return f"unknown workload group {group}"


def check_json(port: int) -> Optional[str]:
    """Why ``GET /json`` is wrong (not the message, or not labelled as JSON), or None."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/json")
        response = connection.getresponse()
        body = response.read()
        content_type = response.getheader("Content-Type", "")
    finally:
        connection.close()
    if response.status != 200 or not content_type.startswith(JSON_TYPE):
        return f"GET /json gave {response.status} with Content-Type {content_type!r}"
    return None if json.loads(body) == JSON_MESSAGE else f"GET /json gave {body[:60]!r}"


def pipelined_answers(port: int, depth: int, timeout: float = 10.0) -> int:
    """How many of ``depth`` GET /hello sent in one piece get a 200 with the hello body."""
    request = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    received = b""
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request * depth)
        while received.count(HELLO) < depth and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return min(received.count(b" 200 "), received.count(HELLO))


def run_wrk(server: Server, workload: Workload, duration: float, script: Optional[Path],
            cpus: str = "") -> Sample:
    """One wrk run; wrk counts every response, pipelined ones included (checked against
    nginx's access log, see benchmarks/README.md), so its rate needs no multiplying."""
    url = f"http://127.0.0.1:{server.launch.port}{workload.path}"
    before = server.cpu_ticks()
    done = subprocess.run(pinned(wrk_command(url, workload.connections, duration, script), cpus),
                          capture_output=True, text=True, timeout=duration * 4 + 60)
    after = server.cpu_ticks()
    result = parse_wrk(done.stdout)
    if result.requests == 0:
        raise RuntimeError(f"no request completed in {duration:g} s (stalled or starved; "
                           f"wrk: {done.stdout.strip().splitlines()[-1:] or done.stderr.strip()[-200:]})")
    if workload.group == "pipeline":
        # wrk times a batch (the last of its 16 answers), then "corrects" the histogram for
        # coordinated omission with an interval computed from every answer: 16 times too
        # short, so its percentiles come out wrong (often 0). No latency for this workload.
        result = replace(result, p50_ms=float("nan"), p99_ms=float("nan"))
    return Sample(server.contender.name, workload.name, 0, result.requests_per_s, result.p50_ms, result.p99_ms,
                  result.bytes_per_s, result.socket_errors + result.bad_status,
                  cpu_per_request=report.cpu_per_request(before, after, result.requests, CLOCK_TICKS))


def run_ws(server: Server, workload: Workload, duration: float, cpus: str = "") -> Sample:
    before = server.cpu_ticks()
    done = subprocess.run(pinned([sys.executable, "-m", "benchmarks.wsload", "--port", str(server.launch.port),
                                  "--clients", str(workload.connections), "--size", str(workload.size),
                                  "--duration", str(duration)], cpus), cwd=REPO, capture_output=True, text=True,
                          timeout=duration * 4 + 60)
    after = server.cpu_ticks()
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "wsload failed")
    result = json.loads(done.stdout)
    messages = round(result["rate"] * duration)  # wsload reports a rate over the run, not a count
    return Sample(server.contender.name, workload.name, 0, result["rate"], result["p50_ms"], result["p99_ms"],
                  result["bytes_per_s"], result["errors"],
                  cpu_per_request=report.cpu_per_request(before, after, messages, CLOCK_TICKS))


IDLE_REQUEST = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"
IDLE_BATCH = 50  # connections opened at once (stays under the smallest listen backlog)


def open_idle(port: int, count: int, timeout: float = 10.0) -> Tuple[List[socket.socket], List[socket.socket]]:
    """Open ``count`` connections and send one request on each; return all the sockets and
    those that were answered (a server that never accepts leaves the rest in its backlog)."""
    sockets: List[socket.socket] = []
    answered: List[socket.socket] = []
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for first in range(0, count, IDLE_BATCH):
            for _ in range(min(IDLE_BATCH, count - first)):
                sock = socket.socket()
                sock.setblocking(False)
                sock.connect_ex(("127.0.0.1", port))
                selector.register(sock, selectors.EVENT_WRITE)
                sockets.append(sock)
            while selector.get_map() and time.monotonic() < deadline:
                for key, events in selector.select(timeout=0.2):
                    sock = key.fileobj
                    if events & selectors.EVENT_WRITE:
                        try:
                            sock.send(IDLE_REQUEST)
                            selector.modify(sock, selectors.EVENT_READ)
                        except OSError:
                            selector.unregister(sock)
                    else:
                        selector.unregister(sock)
                        drain(sock)
                        answered.append(sock)
            if time.monotonic() >= deadline:
                break
    return sockets, answered


def drain(sock: socket.socket) -> bool:
    """Read what is waiting without blocking; False when the peer has closed."""
    try:
        while sock.recv(65536):
            pass
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False


def run_idle(server: Server, workload: Workload) -> Sample:
    before = rss_bytes(server.pids())
    sockets, answered = open_idle(server.launch.port, workload.connections)
    try:
        time.sleep(0.5)  # let the server settle; well under every keep-alive timeout
        after = rss_bytes(server.pids())
        held = sum(drain(sock) for sock in answered)
    finally:
        for sock in sockets:
            sock.close()
    return Sample(server.contender.name, workload.name, 0, idle=IdleMemory(before, after, held))


def measure(server: Server, workload: Workload, duration: float, script: Optional[Path], cpus: str = "") -> Sample:
    """One run of ``workload`` against ``server``, the load generator on ``cpus``."""
    if workload.group == "ws":
        return run_ws(server, workload, duration, cpus)
    if workload.group == "idle":
        return run_idle(server, workload)
    scripts = {"echo": script, "pipeline": PIPELINE_SCRIPT}
    return run_wrk(server, workload, duration, scripts.get(workload.group), cpus)


# --------------------------------------------------------------------------- profiling

def collapsed_hotspots(collapsed: str, top: int = 12) -> Tuple[int, List[Tuple[str, int]], List[Tuple[str, int]]]:
    """From py-spy's raw (collapsed) stacks: total samples, the top frames by own samples and
    the top frames by inclusive samples (a frame counted once per stack)."""
    own: Dict[str, int] = defaultdict(int)
    inclusive: Dict[str, int] = defaultdict(int)
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        # py-spy puts the process first with --subprocesses; line numbers would split a function
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";") if not frame.startswith("process ")]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    def ranked(table: Dict[str, int]) -> List[Tuple[str, int]]:
        return sorted(table.items(), key=lambda item: -item[1])[:top]
    return total, ranked(own), ranked(inclusive)


def wait_or_signal(process: subprocess.Popen, steps: Sequence[Tuple[float, int]]) -> None:
    """Wait for ``process``; each time a grace period ends, send the next signal to its group."""
    for grace, sig in steps:
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, sig)
    process.wait()


def profile(server: Server, workload: Workload, duration: float, scratch: Path, cpus: str = "") -> str:
    """py-spy samples of ``server`` (all its processes) under ``workload``, as collapsed stacks."""
    if shutil.which("py-spy") is None:
        return ""
    output = scratch / f"profile-{server.contender.name}.txt"
    spy = subprocess.Popen(["py-spy", "record", "--format", "raw", "--output", str(output), "--rate", "250",
                            "--subprocesses", "--nonblocking", "--duration", str(max(1, round(duration))),
                            "--pid", str(server.process.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    try:
        time.sleep(0.5)
        run_wrk(server, workload, duration, None, cpus)
        # py-spy writes what it has on SIGINT; it has been seen to outlive its --duration.
        wait_or_signal(spy, ((15.0, signal.SIGINT), (10.0, signal.SIGKILL)))
    finally:
        wait_or_signal(spy, ((0.0, signal.SIGKILL),))
    return output.read_text() if output.exists() else ""


# --------------------------------------------------------------------------- the run

WORKLOAD_GROUPS = sorted({w.group for w in WORKLOADS})
CONTENDER_TAGS = sorted({tag for c in CONTENDERS for tag in c.tags})


def select(only: Optional[str]) -> Tuple[List[Contender], List[Workload]]:
    """Contenders and workloads named by ``--only`` (names of contenders, contender tags,
    workloads or workload groups)."""
    if not only:
        return list(CONTENDERS), list(WORKLOADS)
    names = {name.strip() for name in only.split(",") if name.strip()}
    known = ({c.name for c in CONTENDERS} | set(CONTENDER_TAGS) | {w.name for w in WORKLOADS}
             | set(WORKLOAD_GROUPS))
    if names - known:
        raise SystemExit(f"--only: unknown {', '.join(sorted(names - known))}; known: {', '.join(sorted(known))}")
    contenders = [c for c in CONTENDERS if c.name in names or c.tags & names] or list(CONTENDERS)
    workloads = [w for w in WORKLOADS if w.name in names or w.group in names] or list(WORKLOADS)
    return contenders, workloads


def runs(contender: Contender, workload: Workload) -> bool:
    """Whether ``contender`` is measured with ``workload``."""
    return workload.group in contender.serves and (contender.workloads is None or workload.name in contender.workloads)


def sections(contenders: Sequence[Contender]) -> Tuple[Dict[str, str], List[report.Section]]:
    """The labels of the main tables (every contender but the WSGI-only ones) and the
    report's WSGI section (each app compared with outside serving the same app)."""
    main = {c.name: c.label for c in contenders if c.workloads is None}
    wsgi = [c for c in contenders if WSGI in c.tags]
    wsgi.sort(key=lambda c: (c.wsgi_app != "plain", not c.name.startswith("outside")))
    references = {c.name: "outside-wsgi" if c.wsgi_app == "plain" else "outside-wsgi-flask" for c in wsgi}
    section = report.Section(
        "WSGI apps", "The same WSGI app on each WSGI server: a plain WSGI callable (`apps/wsgi_plain.py`) "
        "and a two-route Flask app (`apps/wsgi_flask.py`); outside serves them with `server.mount(\"/\", app)`. "
        "Ratios are to outside serving the same app.", {c.name: c.label for c in wsgi}, references,
        frozenset(w for c in wsgi if c.workloads for w in c.workloads) or None, ("wsgi_rps.png", "wsgi_cpu.png"))
    return main, [section] if wsgi else []


def machine_info() -> Dict[str, str]:
    """CPU model, cores, memory, kernel, Python."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    memory = re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.MULTILINE)
    return {"CPU": model.group(1).strip() if model else platform.processor() or "unknown",
            "cores": str(os.cpu_count()),
            "memory": f"{int(memory.group(1)) / MIB:.0f} GiB" if memory else "unknown",
            "kernel": f"{platform.system()} {platform.release()}",
            "Python": platform.python_version()}


def _tool_version(command: List[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except OSError:
        return "missing"
    match = re.search(r"(\d+\.\d+[\w.+-]*)", done.stdout + done.stderr)
    return match.group(1) if match else "unknown"


def versions() -> Dict[str, str]:
    """The versions of outside (with its active twin) and of every peer and tool."""
    probe = subprocess.run([sys.executable, "-c", "import outside, outside.speedups as s; "
                            "print(outside.__version__, s.ACTIVE)"], cwd=REPO, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(REPO)})
    found = {"outside": (probe.stdout.strip().replace(" ", " (twins: ") + ")") if probe.returncode == 0 else "?"}
    for package in ("uvicorn", "httptools", "uvloop", "gunicorn", "flask", "werkzeug", "aiohttp", "websockets",
                    "granian", "socketify", "bjoern", "fastpysgi"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "missing"
    found["nginx"] = _tool_version(["nginx", "-v"])
    found["wrk"] = _tool_version(["wrk", "-v"])
    return found


def peer_charts(directory: Path, contenders: Sequence[Contender], workloads: Sequence[Workload],
                samples: Sequence[Sample], extra: Sequence[report.Section]) -> List[Path]:
    """Bar charts of the peers set (hello, json, pipeline) and of each extra section."""
    peers = {c.name: c.label for c in contenders if PEERS in c.tags}
    fast = [w for w in workloads if w.group in ("hello", "json", "pipeline")]
    found = []
    for index, (suffix, what) in enumerate((("rps", ""), ("cpu", ": server CPU per request"))):
        cpu = index == 1
        found.append(report.bar_chart(directory / f"peers_{suffix}.png", "outside against the fastest Python "
                                      "servers" + what, fast, samples, peers, {"outside": "outside"}, cpu))
        for section in extra:
            shown = [w for w in fast if section.workloads is None or w.name in section.workloads]
            found.append(report.bar_chart(directory / section.charts[index], section.title + what, shown, samples,
                                          dict(section.labels), section.references, cpu))
    return [path for path in found if path is not None]


def make_static_files(directory: Path) -> Path:
    """The files served by the static workloads (random bytes: nothing compresses them)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, size in (("1m.bin", MIB), ("100m.bin", 100 * MIB)):
        with open(directory / name, "wb") as file:
            for _ in range(size // MIB):
                file.write(os.urandom(MIB))
    return directory


def raise_fd_limit() -> None:
    """Enough descriptors for 1,000 idle connections (inherited by the servers)."""
    import resource  # POSIX only: the runner's pure functions stay importable anywhere

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


def interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends a run the way Ctrl-C does: through the cleanup that stops the servers."""
    raise KeyboardInterrupt


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def describe(sample: Sample) -> str:
    if sample.idle is not None:
        return (f"{sample.idle.held} held, {sample.idle.per_connection / KIB:,.1f} KiB per connection"
                if sample.idle.held else "no connection held")
    return f"{sample.rate:,.0f}/s p50 {sample.p50_ms:.2f} ms p99 {sample.p99_ms:.2f} ms errors {sample.errors}"


class Runner:
    """Starts the contenders, interleaves the runs, and stops every process it started."""

    def __init__(self, args: argparse.Namespace, contenders: List[Contender], workloads: List[Workload],
                 scratch: Path) -> None:
        self.args, self.contenders, self.workloads, self.scratch = args, contenders, workloads, scratch
        self.servers: List[Server] = []
        self.skipped: List[str] = []
        self.broken: Dict[Tuple[str, str], str] = {}  # (contender, group) -> why it is left out
        self.samples: List[Sample] = []

    def start_all(self, static_dir: Path, body: bytes) -> None:
        """Start every contender that serves a chosen workload and check its answers."""
        for contender in self.contenders:
            chosen = [w for w in self.workloads if runs(contender, w)]
            if not chosen:
                continue
            groups = {w.group for w in chosen}
            reason = contender.needs()
            if reason:
                self.skipped.append(f"{contender.label}: {reason}")
                continue
            server = Server(contender, self.args.workers, static_dir, self.scratch, self.args.server_cpus)
            self.servers.append(server)
            try:
                server.start()
            except RuntimeError as exc:
                self.skipped.append(f"{contender.label}: crashed: did not start ({exc})")
                server.stop()
                self.servers.remove(server)
                continue
            for group in sorted(groups & contender.serves):
                reason = check_answers(server, group, static_dir, body)
                if reason:
                    self.broken[(contender.name, group)] = reason
                    self.skipped.append(f"{contender.label}: left out of the {group} workloads, "
                                        f"wrong answer ({reason})")
            log(f"started {contender.label} on port {server.launch.port}")

    def rounds(self, script: Path) -> None:
        """Each round: every workload, the contenders in an order rotated by the round."""
        for round_index in range(self.args.repeat):
            for workload in self.workloads:
                runnable = [s for s in self.servers if runs(s.contender, workload)
                            and (s.contender.name, workload.group) not in self.broken]
                shift = round_index % len(runnable) if runnable else 0
                for server in runnable[shift:] + runnable[:shift]:
                    self.run_one(server, workload, round_index, script)

    def run_one(self, server: Server, workload: Workload, round_index: int, script: Path) -> None:
        """Measure one workload on one contender (restarting it if it died); failures are noted."""
        label = f"[{round_index + 1}/{self.args.repeat}] {workload.name} {server.contender.name}"
        if workload.group == "idle":
            # Memory freed after an earlier round stays in the process and would hide the
            # cost of the next round's connections: measure on a fresh server every time.
            server.stop()
        elif not server.alive():
            self.skipped.append(f"{server.contender.label}: crashed before {workload.name} (round "
                                f"{round_index + 1}): {server.log_tail()}; restarted")
        if not server.alive():
            try:
                server.start()
            except RuntimeError as exc:
                self.skipped.append(f"{server.contender.label}: crashed: could not restart ({exc})")
                return
        try:
            sample = measure(server, workload, self.args.duration, script, self.args.load_cpus)
        except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as exc:
            self.skipped.append(f"{server.contender.label}, {workload.name} round {round_index + 1}: {exc}")
            log(f"{label}: failed: {exc}")
            return
        sample.round = round_index
        self.samples.append(sample)
        log(f"{label}: {describe(sample)}")
        time.sleep(PAUSE)

    def profiles(self) -> List[List[str]]:
        """py-spy summaries of the outside contenders under hello world at 50 connections."""
        hello = next(w for w in WORKLOADS if w.name == "hello-50")
        sections = []
        for server in self.servers:
            if not server.contender.name.startswith("outside") or not server.alive():
                continue
            try:
                collapsed = profile(server, hello, self.args.duration, self.scratch, self.args.load_cpus)
            except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
                self.skipped.append(f"{server.contender.label}: no profile ({exc})")
                continue
            total, own, inclusive = collapsed_hotspots(collapsed)
            if total:
                sections.append(report.hotspots_section(server.contender.name, server.contender.label,
                                                        total, own, inclusive))
        return sections

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1, help="worker processes per server (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run (default 5)")
    parser.add_argument("--only", help="comma-separated contenders, contender sets "
                        f"({', '.join(CONTENDER_TAGS)}), workloads or workload groups ({', '.join(WORKLOAD_GROUPS)})")
    parser.add_argument("--server-cpus", default="0", help="taskset CPU list of the servers (default 0; '' unpinned)")
    parser.add_argument("--load-cpus", default="1", help="taskset CPU list of wrk and wsload (default 1; '' unpinned)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round of 1 s runs, report in a temp dir")
    parser.add_argument("--profile", action="store_true", help="add py-spy profiles of outside under hello world")
    parser.add_argument("--output", type=Path, help="where RESULTS.md and charts/ go (default benchmarks/)")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.duration = 1, 1.0
        args.output = args.output or Path(tempfile.gettempdir()) / "outside-bench-quick"
    args.output = args.output or HERE
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        log("wrk is not installed (Debian package wrk)")
        return 2
    if shutil.which("taskset") is None and (args.server_cpus or args.load_cpus):
        log("taskset is not installed (Debian package util-linux): running unpinned")
        args.server_cpus = args.load_cpus = ""
    contenders, workloads = select(args.only)
    raise_fd_limit()
    signal.signal(signal.SIGTERM, interrupt)
    scratch = Path(tempfile.mkdtemp(prefix="outside-bench-"))
    scratch.chmod(0o755)  # nginx workers run as an unprivileged user and must read the files
    runner = Runner(args, contenders, workloads, scratch)
    started = datetime.now(timezone.utc)
    command = "python -m benchmarks " + " ".join(sys.argv[1:] if argv is None else argv)
    profiles: List[List[str]] = []
    try:
        body = json_body()
        static_dir = make_static_files(scratch / "static")
        runner.start_all(static_dir, body)
        runner.rounds(json_post_script(scratch, body))
        profiles = runner.profiles() if args.profile else []
    except KeyboardInterrupt:
        log("interrupted: stopping the servers")
        command += " (interrupted: partial results)"
    except Exception:  # keep what was measured: a long run should not end with nothing
        log(traceback.format_exc())
        command += " (failed: partial results)"
    finally:
        runner.stop_all()
        shutil.rmtree(scratch, ignore_errors=True)
    if not runner.samples:
        return 1
    labels, extra = sections(contenders)
    chart_paths = report.charts(args.output / "charts", workloads, runner.samples, labels)
    chart_paths += peer_charts(args.output / "charts", contenders, workloads, runner.samples, extra)
    info = report.RunInfo(started.strftime("%Y-%m-%d %H:%M UTC"), command, args.workers, args.repeat,
                          args.duration, machine_info(), versions())
    text = report.render(info, workloads, runner.samples, labels, runner.skipped, profiles,
                         [str(p.relative_to(args.output)) for p in chart_paths], extra)
    (args.output / "RESULTS.md").write_text(text)
    # The raw samples, to render the report again or differently without measuring again.
    (args.output / "samples.json").write_text(json.dumps([asdict(s) for s in runner.samples], indent=0) + "\n")
    log(f"wrote {args.output / 'RESULTS.md'}")
    print("\n".join(report.goals_table(report.goals(report.summarize(runner.samples), workloads))))
    return 0
