"""Defined names of one file: run our definition query, keep what the stop lists allow.

Each `queries/<language>.scm` captures the *name node* of a definition as
``@definition.<kind>`` (a kind from `identifiers.KINDS`).  Two captures mark a
name node as *not ours*, and it is left out (unless another node in the
repository defines the same name):

* ``@override``: the definition overrides an API we do not own (Java
  ``@Override``, C# ``override``, TS ``override``, Rust methods in
  ``impl ExternalTrait for T``);
* ``@external``: the name is bound to something a dependency defines
  (``const { Router } = require("express")``).

Captures starting with ``_`` only feed predicates.

**When patterns overlap on one node, the more specific kind wins**, in the
order of `SAME_NODE`: ``function f({ tier })`` is captured both by a
parameter pattern and by the catch-all for destructuring patterns (a
variable), and is a parameter; a TS constructor's ``private gateway`` is a
field rather than a parameter; a JS ``{ total() {} }`` key a method rather than
a field.  (Resolving by kind rather than by pattern order keeps query files
free of ordering rules; `bench/extract.py` prints what the queries cost on top
of parsing.)  Across *different* nodes of one name, `PRIORITY` picks the most
telling kind.

A query file may start with ``; inherits: a, b``: the named files
(``queries/a.scm`` …) are spliced in at that point.  JavaScript, TypeScript and
TSX share ``_ecma.scm`` this way; TSX inherits TypeScript.

**Manifests** (``Cargo.toml``, ``go.mod``, ``package.json``, ``pyproject.toml``)
are pseudo-languages (`languages.MANIFESTS`): no grammar, a few lines of parsing
here, and they yield the repository's own crate / module / package names
(``module example.com/acme/ledgerd`` defines ``ledgerd``).  They are cheap and
exact, and a crate's name is how its code refers to it (``use ledger_core::``).

Names are tokens: a definition's text is reduced to the identifier a tokenizer
sees, so Ruby ``@customer_tier`` and ``paid?``, JS ``#secretKey`` and Rust
``r#type`` give ``customer_tier``, ``paid``, ``secretKey`` and ``type``.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
from collections.abc import Iterable
from importlib import resources
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from pretense_dev.identifiers import PRIORITY, Definition
from pretense_dev.identifiers.languages import MANIFESTS, grammar
from pretense_dev.identifiers.recover import recovered, regions
from pretense_dev.identifiers.stoplists import is_stopped, path_names

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Query

_RANK = {k: i for i, k in enumerate(PRIORITY)}
# When several patterns capture the same node: the specific kind beats the
# catch-all (parameter over variable, field over parameter, method over field).
SAME_NODE = (
    "class",
    "type",
    "method",
    "function",
    "member",
    "constant",
    "field",
    "module",
    "parameter",
    "variable",
    "name",
)
_SAME_RANK = {k: i for i, k in enumerate(SAME_NODE)}
_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXCLUDE = ("override", "external")
# A definition's text -> the token inside: sigils (Ruby @ivar @@cvar $global :symbol,
# JS #private, C# @verbatim, Rust r#raw) and Ruby's ?, ! and = suffixes go.
_TOKEN_IN = re.compile(rb"(?:[@$#:]{1,2}|r#)?([A-Za-z_][A-Za-z0-9_]*)[?!=]?")
# A dotted capture (`package com.acme.billing`, `namespace Acme.Tax`,
# `module Acme::Ledger`) defines each of its parts.
_DOTTED = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*(?:\s*(?:\.|::)\s*[A-Za-z_][A-Za-z0-9_]*)+")
_WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_INHERITS = re.compile(r"^;\s*inherits:\s*(.+)$", re.MULTILINE)


def _read_query(name: str) -> str:
    return (
        resources.files("pretense_dev.identifiers")
        .joinpath("queries", f"{name}.scm")
        .read_text(encoding="utf-8")
    )


@functools.cache
def query_source(language: str) -> str:
    """Our definition query for a language (shipped in the wheel), inherits resolved."""

    def splice(m: re.Match[str]) -> str:
        return "\n".join(query_source(p.strip()) for p in m.group(1).split(","))

    return _INHERITS.sub(splice, _read_query(language))


@functools.cache
def _query(language: str) -> Query:
    from tree_sitter import Query

    return Query(grammar(language), query_source(language))


@functools.cache
def _parser(language: str) -> Parser:
    from tree_sitter import Parser

    return Parser(grammar(language))


# Capture name -> (rank among SAME_NODE, kind), for the definition captures.
_CAPTURE_KIND = {f"definition.{k}": (r, k) for k, r in _SAME_RANK.items()}


def _definition_nodes(source: bytes, language: str) -> dict[tuple[int, int], tuple[int, str, int]]:
    """Span -> (rank, kind, line) of every definition node, same-node overlaps resolved.

    One parse and one query run; names recovered from regions the grammar
    mis-parsed (`recover.recovered`) are added at the lowest rank, so a capture
    of the query at the same place keeps its kind; excluded nodes
    (``@override``, ``@external``) are left out of both.
    """
    from tree_sitter import QueryCursor

    tree = _parser(language).parse(source)
    captures = QueryCursor(_query(language)).captures(tree.root_node)
    kinds: dict[tuple[int, int], tuple[int, str, int]] = {}
    get = kinds.get
    for capture, nodes in captures.items():
        rank_kind = _CAPTURE_KIND.get(capture)
        if rank_kind is None:
            continue
        rank, kind = rank_kind
        for node in nodes:
            span = node.byte_range
            old = get(span)
            if old is None or rank < old[0]:
                kinds[span] = (rank, kind, node.start_point[0] + 1)
    for capture, kind in (("_class_body", "field"), ("_enum_body", "member")):
        for body in captures.get(capture, ()):
            _class_body_members(body, kind, kinds)
    misparsed = captures.get("misparsed", ())
    bodies = captures.get("macro_body", ())
    line, counted = 1, 0
    for start, end, kind in sorted(recovered(source, tree.root_node, language, misparsed, bodies)):
        span = (start, end)
        if span not in kinds:
            line += source.count(b"\n", counted, start)
            counted = start
            kinds[span] = (len(SAME_NODE), kind, line)
    for c in _EXCLUDE:
        for node in captures.get(c, ()):
            kinds.pop(node.byte_range, None)
    return kinds


def _class_body_members(
    body: Node, assigned: str, kinds: dict[tuple[int, int], tuple[int, str, int]]
) -> None:
    """Add what a Python class body defines directly to `kinds` (see queries/python.scm).

    A ``def`` (decorated or not) is a method; ``x = …`` / ``x: T = …`` is
    `assigned` ("field", or "member" in an enum).  Only the body's own
    statements count, as the query patterns these replace matched them: a
    ``def`` under an ``if`` in the body stays a function.
    """
    get = kinds.get
    for child in body.named_children:
        kind = child.type
        names: list[Node] = []
        if kind == "function_definition":
            name = child.child_by_field_name("name")
            found = "method"
        elif kind == "decorated_definition":
            fn = child.child_by_field_name("definition")
            if fn is None or fn.type != "function_definition":
                continue
            name = fn.child_by_field_name("name")
            found = "method"
        elif kind == "expression_statement":
            found = assigned
            for a in child.named_children:
                if a.type == "assignment":
                    left = a.child_by_field_name("left")
                    if left is not None and left.type == "identifier":
                        names.append(left)
            name = None
        else:
            continue
        if name is not None and name.type == "identifier":
            names.append(name)
        rank = _SAME_RANK[found]
        for node in names:
            span = node.byte_range
            old = get(span)
            if old is None or rank < old[0]:
                kinds[span] = (rank, found, node.start_point[0] + 1)


def _names_in(source: bytes, start: int, end: int) -> list[bytes]:
    """The tokens a definition node's text defines (none if it is not ASCII)."""
    m = _TOKEN_IN.fullmatch(source, start, end)
    if m is not None:
        return [m.group(1)]
    if _DOTTED.fullmatch(source, start, end):
        return _WORD.findall(source, start, end)
    return []  # not an ASCII identifier: tokens are ASCII, it cannot be matched


