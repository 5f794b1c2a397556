"""Conditional and range requests (RFC 9110 sections 13 and 14), evaluated without files."""
from __future__ import annotations

import pytest

from outside.http.conditional import (
    UNSATISFIABLE,
    answer_range,
    evaluate_preconditions,
    if_range_holds,
    parse_range,
    strong_match,
    weak_match,
)
from outside.http.headers import Headers

MTIME = 784111777  # Sun, 06 Nov 1994 08:49:37 GMT
MTIME_TEXT = "Sun, 06 Nov 1994 08:49:37 GMT"
LATER = MTIME + 3600


@pytest.mark.parametrize("field, size, expected", [
    ("bytes=0-9", 100, (0, 10)),
    ("bytes=10-10", 100, (10, 11)),
    ("bytes=90-1000", 100, (90, 100)),           # last past the end: clipped
    ("bytes=90-", 100, (90, 100)),               # open-ended
    ("bytes=-5", 100, (95, 100)),                # suffix
    ("bytes=-500", 100, (0, 100)),               # suffix longer than the file: all of it
    (" BYTES = 0-1", 100, (0, 2)),               # unit is case-insensitive
    ("bytes=0-99999999999999999999999", 100, (0, 100)),
    ("bytes=100-", 100, UNSATISFIABLE),          # first at the end
    ("bytes=100-200", 100, UNSATISFIABLE),
    ("bytes=-0", 100, UNSATISFIABLE),            # empty suffix
    ("bytes=0-", 0, UNSATISFIABLE),              # empty representation
    ("bytes=-5", 0, UNSATISFIABLE),
    ("bytes=5-2", 100, None),                    # last < first: invalid, whole file
    ("bytes=0-1,5-6", 100, None),                # several ranges: not served as multipart
    ("items=0-1", 100, None),
    ("bytes=abc", 100, None),
    ("bytes=1-x", 100, None),
    ("bytes=\uff11-2", 100, None),               # a full-width digit
    ("bytes 0-1", 100, None),
])
def test_parse_range(field, size, expected):
    assert parse_range(field, size) == expected


def test_answer_range_gives_the_206_and_416_data():
    partial = answer_range(Headers({"Range": "bytes=-5"}), 100, '"v1"', MTIME)
    assert (partial.status, partial.start, partial.end, partial.content_range) == (206, 95, 100, "bytes 95-99/100")
    unsatisfiable = answer_range(Headers({"range": "bytes=100-"}), 100, '"v1"', MTIME)
    assert (unsatisfiable.status, unsatisfiable.content_range) == (416, "bytes */100")
    whole = answer_range(Headers({}), 100, '"v1"', MTIME)
    assert (whole.status, whole.start, whole.end, whole.content_range) == (200, 0, 100, None)
    invalid = answer_range(Headers({"Range": "bytes=9-1"}), 100, '"v1"', MTIME)
    assert (invalid.status, invalid.start, invalid.end) == (200, 0, 100)


@pytest.mark.parametrize("if_range, etag, now, applies", [
    ('"v1"', '"v1"', LATER, True),           # strong tags, equal
    ('"v2"', '"v1"', LATER, False),
    ('W/"v1"', 'W/"v1"', LATER, False),      # weak tags never match strongly
    ('"v1"', 'W/"v1"', LATER, False),
    (MTIME_TEXT, 'W/"v1"', LATER, True),     # the date, and it is old enough to be strong
    (MTIME_TEXT, 'W/"v1"', MTIME, False),    # modified in the same second: weak
    ("Sun, 06 Nov 1994 08:49:38 GMT", 'W/"v1"', LATER, False),
    ("not a date", 'W/"v1"', LATER, False),
])
def test_if_range(if_range, etag, now, applies):
    assert if_range_holds(if_range, etag, MTIME, now) is applies
    answer = answer_range(Headers({"Range": "bytes=0-0", "If-Range": if_range}), 10, etag, MTIME, now)
    assert answer.status == (206 if applies else 200)


@pytest.mark.parametrize("left, right, strong, weak", [
    # The example table of RFC 9110 section 8.8.3.2.
    ('W/"1"', 'W/"1"', False, True),
    ('W/"1"', 'W/"2"', False, False),
    ('W/"1"', '"1"', False, True),
    ('"1"', '"1"', True, True),
])
def test_entity_tag_comparison(left, right, strong, weak):
    assert strong_match(left, right) is strong and strong_match(right, left) is strong
    assert weak_match(left, right) is weak and weak_match(right, left) is weak


@pytest.mark.parametrize("method, fields, etag, expected", [
    ("GET", {}, '"a"', None),
    ("GET", {"If-Match": '"a"'}, '"a"', None),                  # strong comparison passes
    ("GET", {"If-Match": 'W/"a"'}, 'W/"a"', 412),               # ...and fails for weak tags
    ("PUT", {"If-Match": '"b", "a"'}, '"a"', None),
    ("PUT", {"If-Match": '"b"'}, '"a"', 412),
    ("PUT", {"If-Match": "*"}, 'W/"a"', None),
    ("GET", {"If-None-Match": 'W/"a"'}, '"a"', 304),            # weak comparison
    ("HEAD", {"If-None-Match": '"x", W/"a"'}, 'W/"a"', 304),
    ("POST", {"If-None-Match": '"a"'}, '"a"', 412),
    ("GET", {"If-None-Match": "*"}, '"a"', 304),
    ("GET", {"If-None-Match": '"b"'}, '"a"', None),
    ("GET", {"If-Modified-Since": MTIME_TEXT}, '"a"', 304),
    ("GET", {"If-Modified-Since": "Sun, 06 Nov 1994 08:49:36 GMT"}, '"a"', None),
    ("POST", {"If-Modified-Since": MTIME_TEXT}, '"a"', None),   # only for GET and HEAD
    ("GET", {"If-Modified-Since": "garbage"}, '"a"', None),
    ("GET", {"If-None-Match": '"b"', "If-Modified-Since": MTIME_TEXT}, '"a"', None),  # If-None-Match wins
    ("PUT", {"If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:36 GMT"}, '"a"', 412),
    ("PUT", {"If-Unmodified-Since": MTIME_TEXT}, '"a"', None),
    ("PUT", {"If-Match": '"a"', "If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:36 GMT"}, '"a"', None),  # If-Match wins
    ("GET", {"if-match": '"a"', "if-none-match": '"a"'}, '"a"', 304),
])
def test_preconditions(method, fields, etag, expected):
    assert evaluate_preconditions(method, Headers(fields), etag, MTIME) == expected
