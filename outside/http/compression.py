"""Content codings (RFC 9110 section 8.4 and 12.5.3): negotiation and compressors, bytes only.

``choose_encoding`` reads an ``Accept-Encoding`` field with its q-values; ``StreamCompressor``
compresses a body piece by piece, each piece flushed so the client can decode it at once
(``Z_SYNC_FLUSH`` for gzip, a flush for brotli). gzip comes from the standard library's
``zlib``; brotli is offered only when the ``brotli`` package is installed.
"""
from __future__ import annotations

import importlib
import zlib
from typing import Any, Dict, Optional, Sequence, Tuple

MIN_SIZE = 1024  # bodies below this gain too little to be worth the CPU
GZIP = "gzip"
BROTLI = "br"
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # 16+: a gzip wrapper (header and CRC) instead of zlib's
_COMPRESSIBLE_TYPES = frozenset((
    "application/json", "application/javascript", "application/x-javascript",
    "application/ecmascript", "application/xml", "image/svg+xml", "application/xhtml+xml",
    "application/manifest+json",
))


def _load_brotli() -> Any:
    try:
        return importlib.import_module("brotli")
    except ImportError:
        return None


brotli: Any = _load_brotli()
AVAILABLE: Tuple[str, ...] = (BROTLI, GZIP) if brotli is not None else (GZIP,)  # our preference


def parse_accept_encoding(field: str) -> Dict[str, float]:
    """``{coding: q}`` from an ``Accept-Encoding`` value, codings in lower case.

    Elements with a malformed q (not 0-1 with at most three decimals) are ignored, as
    RFC 9110 section 12.4.2 allows; a coding listed twice keeps its first q.
    """
    codings: Dict[str, float] = {}
    for element in field.split(","):
        name, _, parameters = element.partition(";")
        coding = name.strip().lower()
        if not coding:
            continue
        quality: Optional[float] = 1.0
        for parameter in parameters.split(";"):
            key, equals, value = parameter.partition("=")
            if equals and key.strip().lower() == "q":
                quality = _quality(value.strip())
        if quality is not None and coding not in codings:
            codings[coding] = quality
    if "x-gzip" in codings and GZIP not in codings:  # the old alias (RFC 9110 section 8.4.1.3)
        codings[GZIP] = codings["x-gzip"]
    return codings


def _quality(text: str) -> Optional[float]:
    if not text or len(text) > 5 or text[0] not in "01" or (len(text) > 1 and text[1] != "."):
        return None
    if not all(character.isdigit() for character in text[2:]):
        return None
    value = float(text)
    return value if value <= 1.0 else None


def choose_encoding(field: Optional[str], available: Sequence[str] = AVAILABLE) -> Optional[str]:
    """The coding of ``available`` to send for the ``Accept-Encoding`` value ``field``, or
    ``None`` for the body as it is (identity).

    No field: identity (any coding would be allowed, but a client that says nothing may
    not decode). The highest q wins, ``*`` standing for codings not listed; q=0 refuses;
    ties go to the order of ``available``. Identity wins when the client lists it with a
    higher q (``gzip;q=0.5, identity``); a coding that ties with it is sent.
    """
    if not field:
        return None
    codings = parse_accept_encoding(field)
    wildcard = codings.get("*")
    best: Optional[str] = None
    best_quality = 0.0
    for coding in available:
        quality = codings.get(coding, wildcard if wildcard is not None else 0.0)
        if quality > best_quality:
            best, best_quality = coding, quality
    if best is None:
        return None
    identity = codings.get("identity")  # unlisted, it is the fallback, not a rival
    return best if identity is None or best_quality >= identity else None


def is_compressible(content_type: Optional[str]) -> bool:
    """Whether a body of this media type is worth compressing: text, JSON, JavaScript,
    XML, SVG and the ``+json``/``+xml`` types (not images, audio, archives...)."""
    if not content_type:
        return False
    media = content_type.partition(";")[0].strip().lower()
    return (media.startswith("text/") or media in _COMPRESSIBLE_TYPES
            or media.endswith(("+json", "+xml")))


def suffixed_etag(etag: str, encoding: str) -> str:
    """The entity tag of the ``encoding``-coded body: ``"abc"`` -> ``"abc-gzip"`` (a
    different representation must not share the identity body's tag)."""
    value = etag.strip()
    if value.endswith('"') and len(value) >= 2:
        return f'{value[:-1]}-{encoding}"'
    return value


def compress(data: bytes, encoding: str) -> bytes:
    """``data`` compressed whole with ``encoding`` (``gzip`` or ``br``)."""
    if encoding == BROTLI:
        return bytes(brotli.compress(data))
    compressor = zlib.compressobj(6, zlib.DEFLATED, _GZIP_WBITS)
    return compressor.compress(data) + compressor.flush()


class StreamCompressor:
    """Compresses a body piece by piece; each ``compress`` result decodes on its own
    (flushed), ``finish`` gives the end of the stream.

    ``small=True`` trades ratio for memory (for many long-lived streams): gzip with a
    1 KiB window and ``memLevel`` 3 holds about 8 KiB instead of about 256 KiB.
    """

    __slots__ = ("encoding", "_zlib", "_brotli")

    def __init__(self, encoding: str, small: bool = False) -> None:
        self.encoding = encoding
        self._zlib: Any = None
        self._brotli: Any = None
        if encoding == BROTLI:
            self._brotli = brotli.Compressor(lgwin=16) if small else brotli.Compressor(quality=5)
        elif encoding == GZIP:
            if small:
                self._zlib = zlib.compressobj(6, zlib.DEFLATED, 16 + 10, 3)
            else:
                self._zlib = zlib.compressobj(6, zlib.DEFLATED, _GZIP_WBITS)
        else:
            raise ValueError(f"unsupported content coding {encoding!r}")

    def compress(self, data: bytes) -> bytes:
        """``data`` compressed and flushed (empty ``data`` gives ``b""``)."""
        if not data:
            return b""
        if self._zlib is not None:
            return bytes(self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH))
        return bytes(self._brotli.process(data) + self._brotli.flush())

    def finish(self) -> bytes:
        """The bytes that end the compressed stream (gzip's trailer...)."""
        if self._zlib is not None:
            return bytes(self._zlib.flush(zlib.Z_FINISH))
        return bytes(self._brotli.finish())
