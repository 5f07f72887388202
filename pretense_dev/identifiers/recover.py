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
ERROR, text no node covers, and what the language's query captures as
``@misparsed``), with comments and string literals blanked; every grammar has
its patterns.  In a C/C++ macro body a ``type name;`` declaration is a field
as well.  `extract.raw_definitions` adds
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

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node

# (pattern, kind): group 1 is the defined name.
Pattern = tuple[re.Pattern[bytes], str]

# An extension's receiver (`fun String.slug(`, `val <T> List<T>.second`) is
# someone else's type: the name is what follows its last dot.
_KOTLIN_RECEIVER = rb"(?:<[^>]*>\s*)?(?:[A-Za-z_][\w.]*(?:<[^>]*>)?\??\.)?"
_KOTLIN_FUN = rb"\bfun\s+" + _KOTLIN_RECEIVER


_NAME = r"([A-Za-z_]\w*)(?![\w$])"
_DOTTED_NAME = r"([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)"
_JS = [
    (r"(?<![.$])\bclass\s+" + _NAME, "class"),
    (r"(?<![.$])\bfunction\s*\*?\s*" + _NAME, "function"),
]
_TS = [
    *_JS,
    (r"interface\s+" + _NAME, "type"),
    (r"type\s+" + _NAME + r"\s*(?:<[^=;]*>)?\s*=", "type"),
    (r"enum\s+" + _NAME, "type"),
    (r"namespace\s+" + _DOTTED_NAME, "module"),
]


def _compile(rows: Sequence[tuple[str | bytes, str]]) -> list[Pattern]:
    return [(re.compile(p if isinstance(p, bytes) else p.encode()), k) for p, k in rows]


