"""A bounded load for operations tests: client threads that send requests (kept-alive
connections, as browsers and proxies keep them) until told to stop, counting errors."""
from __future__ import annotations

import threading
import time
from collections import Counter
from typing import List

import requests


class Load:
    """``threads`` clients, each sending at most ``limit`` GETs to ``url``.

    Use as a context manager; afterwards ``errors`` (exceptions, as text), ``statuses``
    (a Counter) and ``bodies`` (a Counter of response texts) say what the clients saw.
    """

    def __init__(self, url: str, threads: int = 4, limit: int = 20_000) -> None:
        self.url = url
        self.limit = limit
        self.errors: List[str] = []
        self.statuses: Counter = Counter()
        self.bodies: Counter = Counter()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(threads)]

    def _client(self) -> None:
        with requests.Session() as session:
            for _ in range(self.limit):
                if self._stop.is_set():
                    return
                try:
                    response = session.get(self.url, timeout=10)
                    with self._lock:
                        self.statuses[response.status_code] += 1
                        self.bodies[response.text] += 1
                except requests.RequestException as exc:
                    with self._lock:
                        self.errors.append(repr(exc))
                    time.sleep(0.01)

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + len(self.errors)

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        """Wait until the clients have made ``count`` more requests."""
        target = self.total + count
        deadline = time.monotonic() + timeout
        while self.total < target and time.monotonic() < deadline:
            time.sleep(0.01)

    def finish(self, timeout: float = 60.0) -> None:
        """Wait until every client has sent its ``limit`` requests."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)
