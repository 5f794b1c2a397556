"""The server apps under ``tests/apps/``: ``start_app`` runs one by name, and every one
of them is started by some test (no app file left behind when a test changes)."""
from __future__ import annotations

import glob
import os
import re

import pytest
import requests

from servers import APPS, app_path, start_app

TESTS = os.path.dirname(os.path.abspath(__file__))
APP_NAMES = sorted(os.path.basename(path)[:-3] for path in glob.glob(os.path.join(APPS, "*.py")))


def uses(name: str) -> re.Pattern:
    """How a test names an app: passed to a starter, as a module constant given to one, or
    as the ``module:app`` of ``outside run``."""
    quoted = "[\"']" + re.escape(name) + "[\"']"
    module = re.escape(f"tests.apps.{name}:")  # run by the command line: outside run tests.apps.NAME:app
    return re.compile(r"(?:start_app|start_program|app_path)\(\s*" + quoted + "|^[A-Z_]+ = " + quoted
                      + "|" + module, re.M)


def test_start_app_runs_an_app_file_by_name():
    with start_app("hello", {"max_workers": 2}) as server:
        response = requests.get(server.url + "/", timeout=10)
        assert (response.status_code, response.text) == (200, "Hello, World!")
    with pytest.raises(FileNotFoundError):
        app_path("no_such_app")


@pytest.mark.parametrize("name", APP_NAMES)
def test_every_app_is_used_by_a_test(name):
    users = []
    for path in glob.glob(os.path.join(TESTS, "test_*.py")):
        with open(path, encoding="utf-8") as file:
            if uses(name).search(file.read()):
                users.append(path)
    assert users, f"tests/apps/{name}.py is started by no test"
