"""A headless Chromium opens a page served by outside that exchanges messages with it
over a WebSocket; the page writes the outcome into its DOM, which the test reads."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from servers import start_app

PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pages", "websocket_echo.html")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

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


def dump_dom(url: str) -> str:
    """The page's DOM after its scripts ran, from a headless Chromium (stopped by PID)."""
    with tempfile.TemporaryDirectory(prefix="outside-chromium-") as profile:
        process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             f"--user-data-dir={profile}", "--dump-dom", url],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            output, _ = process.communicate(timeout=90)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    return output.decode("utf-8", "replace")


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
