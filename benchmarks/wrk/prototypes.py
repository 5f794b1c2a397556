"""The concurrency designs measured against the engine's leader/follower loop.

``docs/engine.md`` has the numbers. Each is a ``Worker`` that differs only in where a
ready connection is served; run one with ``python benchmarks/wrk/hello.py --engine NAME``.

- ``pool``: the loop only reads readiness; every ready connection goes to a pool of
  ``max_workers`` threads, which hand it back to the loop when done (two thread
  switches and a wake-up per request).
- ``thread``: like ``pool``, but the thread keeps its connection while the client
  keeps sending (a thread per active connection), parking it in the loop only after
  ``PARK_AFTER`` seconds of silence.
"""
from __future__ import annotations

import queue
import select
import threading

from outside.server.worker import Worker

PARK_AFTER = 0.05


class PoolWorker(Worker):
    """Prototype (a): event loop + thread pool, one hand-off per request."""

    def run(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(self.settings.max_workers):
            threading.Thread(target=self._work, daemon=True).start()
        super().run()

    def _watch(self) -> None:  # no leader to replace: the loop never runs handlers
        return

    def _serve(self, conn, token: int) -> bool:
        with self._selector_lock:
            if conn.registered:
                self._selector.unregister(conn.sock)
                conn.registered = False
        if not conn.busy:
            conn.busy = True
            self._jobs.put(conn)
        return True

    def _work(self) -> None:
        while True:
            conn = self._jobs.get()
            self._serve_owned(conn)
            conn.busy = False
            self._returned.append(conn)
            self._wake()

    def _serve_owned(self, conn) -> None:
        try:
            conn.on_readable()
        except Exception:
            conn.answer_server_error()


class ThreadPerConnectionWorker(PoolWorker):
    """Prototype (c): a thread owns a connection while it is active."""

    def _serve_owned(self, conn) -> None:
        poller = select.poll()
        poller.register(conn.sock.fileno(), select.POLLIN)
        while True:
            super()._serve_owned(conn)
            if conn.closed or not poller.poll(PARK_AFTER * 1000):
                return


ENGINES = {"pool": PoolWorker, "thread": ThreadPerConnectionWorker}
