"""A headless Chromium's ``EventSource`` reads an ``EventStream`` (gzip-coded, since the
browser accepts it), follows a server-side close by reconnecting with ``Last-Event-ID``."""
from __future__ import annotations

import json
import re

import pytest
import requests

from browser import CHROMIUM, dump_dom
from servers import start_app

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]


def test_chromium_event_source_reconnects_with_last_event_id():
    with start_app("sse") as server:
        dom = dump_dom(f"http://127.0.0.1:{server.port}/page")
        match = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
        assert match, dom
        assert match.group(1) != "pending", server.log()
        assert json.loads(match.group(1).replace("&quot;", '"')) == [
            "welcome:last=None", "tick:one\ntwo:5", "welcome:last=5"]
        accepted = requests.get(server.url + "/accepted", timeout=10).json()["accepted"]
        assert len(accepted) == 2 and all("gzip" in field for field in accepted)
