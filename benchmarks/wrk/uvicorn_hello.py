"""The peer: a raw ASGI hello world on uvicorn (httptools, asyncio), one worker."""
from __future__ import annotations


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"Hello, World!"})
