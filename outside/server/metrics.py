"""Prometheus metrics (text exposition format 0.0.4), summed over every worker process.

No IPC per request and no lock: each worker counts in plain Python dicts and lists
(an increment may be lost when two of its handler threads finish at the very same
instant; a lock per request would cost more than the counting) and a thread writes a
snapshot of them, every ``FLUSH_INTERVAL`` seconds and once at exit, into its cell of
an anonymous shared ``mmap`` made before the workers are forked.
A scrape reads every cell and sums. Cell 0 holds what the supervisor adds: the
counters of workers that have exited (so counters never go down) and the worker
starts, exits and restarts. Each cell is written under a sequence number (odd while
it changes), so a reader never sums a half-written snapshot.

``config["metrics"]`` turns it on; the page is served at ``metrics_path`` on a port of
its own (``metrics_port``; ``"same"`` serves it on the public port instead).
"""
from __future__ import annotations

import bisect
import http.server
import logging
import marshal
import mmap
import struct
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Tuple

if TYPE_CHECKING:
    from ..request import Request
    from ..response import Rendered, Response
    from .worker import Worker

logger = logging.getLogger("outside")

FLUSH_INTERVAL = 0.5
CELL_SIZE = 256 * 1024
MAX_CELLS = 128        # worker processes alive at once (a reload briefly doubles them)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"))
STATUS_CLASSES = ("1xx", "1xx", "2xx", "3xx", "4xx", "5xx")
UNMATCHED = "unmatched"  # the route label of a request no route served
MAX_ROUTE_CACHE = 4096
_HEADER = struct.Struct("=QI")  # sequence number, snapshot length
# the pub/sub hub's counters (outside.pubsub.stats), as snapshot keys
PUBSUB_COUNTERS = ("published", "delivered", "dropped", "lost", "reconnects")
COUNTERS = ("requests", "errors", "bytes_in", "bytes_out", "blocked", "buckets", "sum",
            "starts", "exits", "restarts") + tuple("pubsub_" + name for name in PUBSUB_COUNTERS)


class Cells:
    """The shared memory: ``MAX_CELLS`` snapshots, one per live worker, and cell 0."""

    def __init__(self, count: int = MAX_CELLS) -> None:
        self.count = count
        self.memory = mmap.mmap(-1, CELL_SIZE * count)  # anonymous, MAP_SHARED: survives fork
        self._free = list(range(count - 1, 0, -1))

    def take(self) -> int:
        """A free cell for a new worker (the supervisor's bookkeeping)."""
        if not self._free:
            raise RuntimeError(f"more than {self.count - 1} worker processes at once")
        return self._free.pop()

    def release(self, index: int) -> Dict[str, Any]:
        """Free a dead worker's cell; what it had counted."""
        snapshot = self.read(index)
        self.write(index, {})
        self._free.append(index)
        return snapshot

    def write(self, index: int, snapshot: Dict[str, Any]) -> None:
        data = marshal.dumps(snapshot)
        if len(data) > CELL_SIZE - _HEADER.size:
            logger.error("metrics snapshot too large (%d bytes): not published", len(data))
            return
        base = index * CELL_SIZE
        memory = self.memory
        sequence = _HEADER.unpack_from(memory, base)[0]
        _HEADER.pack_into(memory, base, sequence + 1, 0)  # odd: being written
        memory[base + _HEADER.size:base + _HEADER.size + len(data)] = data
        _HEADER.pack_into(memory, base, sequence + 2, len(data))

    def read(self, index: int) -> Dict[str, Any]:
        base = index * CELL_SIZE
        memory = self.memory
        for _ in range(100):
            sequence, length = _HEADER.unpack_from(memory, base)
            if sequence & 1:
                time.sleep(0.001)
                continue
            data = memory[base + _HEADER.size:base + _HEADER.size + length]
            if _HEADER.unpack_from(memory, base)[0] == sequence:
                return marshal.loads(data) if length else {}
        return {}

    def snapshots(self) -> List[Dict[str, Any]]:
        return [self.read(index) for index in range(self.count)]


def merge(total: Dict[str, Any], snapshot: Dict[str, Any], counters_only: bool = False) -> None:
    """Add ``snapshot`` into ``total`` (gauges too, unless ``counters_only``)."""
    for name, value in snapshot.items():
        if counters_only and name not in COUNTERS:
            continue
        if isinstance(value, dict):
            into = total.setdefault(name, {})
            for key, count in value.items():
                into[key] = into.get(key, 0) + count
        elif isinstance(value, list):
            into = total.setdefault(name, [0] * len(value))
            for position, count in enumerate(value):
                into[position] += count
        else:
            total[name] = total.get(name, 0) + value


