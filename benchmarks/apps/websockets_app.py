"""A WebSocket echo on the ``websockets`` library (asyncio implementation)."""
import asyncio

from websockets.asyncio.server import serve as ws_serve
from websockets.exceptions import ConnectionClosed

from _serve import parse_args, prefork


async def echo(connection) -> None:
    try:
        async for message in connection:
            await connection.send(message)
    except ConnectionClosed:  # a client closing with an echo in flight is normal here
        pass


async def serve_forever(sock) -> None:
    # No compression and no keepalive pings: the load client negotiates neither.
    async with ws_serve(echo, sock=sock, max_size=None, ping_interval=None, compression=None) as server:
        await server.serve_forever()


if __name__ == "__main__":
    args = parse_args()
    prefork(args.port, args.workers, lambda sock: asyncio.run(serve_forever(sock)))
