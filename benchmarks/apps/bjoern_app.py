"""A WSGI app (``wsgi_plain`` or ``wsgi_flask``) on bjoern (libev, one thread).

    python benchmarks/apps/bjoern_app.py PORT WORKERS MODULE

bjoern has no process manager: the socket is bound first, then the workers fork.
"""
import os

import bjoern

from _serve import parse_args, wsgi_app_argument

if __name__ == "__main__":
    args = parse_args()
    bjoern.listen(wsgi_app_argument(), "127.0.0.1", args.port)
    for _ in range(args.workers - 1):
        if os.fork() == 0:
            break
    bjoern.run()