# `class|struct|union NAME {` / `: Base {`, skipping ALL_CAPS attribute macros
# (`class FMT_API format_error :`, `struct UV_EXTERN x {`).
_C_TAG_BODY = (
    r"(?:\s+[A-Z][A-Z0-9_]*(?:\([^()]*\))?)*\s+([A-Za-z_]\w*)\s*(?:final\s*)?(?::(?!:)|\{)"
)
_C = [
    (r"#[ \t]*define[ \t]+([A-Za-z_]\w*)", "constant"),
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
    # The other grammars fail less often (none of their files in the corpora of
    # bench/leak.py), but the same holds when they do: type-level declarations,
    # and functions where the language has no override syntax the keyword would
    # hide.  Rust's `fn` and `type` are left out (in `impl Trait for T` they
    # implement someone else's trait), so are Java and C# methods (no keyword).
    "python": _compile([(r"class\s+" + _NAME, "class"), (r"def\s+" + _NAME, "function")]),
    "ruby": _compile(
        [
            (r"class\s+(?:[A-Z]\w*::)*([A-Z]\w*)", "class"),
            (r"module\s+(?:[A-Z]\w*::)*([A-Z]\w*)", "module"),
            (r"def\s+(?:self\.)?" + _NAME, "method"),
        ]
    ),
    "javascript": _compile(_JS),
    "typescript": _compile(_TS),
    "tsx": _compile(_TS),
    "go": _compile(
        [
            (r"func\s+(?:\([^()]*\)\s*)?" + _NAME + r"\s*[\[(]", "function"),
            (r"type\s+" + _NAME + r"\s", "type"),
        ]
    ),
    "java": _compile(
        [
            (r"(?<!\.)\b(?:class|interface|enum|record)\s+" + _NAME, "class"),
            (r"@interface\s+" + _NAME, "type"),
            (r"package\s+" + _DOTTED_NAME + r"\s*;", "module"),
        ]
    ),
    "csharp": _compile(
        [
            (r"(?:class|interface|struct|record|enum)\s+" + _NAME, "class"),
            (r"namespace\s+" + _DOTTED_NAME, "module"),
        ]
    ),
    "rust": _compile(
        [
            (r"(?:struct|enum|trait)\s+" + _NAME, "class"),
            (r"union\s+" + _NAME + r"\s*[{<]", "class"),
            (r"mod\s+" + _NAME, "module"),
        ]
    ),
    "php": _compile(
        [
            (r"(?<!::)(?:class|interface|trait|enum)\s+" + _NAME, "class"),
            (r"function\s+&?\s*" + _NAME + r"\s*\(", "function"),
        ]
    ),
}
# Where a pattern may start: the declaring keywords (and `override`, where the
# override pattern starts).  Regions are scanned for these once; each pattern
# is then tried only at a keyword, and a region with none is skipped.
_C_KEYWORDS = rb"#[ \t]*define\b|\b(?:struct|union|enum|typedef"
_TS_KEYWORDS = re.compile(rb"\b(?:class|function|interface|type|enum|namespace)\b")
KEYWORDS: dict[str, re.Pattern[bytes]] = {
    "kotlin": re.compile(rb"\b(?:class|interface|object|typealias|fun|val|var|override)\b"),
    "c": re.compile(_C_KEYWORDS + rb")\b"),
    "cpp": re.compile(_C_KEYWORDS + rb"|class|namespace|using|concept)\b"),
    "python": re.compile(rb"\b(?:class|def)\b"),
    "ruby": re.compile(rb"\b(?:class|module|def)\b"),
    "javascript": re.compile(rb"\b(?:class|function)\b"),
    "typescript": _TS_KEYWORDS,
    "tsx": _TS_KEYWORDS,
    "go": re.compile(rb"\b(?:func|type)\b"),
    "java": re.compile(rb"@interface\b|\b(?:class|interface|enum|record|package)\b"),
    "csharp": re.compile(rb"\b(?:class|interface|struct|record|enum|namespace)\b"),
    "rust": re.compile(rb"\b(?:struct|enum|trait|union|mod)\b"),
    "php": re.compile(rb"\b(?:class|interface|trait|enum|function)\b"),
}
# A declaration statement in a macro body: `[struct|unsigned|const…] type [*]name [N];`
# at the start of the body or after `;`, `{`, `}` or a line continuation.
_MACRO_FIELD = re.compile(
    rb"(?:^|(?<=[;{}\\]))\s*(?:(?:struct|union|enum|unsigned|signed|const|volatile|static|long"
    rb"|short)\s+)*([A-Za-z_]\w*)(?:\s*\*[\s*]*|\s+)([A-Za-z_]\w*)\s*(?:\[[^\];]*\]\s*)*;"
)
# Words that start a statement, not a type: `return UV_EBADF;` declares nothing.
_C_STATEMENT_WORDS = frozenset(
    b"return goto case else do sizeof typedef delete throw new co_return co_yield using "
    b"namespace template typename operator".split()
)
# Names in override position in an ERROR region: left out, as the query leaves
# out an `override` it can see.
OVERRIDES: dict[str, re.Pattern[bytes]] = {
    "kotlin": re.compile(
        rb"\boverride\s+(?:[a-z]+\s+)*(?:fun|va[lr])\s+" + _KOTLIN_RECEIVER + rb"([A-Za-z_]\w*)"
    ),
}
# How far past a region a pattern may read its trailing context (the `{` after
# `struct name` when the grammar attached the body to the next node).
_MARGIN = 256
_NOT_NEWLINE = re.compile(rb"[^\r\n]")
# Comments and literals, found lexically (in a mis-parsed region the tree is
# not to be trusted about them): C-family comments and quoted literals, plus
# each language's own forms (raw strings, `#` comments, template literals).
_C_COMMENTS = rb"/\*.*?\*/|//[^\n]*|"
_QUOTED = rb'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
_HASH = rb'#[^\n]*|""".*?"""|\'\'\'.*?\'\'\'|'
_LEXICAL = {
    "c": _C_COMMENTS + _QUOTED,
    "kotlin": _C_COMMENTS + rb'""".*?"""|' + _QUOTED,
    "javascript": _C_COMMENTS + rb"`(?:[^`\\]|\\.)*`|" + _QUOTED,
    "go": _C_COMMENTS + rb"`[^`]*`|" + _QUOTED,
    "rust": _C_COMMENTS + rb'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\\n]|\\.)\'',
    "hash": _HASH + _QUOTED,
    "php": _C_COMMENTS + rb"#(?!\[)[^\n]*|" + _QUOTED,
}
_LEXICAL_FAMILY = {
    "cpp": "c",
    "java": "c",
    "csharp": "c",
    "typescript": "javascript",
    "tsx": "javascript",
    "python": "hash",
    "ruby": "hash",
}
LEXICAL_BLANK: dict[str, re.Pattern[bytes]] = {
    language: re.compile(_LEXICAL[_LEXICAL_FAMILY.get(language, language)], re.S)
    for language in PATTERNS
}


