"""Two headless Chromium processes, as two browser tabs, each on a different worker
process of one server: each publishes to a topic both subscribe to, and each sees the
other's message (tests/pages/pubsub_tab.html, tests/apps/pubsub.py)."""
from __future__ import annotations

import json
import re
import threading

import pytest
import requests

from browser import CHROMIUM, dump_dom
from servers import start_app

pytestmark = [pytest.mark.timeout(180),
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]


def worker_pids(server, workers: int = 2) -> list[str]:
    pids: set = set()
    for _ in range(200):
        pids.add(str(requests.get(f"{server.url}/stats", headers={"Connection": "close"},
                                  timeout=10).json()["pid"]))
        if len(pids) == workers:
            return sorted(pids)
    raise AssertionError(f"only workers {pids} answered")


@pytest.mark.parametrize("mode", ["blocking", "events"])
def test_two_browser_tabs_on_two_workers_see_each_others_messages(tmp_path, mode):
    env = {"WS_MODE": mode, "PUBSUB_REPORTS": str(tmp_path)}
    with start_app("pubsub", config={"workers": 2}, env=env) as server:
        first_pid, second_pid = worker_pids(server)
        doms = {}

        def tab(name: str, other: str, pid: str) -> None:
            doms[name] = dump_dom(f"{server.url}/tab?tab={name}&other={other}&worker={pid}")

        threads = [threading.Thread(target=tab, args=("a", "b", first_pid)),
                   threading.Thread(target=tab, args=("b", "a", second_pid))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(150)
        outcomes = {}
        for name, dom in doms.items():
            match = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
            assert match and match.group(1) != "pending", (dom, server.log())
            outcomes[name] = json.loads(match.group(1).replace("&quot;", '"'))
        assert set(outcomes) == {"a", "b"}
        assert outcomes["a"]["pid"] == first_pid and outcomes["b"]["pid"] == second_pid
        assert first_pid != second_pid
        assert outcomes["a"].get("received") == "hello from b", outcomes
        assert outcomes["b"].get("received") == "hello from a", outcomes
