"""The pub/sub benchmark's server on the ``websockets`` library: ``sub`` adds the
connection to the subscribers, ``go K`` sends K 32-byte binary messages to all of them
with ``websockets.broadcast``.

    python benchmarks/apps/pubsub_websockets.py PORT
"""
import asyncio
import sys

from websockets.asyncio.server import broadcast, serve
from websockets.exceptions import ConnectionClosed

MESSAGE = b"m" * 32
subscribers: set = set()


async def handler(connection) -> None:
    try:
        async for message in connection:
            if message == "sub":
                subscribers.add(connection)
                await connection.send("ok")
            elif message.startswith("go "):
                for _ in range(int(message[3:])):
                    broadcast(subscribers, MESSAGE)
    except ConnectionClosed:
        pass
    finally:
        subscribers.discard(connection)


async def main() -> None:
    async with serve(handler, "127.0.0.1", int(sys.argv[1]), compression=None, ping_interval=None,
                     max_size=None, max_queue=None) as server:
        print("Listening", flush=True)
        await server.serve_forever()


asyncio.run(main())
