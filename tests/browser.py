"""Headless Chromium for the browser tests: where it is, and the DOM of a page after its scripts ran."""
from __future__ import annotations

import shutil
import subprocess
import tempfile

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


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
