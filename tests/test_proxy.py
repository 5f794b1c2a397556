"""Trusted proxies: forwarding headers believed only from ``forwarded_allow_ips``; a real
nginx in front, as reverse proxy and as load balancer over two outside servers."""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from outside import OutsideHTTP, Request, Response
from outside.proxy import ProxyConfigError, TrustedProxies

from servers import start_app

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
CLIENT_IP = "127.0.0.2"  # a loopback address that is not the trusted proxy (127.0.0.1)


def request_from(peer, headers):
    return Request("GET", dict(headers), b"", "HTTP/1.1", "/", peer)


@pytest.mark.parametrize("allow, peer, headers, address, scheme", [
    # untrusted peer: headers ignored
    ([], ("10.0.0.5", 1), {"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"}, ("10.0.0.5", 1), "http"),
    (["192.168.0.0/16"], ("10.0.0.5", 1), {"X-Forwarded-For": "1.2.3.4"}, ("10.0.0.5", 1), "http"),
    # trusted peer: the right-most hop that is not a trusted proxy
    (["10.0.0.0/8"], ("10.0.0.5", 1), {"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"},
     ("1.2.3.4", 0), "https"),
    (["10.0.0.0/8"], ("10.0.0.5", 1), {"X-Forwarded-For": "6.6.6.6, 1.2.3.4, 10.0.0.9"}, ("1.2.3.4", 0), "http"),
    ("10.0.0.5, 10.0.0.9", ("10.0.0.5", 1), {"X-Forwarded-For": "1.2.3.4,10.0.0.9"}, ("1.2.3.4", 0), "http"),
    (["10.0.0.0/8"], ("10.0.0.5", 1), {"X-Forwarded-For": "10.0.0.7, 10.0.0.8"}, ("10.0.0.7", 0), "http"),
    ("*", ("203.0.113.1", 1), {"X-Forwarded-For": "1.2.3.4:5555"}, ("1.2.3.4", 5555), "http"),
    (["::1"], ("::1", 1, 0, 0), {"X-Forwarded-For": "2001:db8::7"}, ("2001:db8::7", 0), "http"),
    # one scheme per hop: the client's; otherwise the nearest proxy's; junk ignored
    (["10.0.0.0/8"], ("10.0.0.5", 1), {"X-Forwarded-For": "1.2.3.4, 10.0.0.9",
                                        "X-Forwarded-Proto": "https, http"}, ("1.2.3.4", 0), "https"),
    (["10.0.0.0/8"], ("10.0.0.5", 1), {"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "gopher"},
     ("1.2.3.4", 0), "http"),
    # malformed: believe none of it
    (["10.0.0.0/8"], ("10.0.0.5", 1), {"X-Forwarded-For": "1.2.3.4,,"}, ("10.0.0.5", 1), "http"),
    # Forwarded (RFC 7239), used when there is no X-Forwarded-For
    (["10.0.0.0/8"], ("10.0.0.5", 1), {"Forwarded": 'for="[2001:db8::1]:4711";proto=https, for=10.0.0.9'},
     ("2001:db8::1", 4711), "https"),
    (["10.0.0.0/8"], ("10.0.0.5", 1), {"Forwarded": "for=192.0.2.60;proto=http;by=203.0.113.43"},
     ("192.0.2.60", 0), "http"),
    (["10.0.0.0/8"], ("10.0.0.5", 1), {"Forwarded": "for=unknown"}, ("unknown", 0), "http"),
    (["10.0.0.0/8"], ("10.0.0.5", 1), {"Forwarded": "for=1.1.1.1", "X-Forwarded-For": "2.2.2.2"},
     ("2.2.2.2", 0), "http"),
])
def test_trusted_proxies(allow, peer, headers, address, scheme):
    request = request_from(peer, headers)
    TrustedProxies(allow).apply(request)
    assert (request.address, request.scheme) == (address, scheme)


def test_invalid_configuration_is_one_clear_error():
    with pytest.raises(ProxyConfigError, match=r"'10\.0\.0\.300' is not an IP address or network"):
        TrustedProxies(["127.0.0.1", "10.0.0.300"])
    app = OutsideHTTP(("127.0.0.1", 0))
    app.config["forwarded_allow_ips"] = ["localhost"]
    with pytest.raises(ProxyConfigError, match="forwarded_allow_ips"):
        app.run()  # stops before serving, not on each request


def test_dispatch_applies_before_routing():
    app = OutsideHTTP(("127.0.0.1", 0))
    app.set_route("/", lambda request: Response(200, {}, f"{request.address[0]} {request.scheme}"))
    app.config["forwarded_allow_ips"] = ["127.0.0.1"]
    client = app.test_client()
    assert client.get("/", headers={"X-Forwarded-For": "198.51.100.4", "X-Forwarded-Proto": "https"}).text \
        == "198.51.100.4 https"
    app.config["forwarded_allow_ips"] = ["bad entry"]  # changed at run time: logged, nothing trusted
    assert client.get("/", headers={"X-Forwarded-For": "198.51.100.4"}).text == "127.0.0.1 http"


# --- a real nginx in front ----------------------------------------------------------

WHO_AM_I = "who_am_i"  # tests/apps/who_am_i.py


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Nginx:
    """nginx on a free port of 127.0.0.1 in front of ``backends``, stopped by PID."""

    def __init__(self, directory, backends):
        self.port = free_port()
        self.directory = directory
        os.chmod(directory, 0o777)  # workers may run as another user
        servers = "".join(f"server 127.0.0.1:{port};\n" for port in backends)
        proxy = ("proxy_pass http://backends; proxy_http_version 1.1; proxy_set_header Connection \"\";"
                 " proxy_set_header Host $host;")
        config = f"""
            worker_processes 1;
            daemon off;
            pid {directory}/nginx.pid;
            error_log {directory}/error.log warn;
            events {{ worker_connections 64; }}
            http {{
                access_log off;
                client_body_temp_path {directory}/body;
                proxy_temp_path {directory}/proxy;
                fastcgi_temp_path {directory}/fastcgi;
                uwsgi_temp_path {directory}/uwsgi;
                scgi_temp_path {directory}/scgi;
                upstream backends {{ {servers} }}
                server {{
                    listen 127.0.0.1:{self.port};
                    location / {{
                        {proxy}
                        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                        proxy_set_header X-Forwarded-Proto $scheme;
                    }}
                    location /standard {{
                        {proxy}
                        proxy_set_header X-Forwarded-For "";
                        proxy_set_header Forwarded "for=$remote_addr;proto=https";
                    }}
                }}
            }}
        """
        path = os.path.join(directory, "nginx.conf")
        with open(path, "w") as file:
            file.write(config)
        with open(os.path.join(directory, "stderr.log"), "wb") as stderr:
            self.process = subprocess.Popen([NGINX, "-p", directory, "-c", path],
                                            stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    logs = []
                    for name in ("stderr.log", "error.log"):
                        with open(os.path.join(directory, name)) as file:
                            logs.append(file.read())
                    raise RuntimeError("nginx did not start: " + "".join(logs)) from None
                time.sleep(0.05)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def fetch(port, path="/", headers=None, source=CLIENT_IP):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.fixture
def nginx_required():
    if NGINX is None:
        pytest.skip("the nginx binary is not installed")


SPOOF = {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https", "Forwarded": "for=7.7.7.7"}


def test_behind_nginx_reverse_proxy(nginx_required, tmp_path):
    with start_app(WHO_AM_I, config={"forwarded_allow_ips": ["127.0.0.1"]}) as backend:
        nginx = Nginx(str(tmp_path), [backend.port])
        try:
            status, got = fetch(nginx.port, headers=SPOOF)
            assert status == 200 and got["address"] == CLIENT_IP and got["scheme"] == "http"
            assert got["xff"] == f"6.6.6.6, {CLIENT_IP}"  # the spoofed hop is there, and ignored
            status, got = fetch(nginx.port, "/standard")
            assert (got["address"], got["scheme"]) == (CLIENT_IP, "https")
            # straight to outside from an untrusted peer: the headers are not believed
            status, got = fetch(backend.port, headers=SPOOF)
            assert (got["address"], got["scheme"]) == (CLIENT_IP, "http")
            # from the trusted address they are
            status, got = fetch(backend.port, headers={"X-Forwarded-For": "6.6.6.6"}, source="127.0.0.1")
            assert got["address"] == "6.6.6.6"
        finally:
            nginx.stop()


def test_behind_nginx_without_trust_the_proxy_is_the_client(nginx_required, tmp_path):
    with start_app(WHO_AM_I) as backend:
        nginx = Nginx(str(tmp_path), [backend.port])
        try:
            status, got = fetch(nginx.port, headers=SPOOF)
            assert (got["address"], got["scheme"]) == ("127.0.0.1", "http")
        finally:
            nginx.stop()


def test_nginx_load_balancer_over_two_outside_servers(nginx_required, tmp_path):
    config = {"forwarded_allow_ips": ["127.0.0.1"]}
    with start_app(WHO_AM_I, config=config, env={"SERVER_NAME": "a"}) as first, \
            start_app(WHO_AM_I, config=config, env={"SERVER_NAME": "b"}) as second:
        nginx = Nginx(str(tmp_path), [first.port, second.port])
        try:
            answers = [fetch(nginx.port, headers=SPOOF)[1] for _ in range(10)]
            assert {answer["server"] for answer in answers} == {"a", "b"}
            assert {answer["address"] for answer in answers} == {CLIENT_IP}
        finally:
            nginx.stop()
