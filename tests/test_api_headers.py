"""The case-insensitive header dict and ``get_insensitive_header``."""
from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outside import get_insensitive_header
from outside.headers import Headers


def test_lookup_ignores_case_and_keeps_names():
    headers = Headers({"Content-Type": "text/html", "X-Id": "1"})
    assert headers["content-type"] == "text/html"
    assert headers["CONTENT-TYPE"] == "text/html"
    assert "x-id" in headers and "X-ID" in headers and "Missing" not in headers
    assert list(headers) == ["Content-Type", "X-Id"]
    assert dict(headers) == {"Content-Type": "text/html", "X-Id": "1"}
    assert isinstance(headers, dict)


def test_set_in_other_case_replaces_entry():
    headers = Headers({"Content-Type": "a"})
    headers["content-type"] = "b"
    assert dict(headers) == {"content-type": "b"}
    assert len(headers) == 1


def test_delete_pop_get_setdefault():
    headers = Headers(Host="h", Accept="x")
    del headers["HOST"]
    assert "host" not in headers
    with pytest.raises(KeyError):
        del headers["host"]
    with pytest.raises(KeyError):
        headers["host"]
    assert headers.get("ACCEPT") == "x" and headers.get("nope", 5) == 5
    assert headers.pop("accept") == "x" and headers.pop("accept", None) is None
    with pytest.raises(KeyError):
        headers.pop("accept")
    assert headers.setdefault("X-A", "1") == "1"
    assert headers.setdefault("x-a", "2") == "1"
    assert headers.popitem() == ("X-A", "1") and "x-a" not in headers


def test_update_copy_clear_and_non_string_keys():
    headers = Headers([("A", "1")])
    headers.update({"a": "2"}, B="3")
    assert dict(headers) == {"a": "2", "B": "3"}
    copy = headers.copy()
    assert isinstance(copy, Headers) and copy["A"] == "2"
    headers.clear()
    assert not headers and "a" not in headers and copy["b"] == "3"
    assert 5 not in headers and headers.get(5) is None


def test_from_pairs_joins_repeats():
    headers = Headers.from_pairs([("Accept", "a"), ("Host", "h"), ("accept", "b"),
                                  ("Cookie", "x=1"), ("cookie", "y=2")])
    assert dict(headers) == {"Accept": "a, b", "Host": "h", "Cookie": "x=1; y=2"}
    headers["ACCEPT"] = "c"
    assert dict(headers) == {"Host": "h", "Cookie": "x=1; y=2", "ACCEPT": "c"}


def test_copy_and_pickle():
    headers = Headers.from_pairs([("Content-Type", "a"), ("X-A", "1")])
    for clone in (copy.copy(headers), copy.deepcopy(headers), pickle.loads(pickle.dumps(headers))):
        assert type(clone) is Headers and clone == headers and clone["content-type"] == "a"
        clone["x-a"] = "2"
        assert list(clone) == ["Content-Type", "x-a"] and headers["X-A"] == "1"


def test_equality_and_repr():
    assert Headers({"A": "1"}) == {"A": "1"}
    assert repr(Headers({"A": "1"})) == "Headers({'A': '1'})"


@pytest.mark.parametrize("headers", [
    {"Content-Type": "application/json", "User-Agent": "my-app"},
    Headers({"Content-Type": "application/json", "User-Agent": "my-app"}),
])
def test_get_insensitive_header_returns_value(headers):
    # 1.5.x matched the name case-insensitively, then looked up the exact name given.
    assert get_insensitive_header(headers, "content-type") == "application/json"
    assert get_insensitive_header(headers, "USER-AGENT") == "my-app"
    assert get_insensitive_header(headers, "Content-Type") == "application/json"
    assert get_insensitive_header(headers, "Accept") is None


names = st.sampled_from(["Host", "host", "HOST", "Accept", "accept", "X-Id", "x-id", "Cookie"])
operations = st.lists(st.tuples(st.sampled_from(["set", "del", "pop", "setdefault"]), names,
                                st.text(max_size=3)), max_size=30)


@given(operations)
def test_behaves_like_a_dict_keyed_by_lower_case(ops):
    """Against a model: a plain dict keyed by the lower-case name, remembering the spelling."""
    headers, model = Headers(), {}
    for op, name, value in ops:
        key = name.lower()
        if op == "set":
            headers[name] = value
            model[key] = (name, value)
        elif op == "del":
            if key in model:
                del headers[name]
                del model[key]
        elif op == "pop":
            assert headers.pop(name, None) == (model.pop(key, (None, None))[1])
        else:
            expected = model.setdefault(key, (name, value))[1]
            assert headers.setdefault(name, value) == expected
        assert len(headers) == len(model)
        assert sorted(headers.items()) == sorted(model.values())
        for candidate in ("host", "ACCEPT", "x-ID", "cookie"):
            assert headers.get(candidate) == model.get(candidate.lower(), (None, None))[1]


def test_merge_operators_ignore_case():
    """``|=`` and ``|`` used to be the plain dict's: two entries, and the stale value won."""
    headers = Headers({"Content-Type": "old", "X-A": "1"})
    headers |= {"content-type": "new"}
    assert dict(headers) == {"X-A": "1", "content-type": "new"} and headers.get("Content-Type") == "new"
    merged = headers | {"CONTENT-TYPE": "third", "X-B": "2"}
    assert type(merged) is Headers and merged["content-type"] == "third" and len(merged) == 3
    assert headers["Content-Type"] == "new"  # ``|`` leaves its operands alone
    left = {"x-a": "from dict", "Other": "o"} | Headers({"X-A": "from headers"})
    assert type(left) is Headers and dict(left) == {"Other": "o", "X-A": "from headers"}
    headers |= [("x-a", "pairs")]
    assert headers["X-A"] == "pairs" and len(headers) == 2
    with pytest.raises(TypeError):
        headers | 5


def test_fromkeys_setdefault_update_copy_stay_case_insensitive():
    made = Headers.fromkeys(["Accept", "ACCEPT", "Host"], "v")
    assert type(made) is Headers and dict(made) == {"ACCEPT": "v", "Host": "v"} and made["accept"] == "v"
    headers = Headers({"Host": "h"})
    assert headers.setdefault("HOST", "other") == "h" and len(headers) == 1
    headers.update(Headers({"host": "h2"}), HOST="h3")
    assert dict(headers) == {"HOST": "h3"}
    clone = headers.copy()
    clone["host"] = "changed"
    assert headers["Host"] == "h3" and dict(clone) == {"host": "changed"}


def test_equality_ignores_the_case_of_names():
    headers = Headers({"Content-Type": "a", "X-A": "1"})
    assert headers == {"content-type": "a", "x-a": "1"}
    upper_first = {"CONTENT-TYPE": "a", "X-a": "1"}
    assert upper_first == headers  # the reflected comparison: dict on the left
    assert headers == Headers({"CONTENT-TYPE": "a", "x-A": "1"})
    assert headers != {"content-type": "b", "x-a": "1"} and (headers != {"content-type": "a", "X-A": "1"}) is False
    assert headers != {"content-type": "a"} and headers != [("Content-Type", "a"), ("X-A", "1")]
