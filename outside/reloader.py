"""Restart a development server when its source changes (``outside run --reload``).

The server runs in a child process; this parent polls the modification times of the
``.py`` files under a directory and, when one is added, changed or removed, stops the
child (SIGTERM, so it finishes gracefully) and starts a new one. Polling needs no
platform watcher and costs little for a project's worth of files.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

POLL_INTERVAL = 0.5   # seconds between scans
STOP_TIMEOUT = 10.0   # seconds a child gets to stop before it is killed
_SKIPPED_FOLDERS = frozenset(("__pycache__", "node_modules", "site-packages", "venv", "env"))


def snapshot(directory: str) -> Dict[str, int]:
    """Path -> modification time (ns) of each ``.py`` file under ``directory``, hidden
    folders and virtual environments left out."""
    times: Dict[str, int] = {}
    for folder, subfolders, files in os.walk(directory):
        subfolders[:] = [name for name in subfolders
                         if not name.startswith(".") and name not in _SKIPPED_FOLDERS]
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                try:
                    times[path] = os.stat(path).st_mtime_ns
                except OSError:  # removed while we looked
                    pass
    return times


def first_change(before: Dict[str, int], after: Dict[str, int]) -> Optional[str]:
    """A path that was added, changed or removed between two snapshots, or ``None``."""
    for path in sorted(set(before) | set(after)):
        if before.get(path) != after.get(path):
            return path
    return None


def run_with_reload(command: List[str], directory: str) -> int:
    """Run ``command``, restarting it on each change under ``directory``, until SIGINT or
    SIGTERM; then stop it and return 0."""
    stopping: List[int] = []

    def stop(signum: int, frame: Any) -> None:
        stopping.append(signum)

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    files = snapshot(directory)
    child = subprocess.Popen(command)
    exit_reported = False
    try:
        while not stopping:
            time.sleep(POLL_INTERVAL)
            current = snapshot(directory)
            changed = first_change(files, current)
            if changed is not None:
                _say(f"{os.path.relpath(changed, directory)} changed; restarting")
                _stop(child)
                files = current
                child = subprocess.Popen(command)
                exit_reported = False
            elif child.poll() is not None and not exit_reported:
                _say(f"the server exited with status {child.returncode}; "
                     "waiting for a change to start it again")
                exit_reported = True
    finally:
        _stop(child)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0


def _stop(child: subprocess.Popen[Any]) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _say(message: str) -> None:
    print(f"outside: {message}", file=sys.stderr, flush=True)
