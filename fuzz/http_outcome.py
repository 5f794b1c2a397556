"""Run a request parser over chunks and reduce what happened to a comparable outcome.

An outcome is everything the contract in ``outside/http/parser.py`` promises: the
events (body pieces merged, since how a body is cut into pieces is not part of the
contract), the error class and status if any, and the bytes left after an upgrade.
Two runs agree when their outcomes are equal.
"""
from __future__ import annotations

from typing import Any, List, NamedTuple, Optional, Tuple

from outside.http.errors import ERRORS_BY_STATUS, HttpParserError
from outside.http.events import MessageEnd, RequestHead

from .harness import chunkings

# The first input byte picks one value per limit (two bits each); 0 keeps the defaults.
HEADER_SIZES = (65536, 64, 256, 1024)
HEADER_COUNTS = (100, 1, 3, 10)
URL_SIZES = (8192, 8, 32, 256)
BODY_SIZES = (None, 0, 16, 1024)


class Outcome(NamedTuple):
    """What one parser made of one input."""

    events: Tuple[Any, ...]
    error: Optional[Tuple[str, int]]  # (class name, status)
    upgrade_data: Optional[bytes]     # None unless the parser upgraded


class ContractViolation(AssertionError):
    """The parser broke its contract on this input."""


def limits_from(selector: int) -> dict:
    """The parser's keyword limits chosen by one selector byte."""
    return {
        "max_header_size": HEADER_SIZES[selector & 3],
        "max_headers": HEADER_COUNTS[selector >> 2 & 3],
        "max_url_size": URL_SIZES[selector >> 4 & 3],
        "max_body_size": BODY_SIZES[selector >> 6 & 3],
    }


def split_input(data: bytes) -> Tuple[dict, bytes]:
    """An input is one limits selector byte followed by the bytes a client sends."""
    return limits_from(data[0] if data else 0), data[1:]


def parse(parser_class: type, limits: dict, chunks: List[bytes]) -> Outcome:
    """Feed ``chunks`` in order, then end of input, and record the outcome."""
    parser = parser_class(**limits)
    events: List[Any] = []
    error = None
    upgrade_data = None
    try:
        for index, chunk in enumerate(chunks):
            events.extend(parser.feed(chunk))
            if parser.upgraded:
                # Past an upgrade the bytes belong to the new protocol, untouched.
                upgrade_data = parser.take_upgrade_data() + b"".join(chunks[index + 1:])
                break
        else:
            parser.feed_eof()
    except HttpParserError as exc:
        events.extend(exc.events)
        error = exc
        _check_sticky(parser, exc)
    return Outcome(_normalize(events, error is not None),
                   None if error is None else (type(error).__name__, error.status),
                   upgrade_data)


def _check_sticky(parser: Any, error: HttpParserError) -> None:
    """After an error the parser is dead: a later feed raises the same error class."""
    try:
        parser.feed(b"GET / HTTP/1.1\r\n\r\n")
    except HttpParserError as again:
        if type(again) is not type(error):
            raise ContractViolation(f"error changed after death: {error!r} then {again!r}") from again
        return
    raise ContractViolation(f"parser accepted data after {error!r}")


def _normalize(events: List[Any], failed: bool) -> Tuple[Any, ...]:
    """Merge adjacent body pieces; drop the partial body of a request that failed.

    How much of a failing request's body is handed out before a limit trips depends on
    where the input was cut, so only the body of completed requests is compared.
    """
    merged: List[Any] = []
    for event in events:
        if isinstance(event, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += event
        else:
            merged.append(event)
    if failed and merged and isinstance(merged[-1], bytes):
        merged.pop()
    return tuple(merged)


def check_outcome(outcome: Outcome) -> None:
    """The invariants any single outcome must hold, whatever the input."""
    if outcome.error is not None:
        name, status = outcome.error
        expected = ERRORS_BY_STATUS.get(status)
        if expected is None or expected.__name__ != name:
            raise ContractViolation(f"{name} with status {status} is not a contract error")
    state = "idle"  # idle -> head -> idle, body pieces only inside a request
    body = 0
    head: Optional[RequestHead] = None
    for event in outcome.events:
        if isinstance(event, RequestHead):
            _check_head(event)
            if state != "idle":
                raise ContractViolation(f"head inside a request: {event!r}")
            state, head, body = "head", event, 0
        elif isinstance(event, bytes):
            if state != "head":
                raise ContractViolation("body bytes outside a request")
            body += len(event)
        elif isinstance(event, MessageEnd):
            if state != "head":
                raise ContractViolation("message end without a head")
            assert head is not None
            if not head.chunked and (head.content_length or 0) != body:
                raise ContractViolation(f"{body} body bytes for {head!r}")
            state = "idle"
        else:
            raise ContractViolation(f"unknown event {event!r}")
    if state != "idle" and outcome.error is None:
        raise ContractViolation("input ended inside a request without an error")


def _check_head(head: RequestHead) -> None:
    if not all(isinstance(value, str) for value in (head.method, head.target, head.version)):
        raise ContractViolation(f"request line fields are not str: {head!r}")
    if head.version not in ("HTTP/1.0", "HTTP/1.1"):
        raise ContractViolation(f"version {head.version!r} accepted")
    if not all(isinstance(name, str) and isinstance(value, str) for name, value in head.headers):
        raise ContractViolation(f"header fields are not str pairs: {head!r}")
    if head.chunked and head.content_length is not None:
        raise ContractViolation(f"chunked with a content length: {head!r}")


def self_consistency_check(parser_class: type):
    """The one-input oracle for one twin: sane outcome, the same however the input is cut."""
    def check(data: bytes) -> None:
        limits, stream = split_input(data)
        whole = parse(parser_class, limits, [stream])
        check_outcome(whole)
        for chunks in chunkings(stream):
            split = parse(parser_class, limits, chunks)
            if split != whole:
                raise ContractViolation(f"fed whole: {whole}\nfed as {chunks!r}: {split}")
    return check
