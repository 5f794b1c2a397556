"""``outside.http.compression``: Accept-Encoding negotiation and the streaming compressors,
decoded with the standard library's ``gzip``/``zlib`` and the ``brotli`` package."""
from __future__ import annotations

import gzip
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outside.http import compression
from outside.http.compression import (
    StreamCompressor,
    choose_encoding,
    compress,
    is_compressible,
    parse_accept_encoding,
    suffixed_etag,
)

try:
    import brotli
except ImportError:
    brotli = None
needs_brotli = pytest.mark.skipif(brotli is None, reason="brotli is not installed")
BOTH = ("br", "gzip")


@pytest.mark.parametrize("field, expected", [
    (None, None), ("", None),
    ("gzip", "gzip"), ("GZIP", "gzip"), ("x-gzip", "gzip"),
    ("br", "br"), ("gzip, br", "br"),              # equal q: the server's preference
    ("gzip;q=1.0, br;q=0.5", "gzip"), ("br;q=0.4, gzip;q=0.5", "gzip"),
    ("gzip;q=0", None), ("gzip; q=0.000", None), ("br;q=0, gzip;q=0", None),
    ("*", "br"), ("*;q=0.1, br;q=0", "gzip"), ("*;q=0", None), ("gzip;q=0, *", "br"),
    ("identity", None), ("deflate", None), ("compress, deflate", None),
    ("gzip;q=0.5, identity", None),                # the client prefers the body as is
    ("gzip;q=0.5, identity;q=0.5", "gzip"),
    ("identity;q=0, gzip;q=0.1", "gzip"),
    ("gzip;q=2", None), ("gzip;q=abc", None), ("gzip;q=0.1234", None), ("gzip;q=", None),
    (" , ;, gzip ,", "gzip"),
    ("gzip;level=9", "gzip"),                      # unknown parameters are ignored
])
def test_choose_encoding(field, expected):
    assert choose_encoding(field, BOTH) == expected


def test_choose_among_what_is_available():
    assert choose_encoding("br, gzip;q=0.5", ("gzip",)) == "gzip"
    assert choose_encoding("br", ("gzip",)) is None


def test_parse_accept_encoding():
    assert parse_accept_encoding("gzip;q=0.8, br, *;q=0") == {"gzip": 0.8, "br": 1.0, "*": 0.0}
    assert parse_accept_encoding("gzip;q=0.3, gzip") == {"gzip": 0.3}


@pytest.mark.parametrize("content_type, expected", [
    ("text/html; charset=utf-8", True), ("text/plain", True), ("TEXT/CSS", True),
    ("application/json", True), ("application/javascript", True), ("image/svg+xml", True),
    ("application/xml", True), ("application/ld+json", True), ("application/atom+xml", True),
    ("text/event-stream", True),
    ("image/png", False), ("application/octet-stream", False), ("application/zip", False),
    ("video/mp4", False), ("", False), (None, False),
])
def test_is_compressible(content_type, expected):
    assert is_compressible(content_type) is expected


def test_suffixed_etag():
    assert suffixed_etag('"abc"', "gzip") == '"abc-gzip"'
    assert suffixed_etag('W/"abc"', "br") == 'W/"abc-br"'


TEXT = b"".join(b"line %d of some repetitive text\n" % n for n in range(2000))


def _decode(data, encoding):
    return gzip.decompress(data) if encoding == "gzip" else brotli.decompress(data)


@pytest.mark.parametrize("encoding", ["gzip", pytest.param("br", marks=needs_brotli)])
def test_compress_whole(encoding):
    coded = compress(TEXT, encoding)
    assert len(coded) < len(TEXT) // 5
    assert _decode(coded, encoding) == TEXT


@pytest.mark.parametrize("small", [False, True])
@given(pieces=st.lists(st.binary(max_size=3000), max_size=8))
def test_gzip_stream_each_piece_decodes_at_once(small, pieces):
    compressor = StreamCompressor("gzip", small=small)
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    for piece in pieces:
        # everything sent so far decodes before the stream ends (the flush)
        assert decoder.decompress(compressor.compress(piece)) == piece
    assert decoder.decompress(compressor.finish()) == b""
    assert decoder.eof


@needs_brotli
@pytest.mark.parametrize("small", [False, True])
def test_brotli_stream_each_piece_decodes_at_once(small):
    compressor = StreamCompressor("br", small=small)
    decoder = brotli.Decompressor()
    out = []
    for piece in (TEXT[:1000], b"", TEXT[1000:5000], b"tail"):
        out.append(compressor.compress(piece))
        assert decoder.process(out[-1]) == piece
    out.append(compressor.finish())
    assert brotli.decompress(b"".join(out)) == TEXT[:5000] + b"tail"


def test_unknown_coding_is_refused():
    with pytest.raises(ValueError):
        StreamCompressor("deflate")


def test_brotli_is_offered_only_when_installed():
    assert (("br", "gzip") if brotli is not None else ("gzip",)) == compression.AVAILABLE
