"""Clients for the pub/sub tests: WebSocket subscribers pinned to worker processes,
and a reader that checks per-publisher order (tests/apps/pubsub.py speaks to them)."""
from __future__ import annotations

import threading
import time
from typing import Dict, List, Optional

import requests
import websocket


def connect(port: int, timeout: float = 10.0, **options) -> tuple[websocket.WebSocket, int]:
    """A WebSocket to ``tests/apps/pubsub.py`` and the PID of the worker it landed on."""
    client = websocket.create_connection(f"ws://127.0.0.1:{port}/ws", timeout=timeout, **options)
    greeting = client.recv()
    assert greeting.startswith("pid "), greeting
    return client, int(greeting.split()[1])


def subscribe(client: websocket.WebSocket, topic: str) -> None:
    client.send(f"sub {topic}")
    answer = client.recv()
    assert answer.startswith(f"subscribed {topic} "), answer


def clients_on_workers(port: int, workers: int, per_worker: int, topic: str = "news",
                       attempts: int = 200) -> Dict[int, List[websocket.WebSocket]]:
    """``per_worker`` subscribed clients on each of ``workers`` worker processes (the
    kernel spreads connections by their ports: connect until each worker has its share)."""
    by_pid: Dict[int, List[websocket.WebSocket]] = {}
    extra = []
    for _ in range(attempts):
        client, pid = connect(port)
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
                         extra: str = "") -> List[int]:
    """``publishers`` HTTP requests at once, each publishing ``count`` messages ``p<i> <n>``
    (each on its own connection, so they land on various workers); the PIDs they ran on."""
    pids: List[Optional[int]] = [None] * publishers

    def one(index: int) -> None:
        answer = requests.get(f"{url}/publish?topic={topic}&prefix=p{index}&count={count}{extra}",
                              timeout=60)
        pids[index] = answer.json()["pid"]

    threads = [threading.Thread(target=one, args=(index,)) for index in range(publishers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert all(pid is not None for pid in pids), pids
    return [pid for pid in pids if pid is not None]
