"""Submitted forms: ``request.form`` and ``request.files``, filled from the body.

``parse_form`` reads an ``application/x-www-form-urlencoded`` or ``multipart/form-data``
body from a stream of pieces, so a large upload never sits in memory as a whole: a file
part grows in memory up to ``max_form_memory_size`` bytes, then moves to a temporary
file. What is wrong with a body is raised as an ``HttpParserError`` subclass (400 for a
malformed body, 413 for a limit), which the app answers with that status.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from typing import (
    IO,
    Any,
    BinaryIO,
    Callable,
    Dict,
    List,
    Optional,
    Tuple,
    Union,
)
from urllib.parse import parse_qsl

from .headers import Headers
from .http.errors import BadRequest, PayloadTooLarge
from .http.multipart import (
    MultipartError,
    MultipartParser,
    PartHead,
    boundary_from_content_type,
)

__all__ = ["FormLimits", "MissingField", "MultiDict", "MultipartError", "UploadedFile", "parse_form",
           "secure_filename"]

_URLENCODED = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"


class MissingField(KeyError, BadRequest):
    """``form[name]`` for a field that was not sent: a ``KeyError`` that answers 400
    when a handler lets it through (as Flask's ``request.form[name]`` does)."""

    def __init__(self, name: str) -> None:
        BadRequest.__init__(self, f"the form has no field {name!r}")
        self.args = (name,)

    def __str__(self) -> str:
        return self.reason


class MultiDict(Mapping):
    """A read-only mapping where each key may have several values, in the order sent.

    ``d[key]`` and ``d.get(key)`` give the first value, ``d.getlist(key)`` all of them;
    iteration, ``len``, ``in``, ``keys``/``values``/``items`` see each key once (with its
    first value); ``items(multi=True)`` gives every pair; ``lists()`` key -> all values;
    ``to_dict()`` a plain dict (``flat=False``: of lists). ``d[key]`` for a missing key
    raises ``MissingField`` (a ``KeyError`` the app answers with 400).
    """

    __slots__ = ("_lists",)

    def __init__(self, pairs: Iterable[Tuple[str, Any]] = ()) -> None:
        lists: Dict[str, List[Any]] = {}
        for key, value in pairs:
            lists.setdefault(key, []).append(value)
        self._lists = lists

    def __getitem__(self, key: str) -> Any:
        values = self._lists.get(key)
        if not values:
            raise MissingField(key)
        return values[0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._lists)

    def __len__(self) -> int:
        return len(self._lists)

    def __contains__(self, key: object) -> bool:
        return key in self._lists

    def get(self, key: str, default: Any = None, type: Optional[Callable[[Any], Any]] = None) -> Any:
        """The first value of ``key`` (``default`` if none); with ``type``, converted by it
        (``default`` when it raises ``ValueError``/``TypeError``), as Werkzeug does."""
        values = self._lists.get(key)
        if not values:
            return default
        if type is None:
            return values[0]
        try:
            return type(values[0])
        except (ValueError, TypeError):
            return default

    def getlist(self, key: str, type: Optional[Callable[[Any], Any]] = None) -> List[Any]:
        """Every value of ``key`` in order (``[]`` if none); with ``type``, the converted
        ones (values it cannot convert are left out)."""
        values = self._lists.get(key, [])
        if type is None:
            return list(values)
        converted = []
        for value in values:
            try:
                converted.append(type(value))
            except (ValueError, TypeError):
                pass
        return converted

    def items(self, multi: bool = False) -> Any:
        """``(key, first value)`` per key; ``multi=True``: every ``(key, value)`` pair."""
        if multi:
            return [(key, value) for key, values in self._lists.items() for value in values]
        return super().items()

    def lists(self) -> List[Tuple[str, List[Any]]]:
        """``(key, [values...])`` per key."""
        return [(key, list(values)) for key, values in self._lists.items()]

    def to_dict(self, flat: bool = True) -> Dict[str, Any]:
        """A plain dict: key -> first value (``flat=False``: key -> list of values)."""
        if flat:
            return {key: values[0] for key, values in self._lists.items()}
        return {key: list(values) for key, values in self._lists.items()}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return self._lists == other._lists
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.items(multi=True)!r})"


