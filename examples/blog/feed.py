"""The live feed of new posts: the ``EventStream`` of each open ``/feed/events`` page of
this process, and ``publish`` sending a new post to each of them.

The streams live in this process's memory, so a post reaches the pages connected to the
same worker only: run the blog with ``workers = 1`` (several workers need a pub/sub
channel between them).
"""
from __future__ import annotations

import json
import threading
from typing import Any, Dict, Set

from outside import EventStream


class LiveFeed:
    """The open streams; ``publish`` may be called from any handler thread."""

    def __init__(self) -> None:
        self._streams: Set[EventStream] = set()
        self._lock = threading.Lock()

    def open(self, request: Any) -> EventStream:
        """A new stream, kept until its client leaves."""
        stream = EventStream(request, on_close=self._forget)
        with self._lock:
            self._streams.add(stream)
        return stream

    def _forget(self, stream: EventStream) -> None:
        with self._lock:
            self._streams.discard(stream)

    def __len__(self) -> int:
        with self._lock:
            return len(self._streams)

    @staticmethod
    def send(stream: EventStream, post: Dict[str, Any]) -> bool:
        """One ``post`` event (JSON), with the post's id as the event id so a reconnecting
        ``EventSource`` says where it stopped (``Last-Event-ID``)."""
        return stream.send(json.dumps(post), event="post", id=str(post["id"]))

    def publish(self, post: Dict[str, Any]) -> int:
        """Send ``post`` to every open stream; how many took it."""
        with self._lock:
            streams = list(self._streams)
        return sum(self.send(stream, post) for stream in streams)
