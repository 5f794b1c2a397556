"""The pub/sub benchmark's server on socketify (uWebSockets): ``sub`` subscribes the
connection to ``bench``, ``go K`` publishes K 32-byte binary messages with
``app.publish``.

    python benchmarks/apps/pubsub_socketify.py PORT
"""
import sys

from socketify import App, CompressOptions, OpCode

MESSAGE = b"m" * 32
app = App()


def message(ws, data, opcode) -> None:
    if isinstance(data, bytes):
        data = data.decode()
    if data == "sub":
        ws.subscribe("bench")
        ws.send("ok", OpCode.TEXT)
    elif data.startswith("go "):
        for _ in range(int(data[3:])):
            app.publish("bench", MESSAGE, OpCode.BINARY)


app.ws("/ws", {"compression": CompressOptions.DISABLED, "max_payload_length": 1 << 20,
               "idle_timeout": 0, "max_backpressure": 64 << 20, "message": message})
app.listen(int(sys.argv[1]), lambda config: print("Listening", flush=True))
app.run()
