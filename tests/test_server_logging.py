"""Logging: quiet by default, an access line per request when the application asks."""
from __future__ import annotations

import requests

from servers import start_app

APP = "logging_hello"  # tests/apps/logging_hello.py


def test_default_logging_is_start_up_and_errors_only():
    with start_app(APP) as server:
        requests.get(server.url + "/?q=1", timeout=10)
        requests.get(server.url + "/missing-is-fine", timeout=10)
        log = server.log()
    assert "Listening on http://127.0.0.1:" in log
    assert "GET /" not in log


def test_access_log_when_the_application_configures_logging():
    with start_app(APP, env={"LOGGING": "1", "LOG_FORMAT": "%(name)s %(message)s"}) as server:
        requests.get(server.url + "/?q=1", timeout=10)
        with requests.Session() as session:  # an unparsable request is logged too
            session.get(server.url + "/" + "a" * 9000, timeout=10)
        server.wait_for_log(r'outside\.access 127\.0\.0\.1 - - \[[^]]+\] "GET /\?q=1 HTTP/1\.1" 200 5')
        server.wait_for_log(r'outside\.access 127\.0\.0\.1 - - \[[^]]+\] "-" 414 ')
        assert "outside Listening on" in server.log()


def test_access_log_can_be_switched_off():
    with start_app(APP, {"access_log": False}, env={"LOGGING": "1"}) as server:
        requests.get(server.url + "/", timeout=10)
        assert "outside.access" not in server.log()