class UploadedFile:
    """One file of a ``multipart/form-data`` submission.

    ``name``: its form field. ``filename``: the name as the client sent it (never trust it
    as a path: see ``secure_filename``). ``content_type``: its ``Content-Type``
    (``"text/plain"`` when the client sent none, per RFC 7578). ``headers``: the part's
    headers. ``size``: its length in bytes. ``stream``: a binary file object at position
    0 (in memory, or a temporary file for a file over ``max_form_memory_size``).

    The temporary file is removed when the request ends (``close()``); ``save`` it to keep it.
    """

    __slots__ = ("content_type", "filename", "headers", "name", "size", "stream")

    def __init__(self, name: str, filename: str, content_type: str, headers: Headers,
                 stream: BinaryIO, size: int) -> None:
        self.name = name
        self.filename = filename
        self.content_type = content_type
        self.headers = headers
        self.stream = stream
        self.size = size

    @property
    def mimetype(self) -> str:
        """``content_type`` without its parameters, lowercased (``"image/png"``)."""
        return self.content_type.partition(";")[0].strip().lower()

    def read(self, size: int = -1) -> bytes:
        """Read from ``stream`` (all that is left when ``size`` < 0)."""
        return self.stream.read(size)

    def save(self, destination: Union[str, os.PathLike, IO[bytes]], buffer_size: int = 64 * 1024) -> None:
        """Copy the whole file to ``destination`` (a path, or a binary file object),
        from its start, whatever was read before; ``stream`` is left at its end."""
        self.stream.seek(0)
        if isinstance(destination, (str, os.PathLike)):
            with open(destination, "wb") as target:
                shutil.copyfileobj(self.stream, target, buffer_size)
        else:
            shutil.copyfileobj(self.stream, destination, buffer_size)

    def close(self) -> None:
        """Release the file (a temporary file is deleted)."""
        self.stream.close()

    def __bool__(self) -> bool:
        return bool(self.filename)  # a file input left empty sends a part with filename=""

    def __repr__(self) -> str:
        return f"<UploadedFile {self.name!r}: {self.filename!r} ({self.content_type}, {self.size} bytes)>"


class FormLimits:
    """The limits ``parse_form`` enforces (the app's config keys of the same names).

    ``max_form_parts``: fields and files of a multipart body (413 beyond).
    ``max_form_memory_size``: bytes a text field (or a whole URL-encoded body) may have
    (413 beyond); also the size above which a file moves from memory to a temporary file.
    ``max_body_size``: bytes of body read (413 beyond), for bodies not already limited
    by the server.
    """

    __slots__ = ("max_body_size", "max_form_memory_size", "max_form_parts")

    def __init__(self, max_form_parts: int = 1000, max_form_memory_size: int = 500 * 1024,
                 max_body_size: Optional[int] = 250 * 1024 * 1024) -> None:
        self.max_form_parts = max_form_parts
        self.max_form_memory_size = max_form_memory_size
        self.max_body_size = max_body_size

    @classmethod
    def from_config(cls, config: Optional[Mapping]) -> FormLimits:
        """The limits of an app's ``config`` (the defaults for a key it lacks)."""
        limits = cls()
        if config:
            limits.max_form_parts = config.get("max_form_parts", limits.max_form_parts)
            limits.max_form_memory_size = config.get("max_form_memory_size", limits.max_form_memory_size)
            if "max_body_size_mb" in config:  # None or negative: no limit, as for the server
                body_mb = config["max_body_size_mb"]
                limits.max_body_size = None if body_mb is None or body_mb < 0 else int(body_mb * 1024 * 1024)
        return limits


def parse_form(content_type: str, pieces: Iterable[bytes],
               limits: Optional[FormLimits] = None) -> Tuple[MultiDict, MultiDict]:
    """``(form, files)`` of a body given as an iterable of byte pieces.

    A body that is not a form (another or no ``Content-Type``) gives two empty mappings
    and is not read. URL-encoded: ``+`` and ``%XX`` decoded as UTF-8 (invalid sequences
    become U+FFFD), blank values kept. Multipart: text fields decoded with their part's
    charset (UTF-8 by default), files as ``UploadedFile``. Raises ``MultipartError``
    (400) or ``PayloadTooLarge`` (413) with a reason; files made so far are closed then.
    """
    limits = limits or FormLimits()
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type == _URLENCODED:
        return _urlencoded(pieces, limits), MultiDict()
    if media_type == _MULTIPART:
        return _MultipartReader(boundary_from_content_type(content_type), limits).read(pieces)
    return MultiDict(), MultiDict()


def _urlencoded(pieces: Iterable[bytes], limits: FormLimits) -> MultiDict:
    body = bytearray()
    for piece in pieces:
        body += piece
        if len(body) > limits.max_form_memory_size:
            raise PayloadTooLarge(f"the form is larger than {limits.max_form_memory_size} bytes")
    return MultiDict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True,
                               encoding="utf-8", errors="replace"))


