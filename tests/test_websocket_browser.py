"""A headless Chromium opens a page served by outside that exchanges messages with it
over a WebSocket; the page writes the outcome into its DOM, which the test reads."""
from __future__ import annotations

import json
import os
import re

import pytest

from browser import CHROMIUM, dump_dom
from servers import start_app

PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pages", "websocket_echo.html")

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]

APP = f"""
ws = WebSocket(subprotocols=["echo"])
@ws.on_connection
def echo(connection):
    for message in connection:
        connection.send(message)
finished = threading.Event()
@ws.on_exit
def done():
    print("EXIT browser", flush=True)
    finished.set()
def hold(request):  # answered once the WebSocket is over: holds the page's load event
    finished.wait(30)
    time.sleep(0.2)
    return Response(200, {{}}, "over")
app.set_route("/ws", ws)
app.set_route("/hold", hold)
app.set_route("/page", lambda request: Response(200, {{}}, FilePath({PAGE!r})))
"""


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
