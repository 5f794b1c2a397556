"""HTTPS with outside, and a plain-HTTP port that redirects every request to it.

    python examples/tls_server.py CERTFILE KEYFILE [HTTPS_PORT [HTTP_PORT]]

Defaults: 8443 and 8080 (0 picks a free port). For a try on your own machine, make a
self-signed certificate first:

    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \\
        -keyout key.pem -out cert.pem
    python examples/tls_server.py cert.pem key.pem
    curl -k https://localhost:8443/        curl -i http://localhost:8080/anything

In production, listen on 443 and 80 (see docs/deployment.md) with your real certificate.
"""
from __future__ import annotations

import sys
import threading

from outside import OutsideHTTP, OutsideHTTP_Redirect, Response

certfile, keyfile = sys.argv[1], sys.argv[2]
https_port = int(sys.argv[3]) if len(sys.argv) > 3 else 8443
http_port = int(sys.argv[4]) if len(sys.argv) > 4 else 8080

server = OutsideHTTP(("127.0.0.1", https_port))
server.config.update(ssl_enabled=True, ssl_certfile=certfile, ssl_keyfile=keyfile, workers=1)


@server.route("/")
def index(request):
    return Response(200, {}, f"Hello over {request.scheme}!")


if __name__ == "__main__":
    redirect = OutsideHTTP_Redirect(("127.0.0.1", http_port), f"https://localhost:{https_port}/")
    redirect.config["workers"] = 1
    threading.Thread(target=redirect.run, daemon=True).start()  # stops with the process
    server.run()
