"""The demo's chat room: every message a member sends goes to every member."""
from __future__ import annotations

import itertools
import json
import threading
from typing import Any, Dict

from ..websocket import ConnectionEnded

MAX_TEXT = 500  # characters kept of one chat message


class ChatRoom:
    """The open WebSocket connections of the chat, each with a guest name.

    Messages to members are JSON objects: ``{"kind": "welcome", "you": name}`` on
    joining, ``{"kind": "message", "from": name, "text": text}`` for each chat line and
    ``{"kind": "members", "count": n}`` whenever someone joins or leaves.
    """

    def __init__(self) -> None:
        self._members: Dict[Any, str] = {}
        self._lock = threading.Lock()  # every connection's handler runs in its own thread
        self._numbers = itertools.count(1)

    def serve(self, connection: Any) -> None:
        """Run one member's connection until it ends (the WebSocket route's handler)."""
        with self._lock:
            name = f"guest-{next(self._numbers)}"
            self._members[connection] = name
        try:
            _send(connection, {"kind": "welcome", "you": name})
            self._announce_count()
            for message in connection:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                text = text.strip()[:MAX_TEXT]
                if text:
                    self.broadcast({"kind": "message", "from": name, "text": text})
        finally:
            with self._lock:
                self._members.pop(connection, None)
            self._announce_count()

    def broadcast(self, payload: Dict[str, Any]) -> None:
        """Send ``payload`` to every member (sending is thread-safe; the gone are skipped)."""
        with self._lock:
            members = list(self._members)
        for member in members:
            _send(member, payload)

    def _announce_count(self) -> None:
        with self._lock:
            count = len(self._members)
        self.broadcast({"kind": "members", "count": count})


def _send(connection: Any, payload: Dict[str, Any]) -> None:
    try:
        connection.send(json.dumps(payload))
    except (ConnectionEnded, OSError):
        pass  # it left meanwhile; its own handler cleans up