def raw_definitions(source: bytes, language: str) -> list[tuple[str, str, int]]:
    """(name, kind, line) of every definition node, before stop lists and dedup.

    Excluded nodes (``@override``, ``@external``) are already left out.  The
    tests and the leak bench use this to see what the query alone finds.
    """
    if language in MANIFESTS:
        return [(n, "module", line) for n, line in _manifest_names(source, language)]
    out = []
    for (start, end), (_, kind, line) in _definition_nodes(source, language).items():
        for raw in _names_in(source, start, end):
            name = raw.decode("ascii")
            constant = kind in ("variable", "field") and is_caps(name)
            out.append((name, "constant" if constant else kind, line))
    return out


def misparsed_regions(source: bytes, language: str) -> list[tuple[int, int]]:
    """(start, end) bytes of the regions the grammar mis-parsed (`recover.regions`).

    Empty when the file parses cleanly; the tests use it to show that a
    source still exercises recovery.
    """
    from tree_sitter import QueryCursor

    tree = _parser(language).parse(source)
    misparsed = QueryCursor(_query(language)).captures(tree.root_node).get("misparsed", ())
    return regions(tree.root_node, misparsed)


def definition_rows(source: bytes, language: str) -> list[tuple[str, str, int]]:
    """(name, kind, line) per name `source` defines, stop lists applied, by (line, name).

    `extract_definitions` as plain tuples, for the indexer: one pass over
    `raw_definitions` keeps each name's best (kind, line) without building
    intermediate objects (the indexer calls this on every file).
    """
    raw = raw_definitions(source, language)
    best: dict[str, tuple[int, int, str]] = {}
    get = best.get
    rank_of = _RANK
    for name, kind, line in raw:
        key = (rank_of[kind], line, kind)
        old = get(name)
        if old is None or key < old:
            best[name] = key
    rows = [(n, k, line) for n, (_, line, k) in best.items() if not is_stopped(n, language)]
    rows.sort(key=_line_name)
    return rows


