"""The response writer twins: the compiled one really loaded, and it writes exactly what
the pure one writes (bytes, every ``ResponseHead`` field, or the same exception) for
random statuses, fields, lengths, methods, versions and keep-alive wishes."""
from __future__ import annotations

import re
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outside import speedups
from outside.http.response_head import ResponseError, ResponseHead
from outside.response import Rendered

# The writer's own Date changes every second: masked in both outcomes before comparing.
IMF_DATE = re.compile(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT")


class Subclass(ResponseHead):
    """A caller's own head class (``cls``), as ``Rendered`` is."""
    __slots__ = ("extra",)


def test_the_compiled_writer_is_active_unless_disabled() -> None:
    if speedups.NO_EXTENSIONS:
        assert speedups.ResponseWriter is speedups.ResponseWriterPy
    else:
        assert speedups.ResponseWriterC is not None, speedups.IMPORT_ERRORS
        assert not str(speedups.ResponseWriterC.__file__).endswith(".py")
        assert speedups.ResponseWriter is speedups.ResponseWriterC


def test_both_twins_make_and_raise_the_same_classes(writer_twins: tuple) -> None:
    for module in writer_twins:
        assert module.ResponseHead is ResponseHead and module.ResponseError is ResponseError
        head = module.write_head(200, [("X-A", "1")], length=0)
        assert type(head) is ResponseHead
        assert type(module.write_head(200, [], length=0, cls=Rendered)) is Rendered
        try:
            module.write_head(200, [("X A", "1")], length=0)
        except ResponseError as exc:
            assert str(exc) == "invalid header name 'X A'"
        else:
            raise AssertionError("a name with a space was written")


def _outcome(module: ModuleType, status: Any, fields: Any, kwargs: dict[str, Any]) -> tuple:
    """What ``write_head`` gave: every field of the head, or the exception's type and text."""
    try:
        head = module.write_head(status, fields() if callable(fields) else fields, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the exception itself is the outcome compared
        return ("raised", type(exc), str(exc))
    return ("head", type(head), IMF_DATE.sub("<date>", head.data.decode("latin-1")),
            head.status, head.reason, head.version,
            [(name, IMF_DATE.sub("<date>", value)) for name, value in head.fields],
            head.framing, head.length, head.keep_alive, head.sends_body)


# Names the writer treats specially, in any case, with ordinary and broken ones.
SPECIAL = ["Content-Type", "Content-Length", "Connection", "Transfer-Encoding", "Date", "Server",
           "Set-Cookie", "X-Custom", "ETag"]
# Mostly valid input (so that most examples write a head), with every kind of bad one.
special_names = st.sampled_from(SPECIAL).flatmap(lambda name: st.sampled_from([name, name.lower(), name.upper()]))
names = st.one_of(special_names, st.from_regex(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,10}", fullmatch=True))
bad_names = st.one_of(st.text(st.sampled_from("aZ-_!#~ :\r\n\0é\u2603\t"), max_size=8),
                      st.sampled_from([None, 5, b"X-Bytes", ""]))
clean_texts = st.text(st.sampled_from("ab 0123,;=/-\té\xff"), max_size=12)
texts = st.one_of(clean_texts, clean_texts, clean_texts,
                  st.text(st.sampled_from("ab 0\r\n\0\u2603"), max_size=6))
values = st.one_of(texts, st.sampled_from(["close", "Keep-Alive, CLOSE", "3", " 3", "-1", "\uff13", "1e3"]),
                   st.integers(-5, 10**6), st.none())
# Up to six fields, now and then with one whose name is not a token.
pairs = st.tuples(st.lists(st.tuples(names, values), max_size=6),
                  st.one_of(st.just([]), st.just([]), st.lists(st.tuples(bad_names, values), max_size=1)),
                  st.integers(0, 6)).map(lambda drawn: drawn[0][:drawn[2]] + drawn[1] + drawn[0][drawn[2]:])
statuses = st.one_of(st.integers(100, 999), st.integers(100, 999),
                     st.sampled_from([100, 101, 103, 200, 204, 206, 304, 404, 500]),
                     st.sampled_from(["200", 200.0, None, True, -200, 99, 1000]))
options = st.fixed_dictionaries({}, optional={
    "request_method": st.sampled_from(["GET", "HEAD", "POST", "OPTIONS", "get"]),
    "request_version": st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2", ""]),
    "keep_alive": st.booleans(),
    "length": st.one_of(st.none(), st.integers(0, 10**12)),
    "default_type": st.one_of(st.none(), texts, st.just("text/plain; charset=utf-8")),
    "extra": st.lists(st.tuples(st.sampled_from(["Set-Cookie", "ETag", "Last-Modified"]), texts), max_size=3),
    "forbidden": st.sampled_from([{}, {"set-cookie": "Set-Cookie belongs in Response.cookies"}]),
    "reason": st.one_of(st.none(), texts),
    "cls": st.sampled_from([ResponseHead, Subclass, Rendered]),
})


@settings(max_examples=1500, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # a constant pair
@given(status=statuses, fields=pairs, as_dict=st.booleans(), kwargs=options)
def test_twins_write_the_same_heads(writer_twins: tuple, status: Any, fields: list, as_dict: bool,
                                    kwargs: dict[str, Any]) -> None:
    pure, compiled = writer_twins
    # A header dict as Response.headers holds it (its items() view), or pairs with repeats.
    given_fields: Any = dict(fields).items if as_dict else fields
    expected = _outcome(pure, status, given_fields, kwargs)
    assert _outcome(compiled, status, given_fields, kwargs) == expected


def _framed(module: ModuleType, head: ResponseHead, pieces: list) -> tuple:
    out: list = []
    try:
        for piece in module.frame_body(head, iter(pieces)):
            out.append(piece)
    except Exception as exc:  # noqa: BLE001 - compared
        return (out, type(exc), str(exc))
    return (out, None, None)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.binary(max_size=20), max_size=5), length=st.one_of(st.none(), st.integers(0, 60)),
       version=st.sampled_from(["HTTP/1.1", "HTTP/1.0"]), method=st.sampled_from(["GET", "HEAD"]),
       status=st.sampled_from([200, 204, 304]))
def test_twins_frame_the_same_bodies(writer_twins: tuple, pieces: list, length: Any, version: str,
                                     method: str, status: int) -> None:
    pure, compiled = writer_twins
    fields = [] if length is None else [("Content-Length", str(length))]
    head = pure.write_head(status, fields, method, version)
    assert _framed(compiled, head, pieces) == _framed(pure, head, pieces)
