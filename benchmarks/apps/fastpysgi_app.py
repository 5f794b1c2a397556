"""A WSGI app (``wsgi_plain`` or ``wsgi_flask``) on fastpysgi (libuv + llhttp).

    python benchmarks/apps/fastpysgi_app.py PORT WORKERS MODULE
"""
import fastpysgi

from _serve import parse_args, wsgi_app_argument

if __name__ == "__main__":
    args = parse_args()
    fastpysgi.run(wsgi_app=wsgi_app_argument(), host="127.0.0.1", port=args.port, workers=args.workers)
