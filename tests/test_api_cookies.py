"""Cookies both ways: parsing ``Cookie``, writing ``Set-Cookie``."""
from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outside import ResponseCookie
from outside.cookies import parse_cookie


@pytest.mark.parametrize("header, expected", [
    ("a=1", {"a": "1"}),
    ("a=1; b=2", {"a": "1", "b": "2"}),
    ("  a = 1 ;b=2;  ", {"a": "1", "b": "2"}),
    ("a=1;;b=2", {"a": "1", "b": "2"}),
    ("a=", {"a": ""}),
    ("a=x=y", {"a": "x=y"}),
    ("a=1; a=2", {"a": "1"}),                  # first (most specific path) wins
    ("novalue; a=1", {"a": "1"}),              # a malformed pair does not stop the rest
    ("=x; a=1", {"a": "1"}),
    ('a="quoted value"', {"a": "quoted value"}),
    ('a="x\\"y\\\\z"', {"a": 'x"y\\z'}),
    ('a="\\073"', {"a": ";"}),
    ('a="', {"a": '"'}),
    ("sid=abc%20def", {"sid": "abc%20def"}),  # no percent-decoding, like browsers send
    ("", {}),
])
def test_parse(header, expected):
    assert parse_cookie(header) == expected


def test_parse_reads_what_simplecookie_writes():
    jar = SimpleCookie()
    jar["k"] = 'semi;colon "quote" back\\slash'
    header = jar.output(header="", attrs=[]).strip()
    assert parse_cookie(header) == {"k": 'semi;colon "quote" back\\slash'}


def test_minimal_cookie():
    assert ResponseCookie("v").header_value("name") == "name=v"


def test_every_attribute():
    cookie = ResponseCookie("v", max_age=3600, domain="example.com", http_only=True,
                            secure=True, path="/app", same_site="lax")
    assert cookie.header_value("id") == (
        "id=v; Max-Age=3600; Domain=example.com; HttpOnly; Secure; Path=/app; SameSite=Lax")


def test_max_age_zero_is_written():
    assert ResponseCookie("", max_age=0).header_value("gone") == "gone=; Max-Age=0"


@pytest.mark.parametrize("name, cookie", [
    ("bad name", ResponseCookie("v")),
    ("semi;", ResponseCookie("v")),
    ("", ResponseCookie("v")),
    ("a", ResponseCookie("v; Domain=evil.com")),
    ("a", ResponseCookie("v\r\nX-Evil: 1")),
    ("a", ResponseCookie("v", path="/\n")),
    ("a", ResponseCookie("v", domain="x; HttpOnly")),
    ("a", ResponseCookie("v", same_site="sometimes")),
])
def test_injection_refused(name, cookie):
    with pytest.raises(ValueError):
        cookie.header_value(name)


SIMPLECOOKIE_RESERVED = {"expires", "path", "comment", "domain", "max-age", "secure", "httponly",
                         "version", "samesite", "partitioned"}
cookie_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
                       min_size=1, max_size=10).filter(lambda name: name.lower() not in SIMPLECOOKIE_RESERVED)
cookie_values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(cookie_names, cookie_values, min_size=1, max_size=5))
def test_parse_round_trips_simplecookie_output(cookies):
    jar = SimpleCookie()
    for name, value in cookies.items():
        jar[name] = value
    header = "; ".join(morsel.OutputString() for morsel in jar.values())
    assert parse_cookie(header) == cookies