def regions(root: Node, suspects: Iterable[Node] = ()) -> list[tuple[int, int]]:
    """(start, end) of each mis-parsed region, sorted, overlaps merged.

    The node around each outermost ERROR; text inside an erroneous node that
    no child covers (tree-sitter may give up and leave the rest of a file
    outside every node); and `suspects`, the nodes the language's query
    captured as ``@misparsed`` (parsed without an error, but wrongly).
    """
    spans: list[tuple[int, int]] = []
    if root.has_error:
        stack = [root]
        while stack:
            node = stack.pop()
            if node.type == "ERROR":
                # The statement around a small error: `typedef MACRO(T) Name;` puts
                # the keyword before the ERROR and the name after it.
                around = node.parent if node.parent not in (None, root) else node
                assert around is not None
                spans.append((around.start_byte, around.end_byte))
                continue
            if not node.has_error:
                continue
            covered = node.start_byte
            for child in node.children:
                if child.start_byte > covered:
                    spans.append((covered, child.start_byte))
                covered = max(covered, child.end_byte)
                stack.append(child)
            if node.end_byte > covered:
                spans.append((covered, node.end_byte))
    spans += ((node.start_byte, node.end_byte) for node in suspects)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        elif end > start:
            merged.append((start, end))
    return merged


def _blank(m: re.Match[bytes]) -> bytes:
    return _NOT_NEWLINE.sub(b" ", m.group(0))


def recovered(
    source: bytes,
    root: Node,
    language: str,
    suspects: Iterable[Node] = (),
    macro_bodies: Iterable[Node] = (),
) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each declaration-shaped name in a mis-parsed region.

    Each region is read up to `_MARGIN` bytes past its end, with comments and
    literals blanked lexically (the tree of a mis-parsed region is not to be
    trusted about them either); a region without a declaring keyword is
    skipped before that.  In a C/C++ macro body (`macro_bodies`), a
    ``type name;`` declaration is a field too: ``#define LOOP_PRIVATE_FIELDS
    int backend_fd; uv__io_t signal_io_watcher;`` defines fields no struct
    body spells out.
    """
    found = _in_regions(source, root, language, suspects)
    blank = LEXICAL_BLANK.get(language)
    for node in macro_bodies:
        if blank is None:
            break
        start = node.start_byte
        if source.find(b";", start, node.end_byte) < 0:
            continue  # most bodies are a value (`#define LEDGER_MAX 64`)
        text = blank.sub(_blank, source[start : node.end_byte])
        for m in _MACRO_FIELD.finditer(text):
            if m.group(1) not in _C_STATEMENT_WORDS:
                found.append((start + m.start(2), start + m.end(2), "field"))
    return found


def _in_regions(
    source: bytes, root: Node, language: str, suspects: Iterable[Node]
) -> list[tuple[int, int, str]]:
    patterns = PATTERNS.get(language)
    if patterns is None:
        return []
    keywords = KEYWORDS[language]
    override = OVERRIDES.get(language)
    found: list[tuple[int, int, str]] = []
    for start, end in regions(root, suspects):
        if keywords.search(source, start, end) is None:
            continue
        text = LEXICAL_BLANK[language].sub(_blank, source[start : end + _MARGIN])
        size = end - start
        excluded: set[int] = set()
        hits = [k.start() for k in keywords.finditer(text, 0, size)]
        if override is not None:
            for at in hits:
                m = override.match(text, at)
                if m is not None:
                    excluded.add(m.start(1))
        for at in hits:
            for rx, kind in patterns:
                m = rx.match(text, at)
                if m is not None and m.start(1) < size and m.start(1) not in excluded:
                    found.append((start + m.start(1), start + m.end(1), kind))
    return found
