"""``outside.http.sse``: events formatted as the HTML Living Standard's parser reads them.

The reference parser below follows the standard's "interpret the event stream" steps
(split on CRLF, LF or CR; fields; ``data`` lines joined with LF; a blank line
dispatches), so a formatted event must come back as what was sent.
"""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outside.http.sse import HEARTBEAT, format_comment, format_event


def parse_stream(raw: bytes):
    """The events a browser dispatches for ``raw``: dicts of type, data, id, retry."""
    events, data, event_type, last_id, retry = [], [], "", None, None
    for line in re.split(r"\r\n|\r|\n", raw.decode("utf-8")):
        if line == "":
            if data:
                events.append({"type": event_type or "message", "data": "\n".join(data),
                               "id": last_id, "retry": retry})
            data, event_type = [], ""
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            event_type = value
        elif name == "id" and "\0" not in value:
            last_id = value
        elif name == "retry" and value.isdigit():
            retry = int(value)
    return events


def test_one_event_with_every_field():
    raw = format_event("hello", event="greeting", id="1", retry=3000)
    assert raw == b"event: greeting\nid: 1\nretry: 3000\ndata: hello\n\n"


@pytest.mark.parametrize("data, lines", [
    ("a\nb", ["a", "b"]),
    ("a\r\nb", ["a", "b"]),
    ("a\rb", ["a", "b"]),
    ("a\n\nb", ["a", "", "b"]),
    ("trailing\n", ["trailing", ""]),
    ("", [""]),
])
def test_every_line_break_starts_a_data_line(data, lines):
    raw = format_event(data)
    assert raw == "".join(f"data: {line}\n" for line in lines).encode() + b"\n"
    assert b"\r" not in raw


def test_bytes_data_is_utf8():
    assert format_event("é".encode()) == "data: é\n\n".encode()


def test_an_event_without_data_only_sets_fields():
    assert format_event(id="9") == b"id: 9\n\n"
    assert format_event(retry=0) == b"retry: 0\n\n"


@pytest.mark.parametrize("kwargs", [
    {"data": "x", "event": "a\nb"}, {"data": "x", "event": "a\rb"}, {"data": "x", "id": "1\n2"},
    {"data": "x", "id": "1\0"}, {"data": "x", "retry": -1}, {"data": "x", "retry": 1.5},
    {"data": "x", "retry": "10"}, {"data": "x", "retry": True}, {},
])
def test_invalid_fields_are_refused(kwargs):
    with pytest.raises(ValueError):
        format_event(**kwargs)


def test_comments():
    assert HEARTBEAT == b": \n\n"
    assert format_comment("a\nb") == b": a\n: b\n\n"
    assert parse_stream(format_comment("x") + format_event("y")) == [
        {"type": "message", "data": "y", "id": None, "retry": None}]


single_line = st.text(st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)))


@given(data=st.text(st.characters(blacklist_categories=("Cs",))), event=single_line,
       id=single_line, retry=st.integers(0, 10 ** 9))
def test_what_a_browser_reads_back_is_what_was_sent(data, event, id, retry):
    raw = format_event(data, event=event or None, id=id, retry=retry)
    expected = re.sub(r"\r\n|\r", "\n", data)
    assert parse_stream(raw) == [{"type": event or "message", "data": expected, "id": id,
                                  "retry": retry}]


@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",))), min_size=1, max_size=5),
       st.randoms())
def test_a_stream_of_events_in_random_splits(datas, rng):
    raw = b"".join(format_event(data, id=str(index)) for index, data in enumerate(datas))
    cuts = sorted(rng.sample(range(len(raw) + 1), min(3, len(raw) + 1)))
    pieces = [raw[a:b] for a, b in zip([0] + cuts, cuts + [len(raw)])]
    assert b"".join(pieces) == raw  # the formatter's output is a plain concatenation
    assert [event["data"] for event in parse_stream(raw)] == [
        re.sub(r"\r\n|\r", "\n", data) for data in datas]
