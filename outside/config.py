"""The ``config`` keys of ``OutsideHTTP``: their defaults and what each means to the engine.

The first block is the 1.5.x API (names and defaults kept); the second block is what the
new engine adds. ``docs/configuration.md`` explains each key in full.
"""
from __future__ import annotations

import os
from typing import Any, Dict


def default_config(host: tuple) -> Dict[str, Any]:
    """A fresh config dict for a server listening on ``host``."""
    return {
        # --- 1.5.x keys ---
        "host": host,
        "backlog_length": 50,       # a floor: the engine listens with at least 2,048 (somaxconn caps it)
        "max_workers": 150,           # HTTP handlers running at once, per worker process
        "process_timeout": 60,        # seconds of no progress before a request/connection is ended
        "termination_timeout": 5,     # seconds in-flight work gets on a graceful stop
        "recv_size": 1024,            # minimum socket read size (the engine may read more at once)
        "send_size": 1024,            # minimum socket write size
        "keep_alive": True,
        "max_socket_reuse": 1000,     # most requests on one connection (1.5.x: 100)
        "ssl_enabled": False,
        "ssl_keyfile": "",
        "ssl_certfile": "",
        "accept_timeout": 1,          # seconds between inactivity sweeps
        "max_body_size_mb": 250,
        "allow_range_from_mb": 0,     # files larger than this honour Range (-1: never; 1.5.x: 50)
        "big_definition_mb": 50,
        "big_send_limit_mb": 100,
        "post_callback": None,        # f(request, response) after each response is sent
        "pre_send": None,             # f(response) -> response before sending
        "server_cleanup": None,       # f() once after the server has stopped
        # --- added by the new engine ---
        "workers": os.cpu_count() or 1,  # worker processes; 1 runs everything in one process
        "max_header_size": 64 * 1024,    # request line + headers, bytes (431 beyond)
        "max_headers": 100,              # header fields per request (431 beyond)
        "max_url_size": 8 * 1024,        # request target, bytes (414 beyond)
        "header_timeout": 10,            # seconds to receive a whole request head (slowloris)
        "keep_alive_timeout": 5,         # seconds an idle keep-alive connection is kept
        "max_websockets": 10_000,        # open WebSocket connections per worker process (503 beyond)
        "max_pipeline": 16,              # queued pipelined requests before reading pauses
        "ssl_password": None,
        "forwarded_allow_ips": [],       # peers trusted for X-Forwarded-For / Forwarded
        "log_level": "INFO",
        "access_log": True,
        # --- sessions and templates (outside.sessions, outside.templating) ---
        "secret_key": None,              # signs request.session cookies; required to use sessions
        "secret_key_fallbacks": [],      # older keys still accepted when reading (key rotation)
        "session_cookie_name": "session",
        "session_max_age": 31 * 86400,   # seconds a session cookie stays valid after it was set
        "template_folder": "templates",  # relative to the directory of the module creating the app
        "max_form_parts": 1000,          # fields + files of a multipart form (413 beyond)
        "max_form_memory_size": 500 * 1024,  # bytes of a text field / URL-encoded form (413 beyond);
                                         # a file larger than this moves to a temporary file
        "compression": True,             # gzip/brotli for text bodies of 1 KiB or more the client accepts
        "sse_heartbeat": 15,             # seconds of silence before an EventStream sends a comment
        "sse_max_buffer": 1024 * 1024,   # bytes queued for a slow EventStream client before it is dropped
        # --- operations ---
        "access_log_format": "common",   # "common", "combined" or "json" (one object per line)
        "min_send_rate": 1024,           # bytes/s a client must read a large response at...
        "min_send_rate_grace": 10,       # ...measured over windows of this many seconds
        "max_requests": 0,               # requests before a worker process is replaced (0: never)
        "max_requests_jitter": 0,        # plus a random 0..jitter, so workers do not recycle at once
        "max_worker_memory_mb": 0,       # resident memory (MB) past which a worker is replaced (0: never)
        "metrics": False,                # Prometheus metrics (text format 0.0.4)
        "metrics_port": 9180,            # their own port on the same address, or "same"; 0: any free one
        "metrics_path": "/metrics",
        # --- publish/subscribe (outside.pubsub, docs/pubsub.md) ---
        "pubsub": "local",               # "local": this server's workers; "redis://host:port/db": all on that Redis
        "max_backpressure": 1024 * 1024,  # bytes queued for one slow WebSocket subscriber before it is closed (1008)
    }