class WorkerMetrics:
    """One worker's counts, published into ``cells`` cell ``index``."""

    def __init__(self, cells: Cells, index: int, app: object) -> None:
        self.cells = cells
        self.index = index
        self.app = app
        self.requests: Dict[Tuple[str, str], List[int]] = {}  # (method, route) -> by status class
        self.errors: Dict[str, int] = {}
        self.buckets = [0] * (len(BUCKETS) + 1)
        self.duration_sum = 0.0
        self.bytes_in = 0       # added to from the loop's reads (a lost add under a race is tolerable)
        self.bytes_out = 0
        self.blocked = 0.0      # seconds the loop waited because every handler thread was busy
        self._rows: Dict[Tuple[str, str], List[int]] = {}
        self._worker: Optional[Worker] = None
        self._stopped = threading.Event()

    def observe(self, request: Optional[Request], rendered: Rendered, started: float) -> None:
        """Count one answered request (``request`` None: the parser refused it).

        No lock: the loop's thread serves most requests, and an increment lost when two
        handler threads finish at the same instant is a price worth no lock per request.
        """
        body = rendered.body
        sent = len(rendered.head) + (len(body) if type(body) is bytes else getattr(body, "count", 0))
        self.bytes_out += sent
        status = rendered.status
        if request is None:
            self.errors[str(status)] = self.errors.get(str(status), 0) + 1
            return
        # per (method, path): a row of counts by status class, found with one dict lookup
        row = self._rows.get((request.method, request.url))
        if row is None:
            row = self._row(request.method, request.url)
        row[status // 100 if status < 600 else 5] += 1
        duration = time.monotonic() - started
        self.buckets[bisect.bisect_left(BUCKETS, duration)] += 1
        self.duration_sum += duration

    def _row(self, method: str, path: str) -> List[int]:
        """The counts row of a (method, path) seen for the first time; paths that map to
        the same labels share it."""
        label = (method if method in METHODS else "other", route_label(self.app, path, method))
        row = self.requests.setdefault(label, [0] * 6)
        if len(self._rows) >= MAX_ROUTE_CACHE:
            self._rows.clear()
        self._rows[(method, path)] = row
        return row

    def snapshot(self) -> Dict[str, Any]:
        snapshot: Dict[str, Any] = {
            "requests": {"\0".join((*key, STATUS_CLASSES[index])): count
                         for key, row in list(self.requests.items())
                         for index, count in enumerate(row) if count},
            "errors": dict(self.errors), "buckets": list(self.buckets),
            "sum": self.duration_sum, "bytes_out": self.bytes_out,
        }
        snapshot["bytes_in"] = self.bytes_in
        snapshot["blocked"] = self.blocked
        from ..pubsub import hub
        stats = hub.stats
        for name in PUBSUB_COUNTERS:
            snapshot["pubsub_" + name] = stats[name]
        snapshot["pubsub_subscriptions"] = stats["subscriptions"]
        worker = self._worker
        if worker is not None:
            snapshot.update(worker.load())
            snapshot["processes"] = 1
        return snapshot

    def start(self, worker: Worker) -> None:
        """Publish every ``FLUSH_INTERVAL`` while ``worker`` runs."""
        self._worker = worker
        threading.Thread(target=self._flush_loop, name="outside-metrics", daemon=True).start()

    def _flush_loop(self) -> None:
        while not self._stopped.wait(FLUSH_INTERVAL):
            self.flush()

    def flush(self) -> None:
        try:
            self.cells.write(self.index, self.snapshot())
        except Exception:  # the counts must never take the worker down
            logger.exception("publishing metrics failed")

    def stop(self) -> None:
        """The last flush (the worker is done): its counts survive it in cell 0."""
        self._stopped.set()
        self._worker = None
        self.flush()


def route_label(app: object, path: str, method: str) -> str:
    """The rule pattern or route prefix that serves ``path`` (never the raw path, so
    the label set stays bounded), or ``UNMATCHED``."""
    rules = getattr(app, "_rules", None)
    if rules is not None and rules.rules:
        found = rules.match(path, method)
        if found is not None and found.rule is not None:
            return str(found.rule.pattern)
    for router in (getattr(app, "_mounts", None), getattr(app, "_router", None)):
        routes = getattr(router, "routes", None)
        if router is None or not routes:
            continue
        if path in routes:
            return path
        for route in sorted(routes, key=len, reverse=True):
            if router._covers(route, path):
                return str(route)
    return UNMATCHED


# -- the exposition ------------------------------------------------------------------

def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: Iterable[Tuple[str, str]]) -> str:
    text = ",".join(f'{name}="{_escape(value)}"' for name, value in pairs)
    return "{" + text + "}" if text else ""


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def render(snapshots: Iterable[Dict[str, Any]]) -> str:
    """The text exposition of the sum of ``snapshots``."""
    total: Dict[str, Any] = {}
    for snapshot in snapshots:
        merge(total, snapshot)
    lines: List[str] = []

    def family(name: str, kind: str, text: str, samples: Iterable[Tuple[str, str, float]]) -> None:
        lines.append(f"# HELP {name} {text}")
        lines.append(f"# TYPE {name} {kind}")
        for suffix, labels, value in samples:
            lines.append(f"{name}{suffix}{labels} {_number(value)}")

    requests = sorted(total.get("requests", {}).items())
    family("outside_requests_total", "counter", "HTTP requests answered.",
           [("", _labels(zip(("method", "route", "status_class"), key.split("\0"))), count)
            for key, count in requests])
    buckets = total.get("buckets", [0] * (len(BUCKETS) + 1))
    cumulative, samples = 0, []
    for bound, count in zip(BUCKETS + (float("inf"),), buckets):
        cumulative += count
        samples.append(("_bucket", _labels([("le", "+Inf" if bound == float("inf") else repr(bound))]),
                        cumulative))
    samples.append(("_sum", "", float(total.get("sum", 0.0))))
    samples.append(("_count", "", cumulative))
    family("outside_request_duration_seconds", "histogram",
           "Time from a request's head to its last byte written.", samples)
    family("outside_parser_errors_total", "counter", "Requests refused by the parser, by status.",
           [("", _labels([("status", status)]), count)
            for status, count in sorted(total.get("errors", {}).items())])
    gauges = (
        ("outside_requests_in_flight", "Requests being handled or written.", "in_flight"),
        ("outside_open_connections", "Open client connections.", "connections"),
        ("outside_open_websockets", "Open WebSocket connections.", "websockets"),
        ("outside_handler_threads_max", "Handler threads allowed (max_workers, all processes).",
         "threads_max"),
        ("outside_worker_processes", "Worker processes running.", "processes"),
        ("outside_pubsub_subscriptions", "Current pub/sub subscriptions (connection and topic "
         "pairs).", "pubsub_subscriptions"),
    )
    for name, text, key in gauges:
        family(name, "gauge", text, [("", "", total.get(key, 0))])
    family("outside_handler_threads", "gauge", "Handler threads, busy or idle.",
           [("", _labels([("state", "busy")]), total.get("threads_busy", 0)),
            ("", _labels([("state", "idle")]), total.get("threads_idle", 0))])
    counters = (
        ("outside_received_bytes_total", "Bytes read from clients.", "bytes_in"),
        ("outside_sent_bytes_total", "Bytes of HTTP responses written (heads and bodies).", "bytes_out"),
        ("outside_loop_blocked_seconds_total",
         "Time the event loop waited because every handler thread was busy.", "blocked"),
        ("outside_worker_starts_total", "Worker processes started.", "starts"),
        ("outside_worker_exits_total", "Worker processes that exited.", "exits"),
        ("outside_worker_restarts_total", "Workers replaced (died, retired or reloaded).", "restarts"),
        ("outside_pubsub_published_total", "Messages published (server.publish) here.",
         "pubsub_published"),
        ("outside_pubsub_delivered_total", "Published messages handed to local subscribers "
         "(one per subscriber).", "pubsub_delivered"),
        ("outside_pubsub_dropped_subscribers_total",
         "Subscribers closed for reading too slowly (max_backpressure).", "pubsub_dropped"),
        ("outside_pubsub_bus_lost_total",
         "Messages the bus could not carry to other processes (Redis unreachable).", "pubsub_lost"),
        ("outside_pubsub_bus_reconnects_total", "Reconnections to the Redis bus after a failure.",
         "pubsub_reconnects"),
    )
    for name, text, key in counters:
        value = total.get(key, 0)
        family(name, "counter", text, [("", "", float(value) if key == "blocked" else value)])
    return "\n".join(lines) + "\n"


