"""The engine's view of ``app.config``: read once, as plain attributes, at start-up.

The hot path reads these attributes instead of looking keys up in the config dict for
every request. ``docs/configuration.md`` says how each key shapes the engine. The keys
the engine added since 1.5.x are checked here: a wrong value stops the start-up with
``ConfigError``, one line naming the key and what it accepts.
"""
from __future__ import annotations

import os
from typing import Any, Mapping, Optional, Sequence

MB = 1024 * 1024
MIN_BACKLOG = 2048  # SYNs beyond a full accept queue are dropped and retried after 1 s, then 3 s
ACCESS_LOG_FORMATS = ("common", "combined", "json")


class ConfigError(ValueError):
    """A config key holds a value the engine cannot use (the message names the key)."""


def somaxconn(default: int = 4096) -> int:
    """The kernel's ceiling on a listen backlog (Linux); ``default`` elsewhere."""
    try:
        with open("/proc/sys/net/core/somaxconn") as file:
            return int(file.read().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def listen_backlog(configured: int) -> int:
    """At least ``MIN_BACKLOG`` (a smaller 1.5.x ``backlog_length`` is a floor, as
    ``recv_size`` is), at most what the kernel allows."""
    return max(1, min(max(MIN_BACKLOG, configured), somaxconn()))


def _number(config: Mapping[str, Any], key: str, minimum: float, integer: bool = False,
            allow_none: bool = False) -> Any:
    value = config.get(key)
    if value is None and allow_none:
        return None
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < minimum:
        what = "an integer" if integer else "a number"
        none = " or None" if allow_none else ""
        raise ConfigError(f"config[{key!r}] = {value!r}: expected {what} >= {minimum}{none}")
    return value


def _choice(config: Mapping[str, Any], key: str, choices: Sequence[Any]) -> Any:
    value = config.get(key)
    if value not in choices:
        accepted = ", ".join(repr(choice) for choice in choices)
        raise ConfigError(f"config[{key!r}] = {value!r}: expected one of {accepted}")
    return value


def _metrics_port(config: Mapping[str, Any]) -> Optional[int]:
    """None: the public port ("same"); 0: any free port; else that port."""
    value = config.get("metrics_port")
    if value == "same":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise ConfigError(f"config['metrics_port'] = {value!r}: expected a port 0-65535 or 'same'")
    return value


def _pubsub(config: Mapping[str, Any]) -> str:
    """"local", or a Redis URL (parsed here: a malformed one stops the start-up)."""
    value = config.get("pubsub")
    if value == "local":
        return value
    if isinstance(value, str) and value.startswith(("redis://", "rediss://")):
        from urllib.parse import urlsplit
        try:
            parts = urlsplit(value)
            _ = parts.port  # raises for a port that is not a number
            database = parts.path.strip("/")
        except ValueError as exc:
            raise ConfigError(f"config['pubsub'] = {value!r}: not a Redis URL ({exc})") from None
        if parts.hostname and (not database or database.isdigit()):
            return value
    raise ConfigError(f"config['pubsub'] = {value!r}: expected 'local' or 'redis://host:port/db' "
                      "(or rediss://)")


class Settings:
    """Validated numbers and switches taken from a config mapping."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.host = tuple(config["host"])
        self.backlog = listen_backlog(int(config["backlog_length"]))
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
        # --- operations (validated: a typo must not pass silently) ---
        self.access_log_format = _choice(config, "access_log_format", ACCESS_LOG_FORMATS)
        self.min_send_rate = _number(config, "min_send_rate", 0)
        self.min_send_rate_grace = _number(config, "min_send_rate_grace", 0.1)
        self.max_requests = _number(config, "max_requests", 0, integer=True)
        self.max_requests_jitter = _number(config, "max_requests_jitter", 0, integer=True)
        self.max_worker_memory_mb = _number(config, "max_worker_memory_mb", 0)
        self.metrics = _choice(config, "metrics", (False, True))
        self.metrics_port = _metrics_port(config)
        path = config.get("metrics_path")
        if not isinstance(path, str) or not path.startswith("/") or "?" in path:
            raise ConfigError(f"config['metrics_path'] = {path!r}: expected a path like '/metrics'")
        self.metrics_path = path
        self.pubsub = _pubsub(config)
        self.max_backpressure = _number(config, "max_backpressure", 1024, integer=True)

    def requests_budget(self) -> int:
        """This worker's ``max_requests`` with its jitter drawn (0: no limit)."""
        if not self.max_requests:
            return 0
        jitter = self.max_requests_jitter
        return self.max_requests + (int.from_bytes(os.urandom(4), "big") % (jitter + 1) if jitter else 0)