def _line_name(row: tuple[str, str, int]) -> tuple[int, str]:
    return row[2], row[0]


def extract_definitions(source: bytes, language: str) -> list[Definition]:
    """Names `source` defines, one `Definition` per name, stop lists applied."""
    return [Definition(n, k, line) for n, k, line in definition_rows(source, language)]


def module_definitions(relpath: str, language: str) -> list[Definition]:
    """Names a source file's path defines: its stem and its directories.

    ``billing/ledger_reconciler.py`` defines the modules ``billing`` and
    ``ledger_reconciler``.  Hyphenated parts (``acmepay-client``) contribute
    each identifier part, since that is how they appear as tokens.  A
    manifest's file name is not a module (``Cargo.toml``), and conventional
    names (``src``, ``utils``, ``mod``: ``data/paths.txt``) define nothing.
    """
    p = PurePosixPath(relpath)
    parts = list(p.parent.parts)
    if language not in MANIFESTS:
        parts.append(p.stem)
    out: dict[str, Definition] = {}
    for part in parts:
        for name in _PART.findall(part):
            if name in out or name.lower() in path_names() or is_stopped(name, language):
                continue
            out[name] = Definition(name, "module", 0)
    return list(out.values())


def is_caps(name: str) -> bool:
    """ALL_CAPS (two letters or more): a constant by convention."""
    # str.isupper (C, no cased letter in lower case) first: most names fail it.
    return name.isupper() and sum(c.isalpha() for c in name) > 1


# -- manifests ---------------------------------------------------------------


def _manifest_names(source: bytes, language: str) -> list[tuple[str, int]]:
    """(name, line) of the package names a manifest declares; [] if unreadable."""
    text = source.decode("utf-8", "replace")
    try:
        if language == "cargo":
            data = tomllib.loads(text)
            names = [data.get("package", {}).get("name"), data.get("lib", {}).get("name")]
            names += [b.get("name") for b in data.get("bin", []) if isinstance(b, dict)]
            key = "name"
        elif language == "pyproject":
            data = tomllib.loads(text)
            names = [data.get("project", {}).get("name")]
            names.append(data.get("tool", {}).get("poetry", {}).get("name"))
            key = "name"
        elif language == "npm":
            data = json.loads(text)
            names = [data.get("name")] if isinstance(data, dict) else []
            key = '"name"'
        else:  # gomod
            m = re.search(r"^module\s+\"?([^\s\"]+)", text, re.MULTILINE)
            # Only the last path parts are the repo's own: example.com/acme/ledgerd
            # -> acme, ledgerd (a host is nobody's identifier; major versions go).
            parts = m.group(1).split("/") if m else []
            if len(parts) > 1 and "." in parts[0]:
                parts = parts[1:]
            names = [p for p in parts if not re.fullmatch(r"v\d+", p)][-2:]
            key = "module"
    except (tomllib.TOMLDecodeError, ValueError, AttributeError):
        return []
    line = _line_of(text, key)
    return [(n, line) for n in _package_tokens(x for x in names if isinstance(x, str))]


def _package_tokens(names: Iterable[str]) -> list[str]:
    """Tokens a package name appears as: each part, and the parts joined by ``_``.

    ``@acme/ledger-core`` -> acme, ledger, core, ledger_core (Rust and Python
    spell a hyphenated package with underscores in code).
    """
    out: list[str] = []
    for full in names:
        for segment in full.split("/"):
            parts = _PART.findall(segment)
            candidates = [*parts, "_".join(parts)] if len(parts) > 1 else parts
            out.extend(c for c in candidates if c not in out)
    return out


def _line_of(text: str, key: str) -> int:
    for i, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith(key):
            return i
    return 1
