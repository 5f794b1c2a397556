"""Seed inputs for the request-parser targets, written as readable requests.

Each seed is one limits selector byte (see ``http_outcome.limits_from``; 0 keeps the
defaults) followed by what a client sends. ``python -m fuzz.write_corpus`` writes them
to ``fuzz/corpus/http/``.
"""
from __future__ import annotations

from typing import Dict

DEFAULT_LIMITS = b"\x00"
# header size 64, 1 header, URL size 8, body size 16: every limit trips early.
TIGHT_LIMITS = bytes([1 | 1 << 2 | 1 << 4 | 2 << 6])

REQUESTS: Dict[str, bytes] = {
    "get": b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "get-http10-keepalive": b"GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "get-close": b"GET /?q=1&r=%20 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    "post-length": b"POST /submit HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world",
    "post-chunked": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"),
    "pipelined": (b"GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                  b"GET /3 HTTP/1.1\r\n\r\n"),
    "upgrade": (b"GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"),
    "expect-continue": b"PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
    "absolute-form": b"GET http://example.com:8080/p?q HTTP/1.1\r\nHost: example.com\r\n\r\n",
    "connect": b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    "options-star": b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    "duplicate-headers": b"GET / HTTP/1.1\r\nCookie: a=1\r\nCookie: b=2\r\nX-Y:\r\n\r\n",
    "header-whitespace": b"GET / HTTP/1.1\r\nX-A:   padded \t\r\n\r\n",
    "latin1-value": b"GET / HTTP/1.1\r\nX-Name: caf\xe9\r\n\r\n",
    # Smuggling and framing vectors: each must fail the same way in both twins.
    "cl-te": b"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-cl": b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
    "te-obfuscated": b"POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "te-list": b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "te-not-last": b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
    "te-space-before-colon": b"POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "duplicate-length": b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "length-plus": b"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello",
    "length-huge": b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    "chunk-size-overflow": b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\n",
    "chunk-bad-terminator": b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXX0\r\n\r\n",
    "obs-fold": b"GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n",
    "bare-lf": b"GET / HTTP/1.1\nHost: a\n\n",
    "bare-cr": b"GET / HTTP/1.1\rHost: a\r\n\r\n",
    "nul-in-value": b"GET / HTTP/1.1\r\nX-A: a\x00b\r\n\r\n",
    "space-in-target": b"GET /a b HTTP/1.1\r\n\r\n",
    "lowercase-method": b"get / HTTP/1.1\r\n\r\n",
    "unknown-method": b"BREW /pot HTTP/1.1\r\n\r\n",
    "http20": b"GET / HTTP/2.0\r\n\r\n",
    "http09": b"GET /\r\n\r\n",
    "truncated-body": b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
    "empty-lines-before": b"\r\n\r\nGET / HTTP/1.1\r\n\r\n",
}

TIGHT: Dict[str, bytes] = {
    "tight-long-url": b"GET /a/very/long/path HTTP/1.1\r\n\r\n",
    "tight-many-headers": b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n",
    "tight-big-header": b"GET / HTTP/1.1\r\nX-Big: " + b"v" * 80 + b"\r\n\r\n",
    "tight-big-length": b"POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n" + b"b" * 17,
    "tight-big-chunked": (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n"),
}

SEEDS: Dict[str, bytes] = {
    **{name: DEFAULT_LIMITS + request for name, request in REQUESTS.items()},
    **{name: TIGHT_LIMITS + request for name, request in TIGHT.items()},
}
