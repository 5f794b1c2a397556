"""The demo's chat room: every message a member sends goes to every member, whichever
worker process serves them (``server.publish`` to the room's topic)."""
from __future__ import annotations

import json
import os
import secrets
from typing import Any, Dict

from ..websocket import ConnectionEnded

MAX_TEXT = 500  # characters kept of one chat message
TOPIC = "demo-chat"


class ChatRoom:
    """The chat: each connection subscribes to ``TOPIC`` under a guest name.

    Messages to members are JSON objects: ``{"kind": "welcome", "you": name, "worker":
    pid}`` on joining (the PID of the worker process serving it), ``{"kind": "message",
    "from": name, "text": text}`` for each chat line, ``{"kind": "joined", "who": name}``
    and ``{"kind": "left", "who": name}``.
    """

    def __init__(self, app: Any) -> None:
        self._app = app

    def serve(self, connection: Any) -> None:
        """Run one member's connection until it ends (the WebSocket route's handler)."""
        name = f"guest-{secrets.token_hex(2)}"
        try:
            _send(connection, {"kind": "welcome", "you": name, "worker": os.getpid()})
            connection.subscribe(TOPIC)
            self.broadcast({"kind": "joined", "who": name})
            for message in connection:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                text = text.strip()[:MAX_TEXT]
                if text:
                    self.broadcast({"kind": "message", "from": name, "text": text})
        finally:
            self.broadcast({"kind": "left", "who": name})

    def broadcast(self, payload: Dict[str, Any]) -> None:
        """Send ``payload`` to every member, on every worker process."""
        self._app.publish(TOPIC, json.dumps(payload))


def _send(connection: Any, payload: Dict[str, Any]) -> None:
    try:
        connection.send(json.dumps(payload))
    except (ConnectionEnded, OSError):
        pass  # it left meanwhile; its own handler cleans up
