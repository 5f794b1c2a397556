"""The WebSocket layers stay apart: the sans-I/O core loads no HTTP, server or app code,
the old import paths still work, and handlers see only the documented members."""
from __future__ import annotations

import subprocess
import sys

from servers import ROOT

# Import ``outside.<module>`` without running ``outside/__init__.py`` (which loads the
# whole framework), then list every outside module that got loaded.
_LOADED = """
import os, sys, types
package = types.ModuleType("outside")
package.__path__ = [os.path.join({root!r}, "outside")]
sys.modules["outside"] = package
import importlib
importlib.import_module({module!r})
{extra}
print(" ".join(sorted(name for name in sys.modules if name.startswith("outside."))))
"""


def loaded_modules(module: str, extra: str = "") -> set:
    program = _LOADED.format(root=ROOT, module=module, extra=extra)
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=False,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_the_core_loads_only_itself_and_its_twins() -> None:
    for module in ("outside.websocket.protocol", "outside.websocket.handshake",
                   "outside.websocket.deflate", "outside.websocket"):
        loaded = loaded_modules(module)
        assert module in loaded
        strangers = {name for name in loaded
                     if not name.startswith(("outside.websocket", "outside._speedups"))}
        assert not strangers, f"{module} loaded {sorted(strangers)}"


def test_old_names_are_loaded_from_their_new_homes_on_first_use() -> None:
    extra = ("from outside.websocket import ConnectionEnded, WebSocket, WebSocketConnection\n"
             "assert WebSocket.__module__ == 'outside.websocket_route'\n"
             "assert WebSocketConnection.__module__ == 'outside.server.websocket.blocking'\n"
             "assert ConnectionEnded.__module__ == 'outside.websocket.errors'\n")
    loaded = loaded_modules("outside.websocket", extra)
    assert {"outside.websocket_route", "outside.server.websocket.blocking"} <= loaded


def test_the_package_exports_the_same_objects() -> None:
    import outside
    from outside import websocket
    from outside.server.websocket.blocking import WebSocketConnection
    from outside.websocket.errors import ConnectionEnded
    from outside.websocket_route import WebSocket
    assert outside.WebSocket is websocket.WebSocket is WebSocket
    assert outside.WebSocketConnection is websocket.WebSocketConnection is WebSocketConnection
    assert outside.ConnectionEnded is websocket.ConnectionEnded is ConnectionEnded


def test_handlers_see_only_the_documented_members() -> None:
    from outside import WebSocketConnection
    public = {name for name in dir(WebSocketConnection) if not name.startswith("_")}
    assert public == {"recv", "recv_message", "send", "ping", "close", "exit", "closed",
                      "close_code", "close_reason", "address",
                      "subscribe", "unsubscribe", "topics"}  # docs/pubsub.md
    # request, subprotocol and timeout are instance attributes (see test_websocket_adapters)
