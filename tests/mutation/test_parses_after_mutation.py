"""Mutated code is still the same code to a parser, and keeps the shapes languages care about.

For each language's snippet (tests/identifiers/cases.py) the map is built the
way the indexer builds it (definitions + module names, `min_length` 4,
`synthesize` with a key): the mutated file must parse into exactly the same
sequence of node types (so no ERROR node appears, a Ruby constant stays a
constant, a JSX component stays a component), and exported / capitalised /
ALL_CAPS names keep their shape.  Hypothesis varies the key.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tree_sitter import Node, Parser

from pretense_dev.identifiers.extract import extract_definitions, module_definitions
from pretense_dev.identifiers.languages import grammar
from pretense_dev.mutation import IdentifierMap, synthesize
from pretense_dev.mutation.synth import SCHEME
from tests.identifiers.cases import CASES, Case

MIN_LENGTH = 4  # config.IdentifiersConfig.min_length's default
KEY = bytes(range(32))


@functools.cache
def parser(language: str) -> Parser:
    return Parser(grammar(language))


def node_types(source: bytes, language: str) -> list[str]:
    out: list[str] = []

    def walk(n: Node) -> None:
        out.append("MISSING" if n.is_missing else n.type)
        for c in n.children:
            walk(c)

    walk(parser(language).parse(source).root_node)
    return out


def build_map(case: Case, key: bytes) -> IdentifierMap:
    src = case.source.encode()
    defs = extract_definitions(src, case.language) + module_definitions(case.path, case.language)
    forward: dict[str, str] = {}
    taken: set[str] = set()
    for d in sorted(defs, key=lambda d: d.name):
        if len(d.name) >= MIN_LENGTH and d.name not in forward:
            syn = synthesize(key, d.name, d.kind, taken, SCHEME)
            taken.add(syn)
            forward[d.name] = syn
    return IdentifierMap(forward)


def tokens(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def jsx_names(source: bytes, language: str) -> Iterator[str]:
    def walk(n: Node) -> Iterator[str]:
        if n.type in ("jsx_opening_element", "jsx_self_closing_element"):
            name = n.child_by_field_name("name")
            if name is not None and name.text is not None:
                yield name.text.decode()
        for c in n.children:
            yield from walk(c)

    yield from walk(parser(language).parse(source).root_node)


def check(case: Case, key: bytes) -> IdentifierMap:
    m = build_map(case, key)
    before = case.source
    after = m.mutate(before)
    assert m.unmutate(after) == before
    # Every protected name is gone from what leaves the machine.
    assert not (tokens(after) & set(m.forward))
    types_before = node_types(before.encode(), case.language)
    types_after = node_types(after.encode(), case.language)
    assert "ERROR" not in types_before and "MISSING" not in types_before
    assert types_after == types_before
    for name, syn in m.forward.items():
        core, syn_core = name.lstrip("_"), syn.lstrip("_")
        assert len(name) - len(core) == len(syn) - len(syn_core), (name, syn)  # leading _
        assert core[0].isupper() == syn_core[0].isupper(), (name, syn)  # Go export, JSX, Ruby
        letters = [c for c in core if c.isalpha()]
        if len(letters) > 1 and all(c.isupper() for c in letters):
            assert syn_core == syn_core.upper(), (name, syn)  # ALL_CAPS stays ALL_CAPS
    return m


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.language)
def test_mutated_file_parses_into_the_same_node_types(case: Case) -> None:
    m = check(case, KEY)
    assert len(m) >= 10, "the snippet must exercise the map"


@pytest.mark.parametrize("case", [c for c in CASES if c.language in ("javascript", "tsx")])
def test_jsx_components_stay_capitalised(case: Case) -> None:
    m = build_map(case, KEY)
    before = list(jsx_names(case.source.encode(), case.language))
    after = list(jsx_names(m.mutate(case.source).encode(), case.language))
    assert [n[0].isupper() for n in before] == [n[0].isupper() for n in after]
    assert any(n in m.forward for n in before), "a component of the snippet is protected"
    assert before != after


def test_go_exported_names_stay_exported() -> None:
    (case,) = [c for c in CASES if c.language == "go"]
    m = build_map(case, KEY)
    exported = [n for n in m.forward if n[0].isupper()]
    unexported = [n for n in m.forward if n[0].islower()]
    assert exported and unexported
    assert all(m.forward[n][0].isupper() for n in exported)
    assert all(m.forward[n][0].islower() for n in unexported)


def test_ruby_constants_stay_constants() -> None:
    (case,) = [c for c in CASES if c.language == "ruby"]
    m = build_map(case, KEY)
    assert m.forward["GRACE_PERIOD_DAYS"].isupper()
    assert m.forward["ProrationCalculator"][0].isupper()
    # and the parser agrees (constant nodes, not identifiers): see the node-type test


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(key=st.binary(min_size=32, max_size=32), index=st.integers(0, len(CASES) - 1))
def test_any_key_keeps_every_language_parseable(key: bytes, index: int) -> None:
    check(CASES[index], key)
