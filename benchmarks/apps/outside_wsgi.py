"""A WSGI app (``wsgi_plain`` or ``wsgi_flask``) mounted at ``/`` in outside.

    python benchmarks/apps/outside_wsgi.py PORT WORKERS MODULE
"""
from outside import OutsideHTTP

from _serve import parse_args, wsgi_app_argument

if __name__ == "__main__":
    args = parse_args()
    server = OutsideHTTP(("127.0.0.1", args.port))
    server.config.update({"workers": args.workers, "access_log": False, "log_level": "WARNING"})
    server.mount("/", wsgi_app_argument())
    server.run()
