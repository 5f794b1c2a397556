"""Feeding a parser in pieces and comparing what comes out."""
from __future__ import annotations

import random
from typing import Iterable, List, Optional, Sequence, Tuple

from outside.http.errors import HttpParserError

# (events with adjacent body pieces joined, error class or None, upgraded, upgrade data)
Outcome = Tuple[list, Optional[type], bool, bytes]


def join_body_pieces(events: Iterable) -> list:
    """Events with consecutive body pieces joined: splitting changes only the pieces."""
    joined: list = []
    for event in events:
        if isinstance(event, bytes):
            if not event:
                continue
            if joined and isinstance(joined[-1], bytes):
                joined[-1] += event
                continue
        joined.append(event)
    return joined


def run(parser_class, pieces: Sequence[bytes], eof: bool = True, **limits) -> Outcome:
    """Feed ``pieces`` one by one (then end of input); what the parser made of them."""
    parser = parser_class(**limits)
    events: list = []
    try:
        for piece in pieces:
            events.extend(parser.feed(piece))
        if eof:
            parser.feed_eof()
    except HttpParserError as error:
        events.extend(error.events)
        with_error: Optional[type] = type(error)
        again = _error_again(parser)
        assert again is with_error, "a dead parser must raise the same error again"
    else:
        with_error = None
    return join_body_pieces(events), with_error, parser.upgraded, parser.take_upgrade_data()


def _error_again(parser) -> Optional[type]:
    try:
        parser.feed(b"GET / HTTP/1.1\r\n")
    except HttpParserError as error:
        assert error.events == []
        return type(error)
    return None


def whole(data: bytes) -> List[bytes]:
    return [data]


def byte_by_byte(data: bytes) -> List[bytes]:
    return [data[i:i + 1] for i in range(len(data))]


def random_splits(data: bytes, rng: random.Random, most: int = 6) -> List[bytes]:
    """``data`` cut at up to ``most`` random places."""
    if len(data) < 2:
        return [data]
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, most))))
    return [data[start:end] for start, end in zip([0] + cuts, cuts + [len(data)])]
