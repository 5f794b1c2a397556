"""Sans-I/O HTTP/1.1, no sockets here.

- ``parser``: request parsing (``RequestParser``), its ``events`` and ``errors``;
- ``writer``: response heads and body framing (``write_head``, ``frame_body``, ``ResponseError``);
- ``headers``, ``cookies``, ``status``, ``dates``: fields, cookies, reason phrases, HTTP-dates;
- ``conditional``: preconditions and byte ranges (RFC 9110 sections 13 and 14).
"""
