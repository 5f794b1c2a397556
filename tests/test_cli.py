"""The ``outside`` command line, run as users run it: ``python -m outside ...``."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests
import trustme
import websocket

from servers import ROOT, app_path, start_server

pytestmark = pytest.mark.timeout(90)

ENV = dict(os.environ, PYTHONPATH=ROOT)

with open(app_path("cli_module"), encoding="utf-8") as _module:
    APP_MODULE = _module.read()  # tests/apps/cli_module.py


def outside_command(*arguments: str, cwd: str = ROOT, timeout: float = 30) -> subprocess.CompletedProcess:
    """``python -m outside ARGUMENTS`` run to its end."""
    return subprocess.run([sys.executable, "-m", "outside", *arguments], capture_output=True, text=True,
                          cwd=cwd, env=ENV, timeout=timeout)


def cli_server(arguments, cwd: str = ROOT):
    """A server started by ``outside ARGUMENTS`` in ``cwd`` (as ``main`` sees them)."""
    return start_server(f"""
import os, sys
os.chdir({cwd!r})
from outside.cli import main
sys.exit(main({list(arguments)!r}))
""")


def assert_one_line_error(result: subprocess.CompletedProcess, *phrases: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("outside: error:")]
    assert len(error_lines) == 1, result.stderr
    for phrase in phrases:
        assert phrase in error_lines[0], result.stderr


@pytest.fixture
def project(tmp_path):
    (tmp_path / "myapp.py").write_text(APP_MODULE.replace("VERSION", "first"))
    return tmp_path


@pytest.mark.parametrize("command, words", [
    ([], ["serve", "run", "echo", "demo", "current directory"]),
    (["serve"], ["DIR", "--port", "--host", "--certfile"]),
    (["run"], ["MODULE:ATTR", "--reload", "--workers", "--keyfile", "--log-level"]),
    (["echo"], ["WebSocket", "--port"]),
    (["websocket"], ["WebSocket", "--port"]),
    (["demo"], ["demo", "--port"]),
])
def test_help_explains_each_command(command, words):
    result = outside_command(*command, "--help")
    assert result.returncode == 0, result.stderr
    for word in words:
        assert word in result.stdout


def test_version():
    import outside
    assert outside_command("--version").stdout.strip() == f"outside {outside.__version__}"


def test_no_arguments_serve_the_current_directory_on_port_8000(tmp_path):
    probe = socket.socket()
    try:
        probe.bind(("127.0.0.1", 8000))
    except OSError:
        pytest.skip("port 8000 is in use on this machine")
    finally:
        probe.close()
    (tmp_path / "index.html").write_text("<p>the old way</p>")
    with cli_server([], cwd=str(tmp_path)) as server:
        assert server.port == 8000
        assert requests.get(server.url + "/", timeout=10).text == "<p>the old way</p>"


@pytest.mark.parametrize("command", ["echo", "websocket"])
def test_echo_sends_every_message_back(command):
    with cli_server([command, "--port", "0"]) as server:
        connection = websocket.create_connection(f"ws://127.0.0.1:{server.port}/any/path", timeout=10)
        try:
            connection.send("hello")
            assert connection.recv() == "hello"
            connection.send_binary(b"\x00\xff")
            assert connection.recv() == b"\x00\xff"
        finally:
            connection.close()


def test_run_imports_the_app_from_the_working_directory(project):
    with cli_server(["run", "myapp:server", "--port", "0", "--log-level", "debug"], cwd=str(project)) as server:
        assert requests.get(server.url + "/", timeout=10).text == "first"


def test_forwarded_allow_ips(project):
    forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    with cli_server(["run", "myapp:server", "--port", "0", "--forwarded-allow-ips", "127.0.0.1,10.0.0.0/8"],
                    cwd=str(project)) as server:
        assert requests.get(server.url + "/whoami", headers=forwarded, timeout=10).text == "203.0.113.9 https"
    with cli_server(["run", "myapp:server", "--port", "0"], cwd=str(project)) as server:
        assert requests.get(server.url + "/whoami", headers=forwarded, timeout=10).text == "127.0.0.1 http"
    result = outside_command("run", "myapp:server", "--port", "0", "--forwarded-allow-ips", "banana",
                             cwd=str(project))
    assert_one_line_error(result, "'banana' is not an IP address")


def test_run_with_workers(project):
    with cli_server(["run", "myapp:server", "--port", "0", "--workers", "2"], cwd=str(project)) as server:
        server.wait_for_log(r"\(2 worker processes\)")
        assert len(server.children()) == 2
        assert requests.get(server.url + "/", timeout=10).text == "first"


def test_run_serves_a_wsgi_application(project):
    with cli_server(["run", "myapp:wsgi_app", "--port", "0"], cwd=str(project)) as server:
        assert requests.get(server.url + "/some/path", timeout=10).text == "wsgi at /some/path"


def test_run_with_tls(project):
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    certificate.cert_chain_pems[0].write_to_path(str(project / "cert.pem"))
    certificate.private_key_pem.write_to_path(str(project / "key.pem"))
    authority.cert_pem.write_to_path(str(project / "ca.pem"))
    with cli_server(["run", "myapp:server", "--port", "0", "--certfile", "cert.pem", "--keyfile", "key.pem"],
                    cwd=str(project)) as server:
        assert server.scheme == "https"
        assert requests.get(server.url + "/", verify=str(project / "ca.pem"), timeout=10).text == "first"


@pytest.mark.parametrize("spec, phrases", [
    ("nosuchmodule:server", ["no module named 'nosuchmodule'"]),
    ("myapp:nosuchattribute", ["has no attribute 'nosuchattribute'"]),
    ("myapp:not_an_app", ["is a int, not an OutsideHTTP app"]),
    ("myapp:not_wsgi", ["is a function, not an OutsideHTTP app or a WSGI application"]),
    ("myapp", ["is not MODULE:ATTR"]),
])
def test_run_explains_what_it_cannot_find(project, spec, phrases):
    assert_one_line_error(outside_command("run", spec, cwd=str(project)), *phrases)


@pytest.mark.parametrize("mistake, phrases", [
    ('@server.route("/")\ndef again(request):\n    return Response(200, {}, "")\n',
     ["already served by 'index'"]),
    ('@server.route("/users/<int:user_id>")\ndef user(request):\n    return Response(200, {}, "")\n',
     ["cannot be called as user(request, user_id=...)", "def user(request, user_id)"]),
    ('@server.route("/<nope:x>")\ndef bad(request, x):\n    return Response(200, {}, "")\n',
     ["nope"]),
])
def test_route_mistakes_are_one_line_with_the_users_line(project, mistake, phrases):
    source = APP_MODULE.replace("VERSION", "first") + mistake
    (project / "broken.py").write_text(source)
    line = source.count("\n", 0, source.index(mistake)) + 1
    result = outside_command("run", "broken:server", cwd=str(project))
    assert_one_line_error(result, *phrases)
    # The decorator's line; Python 3.10 and older report a decorator call on the def line.
    user_line = line if sys.version_info >= (3, 11) else line + 1
    assert f"broken.py:{user_line}:" in result.stderr


def test_a_port_in_use_is_one_line():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        port = str(busy.getsockname()[1])
        for command in (["serve"], ["echo"], ["demo"], ["serve", "--workers", "2"]):
            result = outside_command(*command, "--port", port)
            assert_one_line_error(result, f"port {port} is already in use")
    finally:
        busy.close()


def test_an_unreadable_certificate_is_one_line(tmp_path):
    result = outside_command("serve", "--port", "0", "--certfile", str(tmp_path / "missing.pem"))
    assert_one_line_error(result, "missing.pem")
    assert_one_line_error(outside_command("serve", "--keyfile", "key.pem"), "--keyfile needs --certfile")


def test_wrong_options_are_usage_errors():
    result = outside_command("serve", "--log-level", "loud")
    assert result.returncode == 2 and "invalid choice" in result.stderr
    assert_one_line_error(outside_command("echo", "--workers", "0"), "--workers")


def _listening_ports(server):
    return [int(port) for port in re.findall(r"Listening on http://127\.0\.0\.1:(\d+)", server.log())]


def test_reload_restarts_the_server_when_a_source_file_changes(project):
    with cli_server(["run", "myapp:server", "--port", "0", "--reload"], cwd=str(project)) as server:
        assert requests.get(server.url + "/", timeout=10).text == "first"
        [child] = server.children()
        source = project / "myapp.py"
        source.write_text(APP_MODULE.replace("VERSION", "second"))
        later = time.time() + 2  # a changed mtime even on file systems with coarse timestamps
        os.utime(source, (later, later))
        deadline = time.monotonic() + 30
        while len(_listening_ports(server)) < 2:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)
        assert "myapp.py changed; restarting" in server.log()
        port = _listening_ports(server)[-1]
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=10).text == "second"
        [new_child] = server.children()
        assert new_child != child and not os.path.exists(f"/proc/{child}")
        server.send_signal(signal.SIGTERM)
        assert server.process.wait(20) == 0
        assert not os.path.exists(f"/proc/{new_child}")


def test_reload_waits_for_a_fix_after_a_broken_edit(project):
    with cli_server(["run", "myapp:server", "--port", "0", "--reload"], cwd=str(project)) as server:
        source = project / "myapp.py"
        source.write_text("this is not python\n")
        os.utime(source, (time.time() + 2,) * 2)
        server.wait_for_log(r"waiting for a change to start it again", timeout=30)
        source.write_text(APP_MODULE.replace("VERSION", "fixed"))
        os.utime(source, (time.time() + 4,) * 2)
        deadline = time.monotonic() + 30
        while len(_listening_ports(server)) < 2:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)
        port = _listening_ports(server)[-1]
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=10).text == "fixed"
