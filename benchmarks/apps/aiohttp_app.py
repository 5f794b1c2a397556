"""The benchmark app on aiohttp.web, with a WebSocket echo on ``/ws``."""
from aiohttp import WSMsgType, web

from _serve import HELLO, json_message, parse_args, prefork, static_path


async def hello(request: web.Request) -> web.Response:
    return web.Response(body=HELLO, content_type="text/plain")


async def json_hello(request: web.Request) -> web.Response:
    return web.Response(body=json_message(), content_type="application/json")


async def echo(request: web.Request) -> web.Response:
    return web.Response(body=await request.read(), content_type="application/json")


async def static(request: web.Request) -> web.FileResponse:
    return web.FileResponse(static_path(request.path))


async def ws_echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(max_msg_size=64 * 1024 * 1024)
    await ws.prepare(request)
    async for message in ws:
        if message.type == WSMsgType.BINARY:
            await ws.send_bytes(message.data)
        elif message.type == WSMsgType.TEXT:
            await ws.send_str(message.data)
    return ws


def serve(sock) -> None:
    app = web.Application()
    app.add_routes([web.get("/hello", hello), web.get("/json", json_hello), web.post("/echo", echo),
                    web.get("/static/{name}", static), web.get("/ws", ws_echo)])
    web.run_app(app, sock=sock, access_log=None, print=None)


if __name__ == "__main__":
    args = parse_args()
    prefork(args.port, args.workers, serve)
