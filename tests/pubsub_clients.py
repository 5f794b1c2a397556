"""Clients for the pub/sub tests: WebSocket subscribers pinned to worker processes,
and a reader that checks per-publisher order (tests/apps/pubsub.py speaks to them)."""
from __future__ import annotations

import socket
import threading
import time
from typing import Dict, List, Optional

import requests
import websocket


def connect(port: int, timeout: float = 10.0, scheme: str = "ws",
            **options) -> tuple[websocket.WebSocket, int]:
    """A WebSocket to ``tests/apps/pubsub.py`` and the PID of the worker it landed on
    (``scheme`` "wss" with ``sslopt`` for TLS)."""
    client = websocket.create_connection(f"{scheme}://127.0.0.1:{port}/ws", timeout=timeout, **options)
    greeting = client.recv()
    assert greeting.startswith("pid "), greeting
    return client, int(greeting.split()[1])


def subscribe(client: websocket.WebSocket, topic: str) -> None:
    client.send(f"sub {topic}")
    answer = client.recv()
    assert answer.startswith(f"subscribed {topic} "), answer


def clients_on_workers(port: int, workers: int, per_worker: int, topic: str = "news",
                       attempts: int = 200, **options) -> Dict[int, List[websocket.WebSocket]]:
    """``per_worker`` subscribed clients on each of ``workers`` worker processes (the
    kernel spreads connections by their ports: connect until each worker has its share)."""
    by_pid: Dict[int, List[websocket.WebSocket]] = {}
    extra = []
    for _ in range(attempts):
        client, pid = connect(port, **options)
        members = by_pid.setdefault(pid, [])
        if len(members) < per_worker:
            subscribe(client, topic)
            members.append(client)
        else:
            extra.append(client)
        if len(by_pid) == workers and all(len(m) == per_worker for m in by_pid.values()):
            break
    for client in extra:
        client.close()
    assert len(by_pid) == workers and all(len(m) == per_worker for m in by_pid.values()), \
        {pid: len(m) for pid, m in by_pid.items()}
    return by_pid


class OrderChecker(threading.Thread):
    """Reads ``expected`` messages ``<prefix> <n>`` and records, per prefix, whether they
    came complete and in order (``problems`` lists what went wrong)."""

    def __init__(self, client: websocket.WebSocket, expected: int, deadline: float) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.expected = expected
        self.deadline = deadline
        self.next: Dict[str, int] = {}
        self.received = 0
        self.problems: List[str] = []

    def run(self) -> None:
        while self.received < self.expected and time.monotonic() < self.deadline:
            try:
                message = self.client.recv()
            except Exception as exc:
                self.problems.append(f"after {self.received}: {exc!r}")
                return
            if isinstance(message, bytes):
                message = message.decode()
            prefix, _, number = message.partition(" ")
            number = number.split(" ")[0]
            if not number.isdigit() or int(number) != self.next.get(prefix, 0):
                self.problems.append(f"{message[:40]!r} ({len(message)} characters): expected "
                                     f"{prefix} {self.next.get(prefix, 0)}")
                return
            self.next[prefix] = int(number) + 1
            self.received += 1


def publish_concurrently(url: str, publishers: int, count: int, topic: str = "news",
                         extra: str = "", verify: object = True) -> List[int]:
    """``publishers`` HTTP requests at once, each publishing ``count`` messages ``p<i> <n>``
    (each on its own connection, so they land on various workers); the PIDs they ran on."""
    pids: List[Optional[int]] = [None] * publishers

    def one(index: int) -> None:
        answer = requests.get(f"{url}/publish?topic={topic}&prefix=p{index}&count={count}{extra}",
                              timeout=60, verify=verify)
        pids[index] = answer.json()["pid"]

    threads = [threading.Thread(target=one, args=(index,)) for index in range(publishers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert all(pid is not None for pid in pids), pids
    return [pid for pid in pids if pid is not None]


def close_all(groups: Dict[int, List[websocket.WebSocket]]) -> None:
    for clients in groups.values():
        for client in clients:
            client.close()


def check_every_message_in_order(server, publishers: int, count: int, topic: str,
                                 verify: object = True, **options) -> None:
    """Two subscribers on each of the server's two workers; ``publishers`` publish
    ``count`` messages each at once: every subscriber gets all, in per-publisher order."""
    groups = clients_on_workers(server.port, workers=2, per_worker=2, topic=topic, **options)
    try:
        checkers = [OrderChecker(client, publishers * count, time.monotonic() + 90)
                    for clients in groups.values() for client in clients]
        for checker in checkers:
            checker.start()
        pids = publish_concurrently(server.url, publishers, count, topic=topic, verify=verify)
        for checker in checkers:
            checker.join(100)
        for checker in checkers:
            assert checker.problems == []
            assert checker.received == publishers * count
            assert checker.next == {f"p{i}": count for i in range(publishers)}
        assert set(pids) <= set(groups)  # the publishers ran on this server's workers
    finally:
        close_all(groups)


def stats_of(server, pid: int, attempts: int = 50, verify: object = True):
    """The counters of worker ``pid`` (asked on new connections until one lands there)."""
    for _ in range(attempts):
        answer = requests.get(f"{server.url}/stats", headers={"Connection": "close"}, timeout=10,
                              verify=verify).json()
        if answer["pid"] == pid:
            return answer
    return None


def slow_reader_is_dropped(server, publishing_server, verify: object = True, **options) -> None:
    """A subscriber of ``server`` that stops reading is closed (1008) while the others,
    one per worker, get every message ``publishing_server`` publishes (``options``: of
    ``connect``, for TLS; ``verify``: of the HTTPS publish requests)."""
    groups = clients_on_workers(server.port, workers=2, per_worker=1, topic="flood", **options)
    slow, slow_pid = connect(server.port, sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)],
                             **options)
    subscribe(slow, "flood")
    try:
        # 8 MB at 2 MB/s (paced for the Python readers): far past the slow client's kernel
        # buffers (the server's send buffer grows to tcp_wmem's 4 MB) and the bound
        count, pad = 8000, 1000
        checkers = [OrderChecker(client, count, time.monotonic() + 90) for (client,) in groups.values()]
        for checker in checkers:
            checker.start()
        publish_concurrently(publishing_server.url, 1, count, topic="flood",
                             extra=f"&pad={pad}&pause=0.05", verify=verify)
        for checker in checkers:
            checker.join(100)
            assert checker.problems == [] and checker.received == count
        server.wait_for_log(r"read too slowly .* closed with 1008", timeout=10)
        assert stats_of(server, slow_pid, verify=verify)["dropped"] == 1
        # what the slow client did get is a gap-free prefix, then the close (or the end)
        expected, code = 0, None
        slow.settimeout(10)
        while True:
            try:
                opcode, data = slow.recv_data(control_frame=True)
            except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
                break
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                code = int.from_bytes(data[:2], "big")
                break
            assert data.decode().split()[:2] == ["p0", str(expected)]
            expected += 1
        assert 0 < expected < count
        assert code in (1008, None)
    finally:
        slow.close()
        for clients in groups.values():
            for client in clients:
                client.close()
