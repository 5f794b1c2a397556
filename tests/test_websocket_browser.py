"""A headless Chromium opens a page served by outside that exchanges messages with it
over a WebSocket; the page writes the outcome into its DOM, which the test reads."""
from __future__ import annotations

import json
import re

import pytest

from browser import CHROMIUM, dump_dom
from servers import start_app

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]

APP = "ws_browser"  # tests/apps/ws_browser.py


def test_chromium_exchanges_messages_with_outside():
    with start_app(APP) as server:
        dom = dump_dom(f"http://127.0.0.1:{server.port}/page")
        match = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
        assert match, dom
        assert match.group(1) != "pending", server.log()
        outcome = json.loads(match.group(1).replace("&quot;", '"'))
        assert outcome["received"] == ["text:hello from the browser", "binary:0,1,2,255",
                                       "large:true"]
        assert outcome["code"] == 1000
        assert outcome["protocol"] == "echo"
        assert "permessage-deflate" in outcome["extensions"]
        assert "EXIT browser" in server.log()
