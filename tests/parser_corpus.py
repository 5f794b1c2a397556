"""Requests for the parser tests: valid ones with the events they give, invalid ones with
the status they must be refused with. Written for this project from RFC 9112 and the
request-smuggling vectors of issue 2; ``test_parser_differential`` also mutates them.
"""
from __future__ import annotations

from outside.http.events import MessageEnd, RequestHead


def head(method="GET", target="/", version="HTTP/1.1", headers=(("Host", "example.org"),),
         keep_alive=True, upgrade=False, expect_continue=False, chunked=False,
         content_length=None) -> RequestHead:
    return RequestHead(method, target, version, list(headers), keep_alive, upgrade,
                       expect_continue, chunked, content_length)


HOST = b"Host: example.org\r\n"
END = MessageEnd()

BROWSER_GET = (
    b"GET /articles/42?ref=home&lang=en HTTP/1.1\r\n"
    b"Host: www.example.org\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\n"
    b"Referer: https://www.example.org/\r\n"
    b"Connection: keep-alive\r\n"
    b"Cookie: session=4f1c2e9a; theme=dark\r\n"
    b"Upgrade-Insecure-Requests: 1\r\n"
    b"Cache-Control: max-age=0\r\n\r\n")

# name -> (bytes, expected events, upgrade data left over)
VALID = {
    "get-origin-form": (b"GET /a/b?c=d#e HTTP/1.1\r\n" + HOST + b"\r\n",
                        [head(target="/a/b?c=d#e"), END], None),
    "browser-get": (BROWSER_GET, None, None),
    "head": (b"HEAD /x HTTP/1.1\r\n" + HOST + b"\r\n", [head("HEAD", "/x"), END], None),
    "absolute-form": (b"GET http://user@example.org:8080/p?q HTTP/1.1\r\n" + HOST + b"\r\n",
                      [head(target="http://user@example.org:8080/p?q"), END], None),
    "asterisk": (b"OPTIONS * HTTP/1.1\r\n" + HOST + b"\r\n", [head("OPTIONS", "*"), END], None),
    "connect-authority": (b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\ntunnel",
                          [head("CONNECT", "example.org:443", headers=[("Host", "example.org:443")],
                                upgrade=True), END], b"tunnel"),
    "http10-close": (b"GET / HTTP/1.0\r\n\r\n", [head(version="HTTP/1.0", headers=[], keep_alive=False), END], None),
    "http10-keep-alive": (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
                          [head(version="HTTP/1.0", headers=[("Connection", "Keep-Alive")]), END,
                           head(target="/2", version="HTTP/1.0", headers=[], keep_alive=False), END], None),
    "http11-close": (b"GET / HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n\r\n",
                     [head(headers=[("Host", "example.org"), ("Connection", "close")], keep_alive=False), END], None),
    "content-length": (b"POST /form HTTP/1.1\r\n" + HOST + b"Content-Length: 11\r\n\r\nhello world",
                       [head("POST", "/form", headers=[("Host", "example.org"), ("Content-Length", "11")],
                             content_length=11), b"hello world", END], None),
    "content-length-zero": (b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: 0\r\n\r\n",
                            [head("POST", headers=[("Host", "example.org"), ("Content-Length", "0")],
                                  content_length=0), END], None),
    "chunked-extensions-trailers": (
        b"POST /up HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
        b"5;name=value;quoted=\"a \\\"b\\\"\"\r\nhello\r\n6;flag;;=;mixed=tok\"q\"\r\n world\r\nA\r\n0123456789\r\n"
        b"0\r\nChecksum: abc\r\nX-Trailer: 1\r\n\r\n",
        [head("POST", "/up", headers=[("Host", "example.org"), ("Transfer-Encoding", "chunked")], chunked=True),
         b"hello world0123456789", MessageEnd([("Checksum", "abc"), ("X-Trailer", "1")])], None),
    "chunked-upper-hex-leading-zeros": (
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: CHUNKED\r\n\r\n00000000000000000000F\r\n"
        + b"x" * 15 + b"\r\n0\r\n\r\n",
        [head("POST", headers=[("Host", "example.org"), ("Transfer-Encoding", "CHUNKED")], chunked=True),
         b"x" * 15, END], None),
    "pipelined-burst": (
        (b"GET /1 HTTP/1.1\r\n" + HOST + b"\r\n") +
        (b"POST /2 HTTP/1.1\r\n" + HOST + b"Content-Length: 2\r\n\r\nok") +
        (b"\r\nGET /3 HTTP/1.1\r\n" + HOST + b"\r\n"),
        [head(target="/1"), END,
         head("POST", "/2", headers=[("Host", "example.org"), ("Content-Length", "2")], content_length=2), b"ok", END,
         head(target="/3"), END], None),
    "expect-continue": (b"PUT /f HTTP/1.1\r\n" + HOST + b"Expect: 100-Continue\r\nContent-Length: 1\r\n\r\nz",
                        [head("PUT", "/f", headers=[("Host", "example.org"), ("Expect", "100-Continue"),
                                                   ("Content-Length", "1")], expect_continue=True,
                              content_length=1), b"z", END], None),
    "websocket-upgrade": (
        b"GET /ws HTTP/1.1\r\n" + HOST + b"Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n"
        b"\x81\x85frame GET / HTTP/1.1\r\n",
        [head(target="/ws", headers=[("Host", "example.org"), ("Connection", "keep-alive, Upgrade"),
                                     ("Upgrade", "websocket")], upgrade=True), END],
        b"\x81\x85frame GET / HTTP/1.1\r\n"),
    "upgrade-without-connection-token": (
        b"GET / HTTP/1.1\r\n" + HOST + b"Upgrade: h2c\r\n\r\n",
        [head(headers=[("Host", "example.org"), ("Upgrade", "h2c")]), END], None),
    "header-order-duplicates-case": (
        b"GET / HTTP/1.1\r\nx-a: 1\r\n" + HOST + b"X-A: 2\r\nX-EMPTY:\r\nX-Ows: \t spaced  out \t\r\n"
        b"X-Latin: caf\xe9\r\n\r\n",
        [head(headers=[("x-a", "1"), ("Host", "example.org"), ("X-A", "2"), ("X-EMPTY", ""),
                       ("X-Ows", "spaced  out"), ("X-Latin", "caf\xe9")]), END], None),
    "leading-empty-lines": (b"\r\n\r\nGET / HTTP/1.1\r\n" + HOST + b"\r\n", [head(), END], None),
    "many-spaces": (b"GET   /   HTTP/1.1\r\n" + HOST + b"\r\n", [head(), END], None),
    "proxy-connection-close": (b"GET / HTTP/1.1\r\n" + HOST + b"Proxy-Connection: close\r\n\r\n",
                               [head(headers=[("Host", "example.org"), ("Proxy-Connection", "close")],
                                     keep_alive=False), END], None),
    "transfer-encoding-spaces": (
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding:   chunked  \r\n\r\n0\r\n\r\n",
        [head("POST", headers=[("Host", "example.org"), ("Transfer-Encoding", "chunked")], chunked=True),
         END], None),
}

