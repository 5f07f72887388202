"""Definitions in the regions a grammar mis-parsed.

A tree-sitter grammar that meets code it does not understand (a property named
``set`` or ``in1.close()`` for tree-sitter-kotlin 1.1; a C header wrapped in
``extern "C" {`` under ``#ifdef``, or a macro that expands to declarations)
wraps the region in an ``ERROR`` node, or even leaves the rest of the file
outside every node.  Complete sub-trees inside still match our query, but the
tokens the parser could not attach are flat: ``class``, ``Settings``, ``{`` …
and the class is lost.  One region can cover a whole file (libuv's ``uv.h``,
fmt's ``format.h``).  Some mis-parses raise no error at all: an annotated
body-less Kotlin class reads as the expression ``class Foo``, and
``FMT_END_NAMESPACE struct foo {…}`` as a function ``foo``.

A mis-parse must not let a name the project coined reach the vendor, so here,
per language, *declaration-shaped* patterns (a declaring keyword then a name:
``class Name``, ``fun name(``, ``struct name {``, ``#define NAME``) run over
the text of each mis-parsed region (`regions`: the node around each outermost
ERROR, text no node covers, and what the language's `SUSPECTS` query flags),
with comments and string literals blanked.  `extract.raw_definitions` adds
only names its query did not capture or exclude at the same place, and a name
in override position (Kotlin ``override fun``) is left out as the query leaves
it out.

The patterns are deliberately narrow (a keyword in front; a brace, ``=`` or a
parenthesis behind where the keyword has other uses): they run only where the
grammar failed, and what they add still passes the stop lists.  A forward
declaration (``struct sockaddr;``) defines nothing, as in the query: it
usually names a library's type.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node, Query

# (pattern, kind): group 1 is the defined name.
Pattern = tuple[re.Pattern[bytes], str]

# An extension's receiver (`fun String.slug(`, `val <T> List<T>.second`) is
# someone else's type: the name is what follows its last dot.
_KOTLIN_RECEIVER = rb"(?:<[^>]*>\s*)?(?:[A-Za-z_][\w.]*(?:<[^>]*>)?\??\.)?"
_KOTLIN_FUN = rb"\bfun\s+" + _KOTLIN_RECEIVER


def _compile(rows: Sequence[tuple[str | bytes, str]]) -> list[Pattern]:
    return [(re.compile(p if isinstance(p, bytes) else p.encode()), k) for p, k in rows]


# `class|struct|union NAME {` / `: Base {`, skipping ALL_CAPS attribute macros
# (`class FMT_API format_error :`, `struct UV_EXTERN x {`).
_C_TAG_BODY = (
    r"(?:\s+[A-Z][A-Z0-9_]*(?:\([^()]*\))?)*\s+([A-Za-z_]\w*)\s*(?:final\s*)?(?::(?!:)|\{)"
)
_C = [
    (r"(?m)^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)", "constant"),
    (r"\b(?:struct|union)" + _C_TAG_BODY, "class"),
    (r"\benum(?:\s+(?:class|struct))?" + _C_TAG_BODY, "type"),
    (r"\btypedef\b[^;{}]*?\b([A-Za-z_]\w*)\s*;", "type"),
    # `typedef struct [tag] { … } name;` (one level of nested braces)
    (
        r"\btypedef\s+(?:struct|union|enum)\b[^{;]*\{(?:[^{}]|\{[^{}]*\})*\}\s*([A-Za-z_]\w*)\s*;",
        "type",
    ),
]
_CPP = [
    *_C,
    (r"\bclass" + _C_TAG_BODY, "class"),
    (r"\bnamespace\s+([A-Za-z_]\w*)\s*\{", "module"),
    (r"\busing\s+([A-Za-z_]\w*)\s*=", "type"),
    (r"\bconcept\s+([A-Za-z_]\w*)\s*=", "type"),
]
PATTERNS: dict[str, list[Pattern]] = {
    "kotlin": _compile(
        [
            (r"(?<!::)\b(?:class|interface)\s+([A-Za-z_]\w*)", "class"),
            (r"\bobject\s+([A-Za-z_]\w*)", "class"),
            (r"\btypealias\s+([A-Za-z_]\w*)", "type"),
            (_KOTLIN_FUN + rb"([A-Za-z_]\w*)\s*\(", "function"),
            (rb"\b(?:val|var)\s+" + _KOTLIN_RECEIVER + rb"([A-Za-z_]\w*)", "variable"),
        ]
    ),
    "c": _compile(_C),
    "cpp": _compile(_CPP),
}
# Names in override position in an ERROR region: left out, as the query leaves
# out an `override` it can see.
OVERRIDES: dict[str, re.Pattern[bytes]] = {
    "kotlin": re.compile(
        rb"\boverride\s+(?:[a-z]+\s+)*(?:fun|va[lr])\s+" + _KOTLIN_RECEIVER + rb"([A-Za-z_]\w*)"
    ),
}
# Nodes the grammar produced without an ERROR but from a mis-parse; the node
# captured as @region is read like an ERROR region.  Kotlin: a hard keyword
# read as an identifier (``@Delete class Foo`` without a body becomes the
# expression ``class Foo``; ``const val X = 1`` after an annotation an
# assignment).  C/C++: a function definition whose declarator is a bare name
# (``FMT_END_NAMESPACE struct foo { … };`` reads as a function ``foo`` returning
# ``FMT_END_NAMESPACE``), and a macro's body, which the grammar keeps as text
# (``#define UV_PIPE_PRIVATE_FIELDS … typedef struct uv_pipe_accept_s { …``).
_C_SUSPECTS = """
(function_definition declarator: (identifier)) @region
(preproc_arg) @region
"""
SUSPECTS: dict[str, str] = {
    "kotlin": """