# -- serving the page ----------------------------------------------------------------

class MetricsServer:
    """A small HTTP server thread answering ``path`` with ``page()``."""

    def __init__(self, address: Tuple[str, int], path: str, page: Callable[[], str]) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.partition("?")[0] != path:
                    self.send_error(404)
                    return
                body = page().encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # scrapes are not access-logged
                pass

        family = http.server.ThreadingHTTPServer
        if ":" in address[0]:
            class IPv6Server(http.server.ThreadingHTTPServer):
                address_family = __import__("socket").AF_INET6
            family = IPv6Server
        self.server = family(address, Handler)
        self.server.daemon_threads = True
        host, port = str(self.server.server_address[0]), self.server.server_address[1]
        self.url = f"http://{'[' + host + ']' if ':' in host else host}:{port}{path}"

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, name="outside-metrics-http",
                         daemon=True).start()
        logger.info("Metrics on %s", self.url)

    def close(self) -> None:
        """Stop serving (also in a forked child, where the thread is gone: just the socket)."""
        self.server.socket.close()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Exposition:
    """What a scrape sees: the cells of every process summed."""

    def __init__(self, cells: Cells) -> None:
        self.cells = cells

    def page(self) -> str:
        return render(self.cells.snapshots())


def publish_supervisor(cells: Cells, retired: Dict[str, Any], events: Dict[str, int]) -> None:
    """Cell 0: the counters of exited workers plus the supervisor's own events."""
    snapshot: Dict[str, Any] = {}
    merge(snapshot, retired)
    merge(snapshot, events)
    cells.write(0, snapshot)


def response_for(page: str) -> Response:
    """The page as an app ``Response`` (metrics on the public port)."""
    from ..response import Response
    return Response(200, {"Content-Type": CONTENT_TYPE}, page)


__all__ = [
    "Cells",
    "Exposition",
    "MetricsServer",
    "WorkerMetrics",
    "publish_supervisor",
    "render",
    "response_for",
    "route_label",
]