_POST = b"POST / HTTP/1.1\r\n" + HOST
_TE = b"Transfer-Encoding: chunked\r\n"

# name -> (bytes, status)
INVALID = {
    # request smuggling: framing headers
    "cl-and-te": (_POST + b"Content-Length: 4\r\n" + _TE + b"\r\n0\r\n\r\n", 400),
    "te-and-cl": (_POST + _TE + b"Content-Length: 4\r\n\r\n0\r\n\r\n", 400),
    "duplicate-cl": (_POST + b"Content-Length: 4\r\nContent-Length: 4\r\n\r\nabcd", 400),
    "cl-list": (_POST + b"Content-Length: 4, 4\r\n\r\nabcd", 400),
    "cl-sign": (_POST + b"Content-Length: +4\r\n\r\nabcd", 400),
    "cl-hex": (_POST + b"Content-Length: 0x4\r\n\r\nabcd", 400),
    "cl-empty": (_POST + b"Content-Length: \r\n\r\n", 400),
    "cl-inner-space": (_POST + b"Content-Length: 1 2\r\n\r\n", 400),
    "cl-overflow": (_POST + b"Content-Length: 18446744073709551616\r\n\r\n", 400),
    "te-space-before-colon": (_POST + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
    "te-xchunked": (_POST + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400),
    "te-chunked-identity": (_POST + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400),
    "te-chunked-twice": (_POST + _TE + _TE + b"\r\n0\r\n\r\n", 400),
    "te-identity-only": (_POST + b"Transfer-Encoding: identity\r\n\r\n", 400),
    "te-gzip-then-chunked": (_POST + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    "te-two-fields": (_POST + b"Transfer-Encoding: gzip\r\n" + _TE + b"\r\n0\r\n\r\n", 501),
    "te-vertical-tab": (_POST + b"Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n", 400),
    "te-obs-fold": (_POST + b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400),
    "te-leading-space-name": (_POST + b" Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    "te-in-http10": (b"POST / HTTP/1.0\r\n" + _TE + b"\r\n0\r\n\r\n", 400),
    "te-empty": (_POST + b"Transfer-Encoding: \r\n\r\n", 400),
    # llhttp does not see "chunked" followed by a tab as chunked: the head ends, then 400
    "te-chunked-then-tab": (_POST + b"Transfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n", 400),
    # chunk framing
    "chunk-0x-prefix": (_POST + _TE + b"\r\n0x5\r\nhello\r\n0\r\n\r\n", 400),
    "chunk-size-space": (_POST + _TE + b"\r\n5 \r\nhello\r\n0\r\n\r\n", 400),
    "chunk-size-negative": (_POST + _TE + b"\r\n-5\r\nhello\r\n0\r\n\r\n", 400),
    "chunk-size-overflow": (_POST + _TE + b"\r\n10000000000000000\r\n", 400),
    "chunk-size-missing": (_POST + _TE + b"\r\n\r\nhello\r\n0\r\n\r\n", 400),
    "chunk-data-too-long": (_POST + _TE + b"\r\n2\r\nabc\r\n0\r\n\r\n", 400),
    "chunk-bare-lf": (_POST + _TE + b"\r\n2\nab\r\n0\r\n\r\n", 400),
    "chunk-extension-space": (_POST + _TE + b"\r\n2 ;a\r\nab\r\n0\r\n\r\n", 400),
    "chunk-extension-bad-quote": (_POST + _TE + b"\r\n2;a=\"b\r\nab\r\n0\r\n\r\n", 400),
    "trailer-content-length": (_POST + _TE + b"\r\n0\r\nContent-Length: 5\r\n\r\n", 400),
    # field syntax
    "space-before-colon": (b"GET / HTTP/1.1\r\n" + HOST + b"X-Name : v\r\n\r\n", 400),
    "obs-fold": (b"GET / HTTP/1.1\r\n" + HOST + b"X-Long: a\r\n\tb\r\n\r\n", 400),
    "bare-cr-in-value": (b"GET / HTTP/1.1\r\n" + HOST + b"X: a\rb\r\n\r\n", 400),
    "bare-lf-line-end": (b"GET / HTTP/1.1\r\n" + HOST + b"X: a\n\r\n", 400),
    "bare-lf-request-line": (b"GET / HTTP/1.1\n" + HOST + b"\r\n", 400),
    "bare-lf-head-end": (b"GET / HTTP/1.1\r\n" + HOST + b"\n", 400),
    "nul-in-value": (b"GET / HTTP/1.1\r\n" + HOST + b"X: a\x00b\r\n\r\n", 400),
    "ctl-in-value": (b"GET / HTTP/1.1\r\n" + HOST + b"X: a\x1bb\r\n\r\n", 400),
    "del-in-value": (b"GET / HTTP/1.1\r\n" + HOST + b"X: a\x7f\r\n\r\n", 400),
    "nul-in-name": (b"GET / HTTP/1.1\r\n" + HOST + b"X\x00Y: a\r\n\r\n", 400),
    "empty-name": (b"GET / HTTP/1.1\r\n" + HOST + b": a\r\n\r\n", 400),
    "name-with-slash": (b"GET / HTTP/1.1\r\n" + HOST + b"X/Y: a\r\n\r\n", 400),
    "no-colon": (b"GET / HTTP/1.1\r\n" + HOST + b"NoColon\r\n\r\n", 400),
    "space-after-request-line": (b"GET / HTTP/1.1\r\n " + HOST + b"\r\n", 400),
    # request line
    "method-lowercase": (b"get / HTTP/1.1\r\n" + HOST + b"\r\n", 501),
    "method-unknown": (b"BREW /pot HTTP/1.1\r\n" + HOST + b"\r\n", 501),
    "method-rtsp": (b"DESCRIBE / HTTP/1.1\r\n" + HOST + b"\r\n", 501),
    "method-h2-preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 501),
    "method-bad-byte": (b"GE\x01T / HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "method-tab": (b"GET\t/ HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "method-leading-space": (b" GET / HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "target-space": (b"GET /a b HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "target-nul": (b"GET /a\x00 HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "target-tab": (b"GET /a\tb HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "target-non-ascii": (b"GET /caf\xe9 HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "target-relative": (b"GET a/b HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "connect-fragment": (b"CONNECT example.org:443#x HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "target-double-at": (b"GET http://a@@c/ HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "http09": (b"GET /\r\n\r\n", 400),
    "version-missing-minor": (b"GET / HTTP/1\r\n" + HOST + b"\r\n", 400),
    "version-lowercase": (b"GET / http/1.1\r\n" + HOST + b"\r\n", 400),
    "version-rtsp": (b"GET / RTSP/1.0\r\n\r\n", 400),
    "version-trailing-space": (b"GET / HTTP/1.1 \r\n" + HOST + b"\r\n", 400),
    "version-1.2": (b"GET / HTTP/1.2\r\n" + HOST + b"\r\n", 505),
    "version-2.0": (b"GET / HTTP/2.0\r\n" + HOST + b"\r\n", 505),
    "version-0.9": (b"GET / HTTP/0.9\r\n\r\n", 505),
    "version-3.0": (b"GET / HTTP/3.0\r\n" + HOST + b"\r\n", 505),
    # Host (RFC 9112 section 3.2)
    "host-missing": (b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),
    "host-twice": (b"GET / HTTP/1.1\r\n" + HOST + b"host: evil.example\r\n\r\n", 400),
    "host-twice-http10": (b"GET / HTTP/1.0\r\n" + HOST + HOST + b"\r\n", 400),
    # after "Connection: close" nothing may follow
    "data-after-close": (b"GET / HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\nGET / HTTP/1.1\r\n", 400),
    # limits (default sizes)
    "url-too-long": (b"GET /" + b"a" * 8192 + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414),
    "head-too-large": (b"GET / HTTP/1.1\r\n" + HOST + b"X-Big: " + b"b" * 65536 + b"\r\n\r\n", 431),
    "too-many-headers": (b"GET / HTTP/1.1\r\n" + HOST + b"".join(b"X-%d: v\r\n" % i for i in range(100))
                         + b"\r\n", 431),
}

# name -> (bytes, parser keyword arguments, status): the limits, set small.
LIMITS = {
    "body-over-limit": (_POST + b"Content-Length: 11\r\n\r\nhello world", {"max_body_size": 10}, 413),
    "chunked-over-limit": (_POST + _TE + b"\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n",
                           {"max_body_size": 10}, 413),
    "url-over-limit": (b"GET /12345678 HTTP/1.1\r\n" + HOST + b"\r\n", {"max_url_size": 8}, 414),
    "url-over-limit-then-garbage": (b"GET /12345678\x00 HTTP/1.1\r\n", {"max_url_size": 8}, 414),
    # llhttp takes a second "@" in a row, or the byte ending a bare scheme, before refusing it
    "url-double-at-over-limit": (b"GET http://a@@b HTTP/1.1\r\n", {"max_url_size": 9}, 414),
    "url-scheme-cut-over-limit": (b"GET close\r\n" + HOST + b"\r\n", {"max_url_size": 5}, 414),
    "head-over-limit": (b"GET / HTTP/1.1\r\n" + HOST + b"\r\n", {"max_header_size": 20}, 431),
    "fields-over-limit": (b"GET / HTTP/1.1\r\n" + HOST + b"A: 1\r\nB: 2\r\n\r\n", {"max_headers": 2}, 431),
    "trailers-over-limit": (_POST + _TE + b"\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", {"max_headers": 2}, 431),
}

# name -> (bytes, parser keyword arguments, events): exactly at the limits.
AT_LIMITS = {
    "body-at-limit": (_POST + b"Content-Length: 10\r\n\r\n0123456789", {"max_body_size": 10},
                      [head("POST", headers=[("Host", "example.org"), ("Content-Length", "10")],
                            content_length=10), b"0123456789", END]),
    "url-at-limit": (b"GET /1234567 HTTP/1.1\r\n" + HOST + b"\r\n", {"max_url_size": 8},
                     [head(target="/1234567"), END]),
    "head-at-limit": (b"GET / HTTP/1.1\r\n" + HOST + b"\r\n", {"max_header_size": 37}, [head(), END]),
}