class _MultipartReader:
    """Drives a ``MultipartParser`` over the pieces and collects fields and files."""

    def __init__(self, boundary: bytes, limits: FormLimits) -> None:
        self.parser = MultipartParser(boundary)
        self.limits = limits
        self.fields: List[Tuple[str, str]] = []
        self.files: List[Tuple[str, UploadedFile]] = []
        self.parts = 0
        self.head: Optional[PartHead] = None
        self.data: Union[bytearray, BinaryIO] = bytearray()
        self.size = 0

    def read(self, pieces: Iterable[bytes]) -> Tuple[MultiDict, MultiDict]:
        try:
            received = 0
            body_limit = self.limits.max_body_size
            for piece in pieces:
                received += len(piece)
                if body_limit is not None and received > body_limit:
                    raise PayloadTooLarge(f"the body is larger than {body_limit} bytes")
                for event in self.parser.feed(piece):  # the epilogue is read (to keep the
                    self._take(event)                    # connection usable) and dropped
            self.parser.end()
        except BaseException:
            self._discard()
            raise
        return MultiDict(self.fields), MultiDict(self.files)

    def _take(self, event: Any) -> None:
        if type(event) is bytes:
            self.size += len(event)
            data = self.data
            if isinstance(data, bytearray):
                if self.size > self.limits.max_form_memory_size:
                    if self.head is None or self.head.filename is None:
                        raise PayloadTooLarge(f"a form field is larger than {self.limits.max_form_memory_size} bytes")
                    self.data = spilled = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the request
                    spilled.write(data)
                    spilled.write(event)
                else:
                    data += event
            else:
                data.write(event)
        elif isinstance(event, PartHead):
            self.parts += 1
            if self.parts > self.limits.max_form_parts:
                raise PayloadTooLarge(f"the form has more than {self.limits.max_form_parts} parts")
            self.head, self.data, self.size = event, bytearray(), 0
        else:  # PART_END
            self._finish_part()

    def _finish_part(self) -> None:
        head, data = self.head, self.data
        assert head is not None
        self.head, self.data = None, bytearray()
        if head.filename is None:
            text = bytes(data) if isinstance(data, bytearray) else b""
            self.fields.append((head.name, _decode_text(text, head.content_type)))
            return
        stream: BinaryIO = io.BytesIO(data) if isinstance(data, bytearray) else data
        stream.seek(0)
        self.files.append((head.name, UploadedFile(
            head.name, head.filename, head.content_type, Headers.from_pairs(head.headers),
            stream, self.size)))

    def _discard(self) -> None:
        if not isinstance(self.data, bytearray):
            self.data.close()
        for _, upload in self.files:
            upload.close()


_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.:-]+)", re.IGNORECASE)


def _decode_text(data: bytes, content_type: str) -> str:
    """A text field's value: in its part's charset when that is a text codec, else UTF-8."""
    match = _CHARSET.search(content_type)
    if match:
        try:
            return data.decode(match.group(1), "replace")
        except (LookupError, ValueError):  # unknown, not a text codec (base64), or odd (idna)
            pass
    return data.decode("utf-8", "replace")


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"COM{i}" for i in "123456789"] + [f"LPT{i}" for i in "123456789"])


def secure_filename(filename: str) -> str:
    """A version of a client's file name that is safe to use as one path component.

    Accents are folded to ASCII (``"café.txt"`` -> ``"cafe.txt"``); path separators
    (``/`` and ``\\``) and whitespace become ``_``; every other character outside
    ``A-Z a-z 0-9 _ . -`` is dropped; runs of dots collapse, so no ``..`` remains;
    leading dots, dashes and underscores, and trailing dots, are stripped (no hidden files,
    no option-like names); a Windows device name (``CON``, ``NUL.txt``, ``COM1``...) gets
    a leading ``_``. The result may be ``""`` (for ``"../.."`` or a name written only in
    non-Latin script): pick a name of your own then, e.g. a UUID. The result never
    contains ``/``, ``\\``, ``..`` or a NUL, and never starts with ``.``.
    """
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    for separator in ("/", "\\"):
        folded = folded.replace(separator, " ")
    name = _UNSAFE.sub("", "_".join(folded.split()))
    name = re.sub(r"\.{2,}", ".", name).lstrip("._-").rstrip(".")
    if name and name.split(".")[0].upper() in _WINDOWS_RESERVED:
        name = "_" + name
    return name

