"""The nginx contender: a generated config that returns the hello string and serves files.

nginx cannot build JSON per request: ``/json`` returns the same document as a fixed string.
"""
from __future__ import annotations

from pathlib import Path

TEMPLATE = """\
daemon off;
master_process on;
worker_processes {workers};
pid {run_dir}/nginx.pid;
error_log {run_dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {run_dir}/body;
    proxy_temp_path {run_dir}/proxy;
    fastcgi_temp_path {run_dir}/fastcgi;
    uwsgi_temp_path {run_dir}/uwsgi;
    scgi_temp_path {run_dir}/scgi;
    sendfile on;
    tcp_nopush on;
    server {{
        listen 127.0.0.1:{port};
        location = /hello {{
            default_type text/plain;
            return 200 "Hello, World!";
        }}
        location = /json {{
            default_type application/json;
            return 200 '{{"message": "Hello, World!"}}';
        }}
        location /static/ {{
            alias {static_dir}/;
        }}
    }}
}}
"""


def write_config(run_dir: Path, port: int, workers: int, static_dir: Path) -> Path:
    """Write ``nginx.conf`` for one run into ``run_dir`` and return its path."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "nginx.conf"
    path.write_text(TEMPLATE.format(run_dir=run_dir, port=port, workers=workers, static_dir=static_dir))
    return path
