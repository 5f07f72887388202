"""Defined names of one file: run our definition query, keep what the stop lists allow.

Each `queries/<language>.scm` captures the *name node* of a definition as
``@definition.<kind>`` (a kind from `identifiers.KINDS`).  A capture named
``@override`` marks a name node that overrides an API we do not own (Java
``@Override``, C# ``override``, Rust ``impl Trait for``): such a name is left out
unless something else in the repository defines it.  Captures starting with
``_`` only feed predicates.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from pretense_dev.identifiers import Definition
from pretense_dev.identifiers.languages import grammar
from pretense_dev.identifiers.stoplists import is_stopped

if TYPE_CHECKING:
    from tree_sitter import Parser, Query

# When one file defines a name several ways, the most telling kind wins.
PRIORITY = (
    "class",
    "type",
    "method",
    "function",
    "constant",
    "member",
    "field",
    "module",
    "variable",
    "parameter",
    "name",
)
_RANK = {k: i for i, k in enumerate(PRIORITY)}
_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@functools.cache
def query_source(language: str) -> str:
    """Our definition query for a language (shipped in the wheel)."""
    return (
        resources.files("pretense_dev.identifiers")
        .joinpath("queries", f"{language}.scm")
        .read_text(encoding="utf-8")
    )


@functools.cache
def _query(language: str) -> Query:
    from tree_sitter import Query

    return Query(grammar(language), query_source(language))


@functools.cache
def _parser(language: str) -> Parser:
    from tree_sitter import Parser

    return Parser(grammar(language))


def extract_definitions(source: bytes, language: str) -> list[Definition]:
    """Names `source` defines, one `Definition` per name, stop lists applied."""
    from tree_sitter import QueryCursor

    tree = _parser(language).parse(source)
    captures = QueryCursor(_query(language)).captures(tree.root_node)
    overridden = {(n.start_byte, n.end_byte) for n in captures.get("override", ())}
    best: dict[str, Definition] = {}
    for capture, nodes in captures.items():
        if not capture.startswith("definition."):
            continue
        kind = capture[len("definition.") :]
        for node in nodes:
            span = (node.start_byte, node.end_byte)
            if span in overridden:
                continue
            raw = source[span[0] : span[1]]
            if not raw.isascii():
                continue  # tokens are ASCII: such a name cannot be matched anyway
            name = raw.decode("ascii")
            k = "constant" if kind == "variable" and _is_caps(name) else kind
            line = node.start_point[0] + 1
            old = best.get(name)
            if old is None or (_RANK[k], line) < (_RANK[old.kind], old.line):
                best[name] = Definition(name, k, line)
    return sorted(
        (d for d in best.values() if not is_stopped(d.name, language)),
        key=lambda d: (d.line, d.name),
    )


def module_definitions(relpath: str, language: str) -> list[Definition]:
    """Names a source file's path defines: its stem and its directories.

    ``billing/ledger_reconciler.py`` defines the modules ``billing`` and
    ``ledger_reconciler``.  Hyphenated parts (``acmepay-client``) contribute
    each identifier part, since that is how they appear as tokens.
    """
    p = PurePosixPath(relpath)
    parts = [*p.parent.parts, p.stem]
    out: dict[str, Definition] = {}
    for part in parts:
        for name in _PART.findall(part):
            if name not in out and not is_stopped(name, language):
                out[name] = Definition(name, "module", 0)
    return list(out.values())


def _is_caps(name: str) -> bool:
    letters = [c for c in name if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)
