"""The reference docs name everything public: every name in ``outside.__all__`` and
every public method of ``OutsideHTTP`` in ``docs/api.md``, every config key in
``docs/configuration.md``.

A name counts when it appears as a word in code (a code span or a fenced block); a
method must appear called or as an attribute (``route(``, ``server.wsgi_app``)."""
from __future__ import annotations

import inspect
import os
import re
from typing import List, Set

import pytest

import outside
from outside.config import default_config

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")
_FENCED = re.compile(r"^```.*?^```", flags=re.S | re.M)
_SPAN = re.compile(r"``?([^`]+)``?")


def code_of(text: str) -> List[str]:
    """The pieces of code in the Markdown ``text``: fenced blocks and code spans."""
    return _FENCED.findall(text) + _SPAN.findall(_FENCED.sub("", text))


def words(text: str) -> Set[str]:
    return {word for piece in code_of(text) for word in re.findall(r"[A-Za-z_]\w*", piece)}


def calls(text: str) -> Set[str]:
    """Names in code written ``name(`` or ``.name``."""
    return {name for piece in code_of(text)
            for pair in re.findall(r"\.([A-Za-z_]\w*)|([A-Za-z_]\w*)\(", piece) for name in pair if name}


def doc(name: str) -> str:
    with open(os.path.join(DOCS, name), encoding="utf-8") as file:
        return file.read()


def public_methods(cls: type) -> Set[str]:
    return {name for name, member in inspect.getmembers(cls)
            if not name.startswith("_") and (callable(member) or isinstance(member, property))}


def test_the_helpers_see_code_only():
    text = "Call `server.route(rule)`; see `OutsideHTTP` and run it.\n```python\nrun_forever()\n```\n"
    assert words(text) == {"server", "route", "rule", "OutsideHTTP", "python", "run_forever"}
    assert calls(text) == {"route", "run_forever"}
    assert {"route", "run", "set_route", "wsgi_app"} <= public_methods(outside.OutsideHTTP)


@pytest.mark.parametrize("name", sorted(outside.__all__))
def test_api_md_names_every_public_name(name):
    assert name in words(doc("api.md")), f"docs/api.md does not mention `{name}`"


@pytest.mark.parametrize("name", sorted(public_methods(outside.OutsideHTTP)))
def test_api_md_shows_every_method_of_outsidehttp(name):
    assert name in calls(doc("api.md")), f"docs/api.md does not show OutsideHTTP.{name}"


@pytest.mark.parametrize("key", sorted(default_config(("127.0.0.1", 0))))
def test_configuration_md_explains_every_config_key(key):
    assert key in words(doc("configuration.md")), f"docs/configuration.md does not mention `{key}`"
