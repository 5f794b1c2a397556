"""Worker processes (tests/test_server_process.py): ``/pid``, ``/sleep?s=``, a 32 MiB
file on ``/big``, and a ``server_cleanup`` that prints ``cleanup ran``.

Environment: ``WS_ECHO=blocking`` or ``WS_ECHO=events`` adds an echoing WebSocket on
``/ws`` (a blocking handler or an on_message one) whose on_exit prints ``EXIT ws``.
"""
import os
import tempfile
import time

from outside import FilePath, OutsideHTTP, Response, WebSocket

app = OutsideHTTP(("127.0.0.1", 0))

BIG = os.path.join(tempfile.mkdtemp(), "big.bin")
with open(BIG, "wb") as f:
    f.write(os.urandom(1 << 20) * 32)  # 32 MiB: more than the socket buffers hold


def pid(request):
    return Response(200, {}, str(os.getpid()))


def sleep(request):
    time.sleep(float(request.params.get("s", "1")))
    return Response(200, {}, "slept")


def big(request):
    return Response(200, {}, FilePath(BIG))


app.set_route("/pid", pid)
app.set_route("/sleep", sleep)
app.set_route("/big", big)
app.config["server_cleanup"] = lambda: print("cleanup ran", flush=True)

kind = os.environ.get("WS_ECHO")
if kind:
    ws = WebSocket()
    if kind == "blocking":
        ws.on_connection(lambda connection: [connection.send(m) for m in connection])
    else:
        ws.on_message(lambda connection, message: connection.send(message))
    ws.on_exit(lambda: print("EXIT ws", flush=True))
    app.set_route("/ws", ws)
