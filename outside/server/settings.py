"""The engine's view of ``app.config``: read once, as plain attributes, at start-up.

The hot path reads these attributes instead of looking keys up in the config dict for
every request. ``docs/configuration.md`` says how each key shapes the engine.
"""
from __future__ import annotations

from typing import Any, Mapping

MB = 1024 * 1024


class Settings:
    """Validated numbers and switches taken from a config mapping."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.host = tuple(config["host"])
        self.backlog = int(config["backlog_length"])
        self.workers = max(1, int(config["workers"]))
        self.max_workers = max(1, int(config["max_workers"]))
        self.max_websockets = max(0, int(config["max_websockets"]))
        self.process_timeout = float(config["process_timeout"])
        self.termination_timeout = float(config["termination_timeout"])
        self.header_timeout = float(config["header_timeout"])
        self.keep_alive_timeout = float(config["keep_alive_timeout"])
        self.sweep_interval = max(0.05, float(config["accept_timeout"]))
        # The 1.5.x sizes (1 KiB) are floors: one recv of 64 KiB costs the same syscall.
        self.recv_size = max(64 * 1024, int(config["recv_size"]))
        self.send_size = max(64 * 1024, int(config["send_size"]))
        self.keep_alive = bool(config["keep_alive"])
        self.max_socket_reuse = max(1, int(config["max_socket_reuse"]))
        self.max_pipeline = max(1, int(config.get("max_pipeline", 16)))
        max_body = config["max_body_size_mb"]
        self.max_body_size = None if max_body is None or max_body < 0 else int(max_body * MB)
        self.max_header_size = int(config["max_header_size"])
        self.max_headers = int(config["max_headers"])
        self.max_url_size = int(config["max_url_size"])
        self.post_callback = config.get("post_callback")
        self.ssl_enabled = bool(config["ssl_enabled"])
