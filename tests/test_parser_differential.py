"""Differential tests: the pure and the compiled parser must agree on every input.

Random and mutated requests (bytes inserted, deleted, replaced; corpus entries spliced)
are fed to both twins, whole and at random splits, with default and with small limits;
the events, the exception class, the upgrade state and the left-over bytes must match.
CI tries 300 examples per test; search longer with, for instance,
``OUTSIDE_PARSER_EXAMPLES=20000 pytest --timeout=0 tests/test_parser_differential.py``.
"""
from __future__ import annotations

import os
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers_parser import random_splits, run
from parser_corpus import INVALID, VALID

SEEDS = [data for data, _, _ in VALID.values()] + [data for data, _ in INVALID.values() if len(data) < 2000]
# Bytes that sit on the grammar's edges: separators, line ends, controls, non-ASCII.
EDGE_BYTES = b"\x00\t\n\r\x0b ,;:=\"\\@/?#*-0aAHx\x7f\x80\xff"
EXAMPLES = settings(max_examples=int(os.environ.get("OUTSIDE_PARSER_EXAMPLES", "300")), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
SMALL_LIMITS = {"max_header_size": 60, "max_headers": 3, "max_url_size": 12, "max_body_size": 5}

edits = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1 << 16), st.integers(0, 255),
                           st.booleans(), st.integers(0, len(SEEDS) - 1)), min_size=1, max_size=4)


def mutate(data: bytes, operations) -> bytes:
    data = bytearray(data)
    for operation, where, byte, edge, other in operations:
        where %= len(data) + 1
        value = bytes([EDGE_BYTES[byte % len(EDGE_BYTES)] if edge else byte])
        if operation == 0:
            data[where:where] = value
        elif operation == 1:
            del data[where:where + 1 + byte % 3]
        elif operation == 2:
            data[where:where + 1] = value
        else:
            donor = SEEDS[other]
            data[where:] = donor[byte * len(donor) // 256:]
    return bytes(data)


def assert_twins_agree(twins, data: bytes, split_seed: int, limits: dict, eof: bool) -> None:
    pure, compiled = twins
    rng = random.Random(split_seed)
    reference = run(compiled, [data], eof, **limits)
    for pieces in ([data], random_splits(data, rng), random_splits(data, rng, 30)):
        assert run(pure, pieces, eof, **limits) == reference, pieces
        assert run(compiled, pieces, eof, **limits) == reference, pieces


@EXAMPLES
@given(seed=st.integers(0, len(SEEDS) - 1), operations=edits, split_seed=st.integers(),
       small=st.booleans(), eof=st.booleans())
def test_mutated_requests(twins, seed, operations, split_seed, small, eof):
    data = mutate(SEEDS[seed], operations)
    assert_twins_agree(twins, data, split_seed, SMALL_LIMITS if small else {}, eof)


@EXAMPLES
@given(data=st.binary(max_size=200), split_seed=st.integers())
def test_random_bytes(twins, data, split_seed):
    assert_twins_agree(twins, data, split_seed, {}, True)


request_line = st.tuples(
    st.sampled_from([b"GET", b"POST", b"CONNECT", b"OPTIONS", b"PRI", b"get", b"M-SEARCH"]),
    st.sampled_from([b"/", b"/a?b#c", b"*", b"http://h:1/p", b"h:443", b"a@b", b"/\xff"]),
    st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.1 ", b"HTTP/1.9"]))
field = st.tuples(
    st.sampled_from([b"Host", b"Content-Length", b"Transfer-Encoding", b"Connection", b"Upgrade",
                     b"Expect", b"X-A", b"proxy-connection", b"Bad Name"]),
    st.sampled_from([b"a", b"5", b" 05 ", b"chunked", b"gzip, chunked", b"chunked\t", b"close",
                     b"upgrade", b"keep-alive, Upgrade", b"100-continue", b"", b"1, 2", b"x\x00"]))
body = st.sampled_from([b"", b"hello", b"5\r\nhello\r\n0\r\n\r\n", b"0\r\nT: 1\r\n\r\n",
                        b"3;e=\"q\"\r\nabc\r\n0\r\n\r\n", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"])


@EXAMPLES
@given(line=request_line, fields=st.lists(field, max_size=6), body=body, split_seed=st.integers(),
       small=st.booleans())
def test_generated_requests(twins, line, fields, body, split_seed, small):
    data = b" ".join(line) + b"\r\n" + b"".join(name + b": " + value + b"\r\n" for name, value in fields)
    data += b"\r\n" + body
    assert_twins_agree(twins, data, split_seed, SMALL_LIMITS if small else {}, True)