(_ (identifier) @_k
  (#any-of? @_k "class" "interface" "object" "fun" "val" "var" "typealias")) @region
""",
    "c": _C_SUSPECTS,
    "cpp": _C_SUSPECTS,
}
# How far past a region a pattern may read its trailing context (the `{` after
# `struct name` when the grammar attached the body to the next node).
_MARGIN = 256
_NOT_NEWLINE = re.compile(rb"[^\r\n]")
_BLANK = re.compile(r"comment|string|char_literal|character_literal")
# Comments and literals in text the grammar kept unparsed (a macro body, a
# skipped gap): C-family comments, Kotlin raw strings, quoted literals.
_LEXICAL_BLANK = re.compile(
    rb"/\*.*?\*/|//[^\n]*" rb'|""".*?"""|"(?:[^"\\\n]|\\.)*"' rb"|'(?:[^'\\\n]|\\.)*'", re.S
)


@functools.cache
def _suspects(language: str) -> Query | None:
    from tree_sitter import Query

    from pretense_dev.identifiers.languages import grammar

    text = SUSPECTS.get(language)
    return None if text is None else Query(grammar(language), text)


def regions(root: Node, language: str) -> list[tuple[int, int, Node | None]]:
    """(start, end, node) of each mis-parsed region.

    The outermost ERROR nodes; text inside an erroneous node that no child
    covers (tree-sitter may give up and leave the rest of a file outside every
    child: node None); and the nodes `SUSPECTS` flags.
    """
    out: list[tuple[int, int, Node | None]] = []
    if root.has_error:
        stack = [root]
        while stack:
            node = stack.pop()
            if node.type == "ERROR":
                # The statement around a small error: `typedef MACRO(T) Name;` puts
                # the keyword before the ERROR and the name after it.
                around = node.parent if node.parent not in (None, root) else node
                assert around is not None
                out.append((around.start_byte, around.end_byte, around))
                continue
            if not node.has_error:
                continue
            covered = node.start_byte
            for child in node.children:
                if child.start_byte > covered:
                    out.append((covered, child.start_byte, None))
                covered = max(covered, child.end_byte)
                stack.append(child)
            if node.end_byte > covered:
                out.append((covered, node.end_byte, None))
    query = _suspects(language)
    if query is not None:
        from tree_sitter import QueryCursor

        for node in QueryCursor(query).captures(root).get("region", []):
            out.append((node.start_byte, node.end_byte, node))
    return out


def _blanked(source: bytes, start: int, end: int, node: Node | None) -> bytes:
    """``source[start:end + margin]`` with the region's comments and literals blanked.

    Comment and string nodes are blanked where the tree has them; text the
    grammar left unparsed (a leaf such as a macro body, a gap the parser
    skipped) lexically.
    """
    stop = min(len(source), end + _MARGIN)
    out = bytearray(source[start:stop])

    def blank(a: int, b: int) -> None:
        a, b = max(a, start) - start, min(b, stop) - start
        if a < b:
            out[a:b] = _NOT_NEWLINE.sub(b" ", out[a:b])

    def lexical(a: int, b: int) -> None:
        for m in _LEXICAL_BLANK.finditer(source, a, b):
            blank(m.start(), m.end())

    if node is None:
        lexical(start, end)
        return bytes(out)
    stack = [node]
    while stack:
        n = stack.pop()
        if _BLANK.search(n.type):
            blank(n.start_byte, n.end_byte)
            continue
        # Text no child covers (a leaf's, or what the parser skipped) is read lexically.
        covered = n.start_byte
        for child in n.children:
            if child.start_byte > covered:
                lexical(covered, child.start_byte)
            covered = max(covered, child.end_byte)
            stack.append(child)
        if n.end_byte > covered:
            lexical(covered, n.end_byte)
    return bytes(out)


def recovered(source: bytes, root: Node, language: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each declaration-shaped name in a mis-parsed region."""
    patterns = PATTERNS.get(language)
    if patterns is None:
        return []
    override = OVERRIDES.get(language)
    found: list[tuple[int, int, str]] = []
    for start, end, node in regions(root, language):
        if end <= start:
            continue
        text = _blanked(source, start, end, node)
        size = end - start
        excluded = set()
        if override is not None:
            excluded = {m.start(1) for m in override.finditer(text)}
        for rx, kind in patterns:
            for m in rx.finditer(text):
                if m.start(1) >= size:
                    break
                if m.start(1) not in excluded:
                    found.append((start + m.start(1), start + m.end(1), kind))
    return found
