"""Edit JSON and JSONC settings files in place, changing only the bytes that must change.

Why our own editor: the tool settings we touch are edited by people, and a
round trip through a parser and a serialiser loses what they wrote — comments
(VS Code's and Cursor's JSONC files), key order, indentation, blank lines,
`"a" : 1` spacing.  The Python options measured in
the common JSON5/JSONC libraries either drop comments on write (`json5`,
`json-with-comments`, `commentjson`), fail to parse common files (`commentjson`
on a trailing comma before a comment), need Node at run time (`jsonc-edit`), or
round-trip but install a module named `json5` that clashes with the `json5`
package and make every edit a model manipulation (`json-five`).  So this module
does what Microsoft's `jsonc-parser` `modify` does for VS Code itself: parse
once to find the byte span of the value to change, splice text into or out of
that span, and leave every other character of the file exactly as it was.
tests/integrations/test_jsonedit.py property-tests the promise: inserting a
member and removing it again gives back the original text, byte for byte, for
generated documents with comments, trailing commas and odd spacing.

`strict=True` accepts only RFC 8259 JSON — Claude Code silently ignores a
`.claude/settings.json` with a comment in it (it must be strict JSON), so
such a file is refused rather than edited.  `strict=False` accepts JSONC: `//`
and `/* */` comments and trailing commas.

Every edit re-parses the result and checks that it holds exactly the intended
value before the caller writes anything (`Document.set` & co. raise
`JsonEditError` otherwise), so a bug here cannot write a file that the tool
would misread.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Path = Sequence[str | int]

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_WS = " \t\r\n"
_SLOT = "\0value\0"  # where a member template takes its value


class JsonEditError(ValueError):
    """The text cannot be parsed or edited; the message says where (line:column)."""


@dataclass
class Node:
    """A parsed value with its span in the text (`start` inclusive, `end` exclusive)."""

    kind: str  # "object", "array", "string", "number", "true", "false", "null"
    start: int
    end: int
    value: Any = None  # scalars only
    keys: list[str] = field(default_factory=list)  # object member keys, in order
    key_spans: list[tuple[int, int]] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)  # member values or array items
    commas: list[int | None] = field(default_factory=list)  # comma after each child, if any

    def to_python(self) -> Any:
        """The plain Python value (dicts keep the file's key order)."""
        if self.kind == "object":
            return {k: c.to_python() for k, c in zip(self.keys, self.children, strict=True)}
        if self.kind == "array":
            return [c.to_python() for c in self.children]
        return self.value


class _Parser:
    def __init__(self, text: str, strict: bool) -> None:
        self.text = text
        self.strict = strict
        self.pos = 0

    def fail(self, message: str, pos: int | None = None) -> JsonEditError:
        p = self.pos if pos is None else pos
        line = self.text.count("\n", 0, p) + 1
        col = p - (self.text.rfind("\n", 0, p) + 1) + 1
        return JsonEditError(f"line {line} column {col}: {message}")

    def skip(self) -> None:
        """Skip whitespace and (JSONC) comments."""
        t = self.text
        n = len(t)
        while self.pos < n:
            c = t[self.pos]
            if c in _WS:
                self.pos += 1
            elif c == "/" and t.startswith("//", self.pos):
                if self.strict:
                    raise self.fail("comments are not allowed in strict JSON")
                nl = t.find("\n", self.pos)
                self.pos = n if nl < 0 else nl
            elif c == "/" and t.startswith("/*", self.pos):
                if self.strict:
                    raise self.fail("comments are not allowed in strict JSON")
                close = t.find("*/", self.pos + 2)
                if close < 0:
                    raise self.fail("unterminated comment")
                self.pos = close + 2
            else:
                return

    def document(self) -> Node:
        if self.text.startswith("\ufeff"):
            self.pos = 1
        self.skip()
        node = self.value(0)
        self.skip()
        if self.pos != len(self.text):
            raise self.fail("unexpected text after the JSON value")
        return node

    def value(self, depth: int) -> Node:
        if depth > 200:
            raise self.fail("nested too deeply")
        t = self.text
        if self.pos >= len(t):
            raise self.fail("unexpected end of file")
        c = t[self.pos]
        if c == "{":
            return self.container(depth, "object", "}")
        if c == "[":
            return self.container(depth, "array", "]")
        if c == '"':
            start = self.pos
            s = self.string()
            return Node("string", start, self.pos, s)
        for word, val in (("true", True), ("false", False), ("null", None)):
            if t.startswith(word, self.pos):
                start = self.pos
                self.pos += len(word)
                return Node(word, start, self.pos, val)
        m = _NUMBER.match(t, self.pos)
        if m and m.end() > self.pos:
            self.pos = m.end()
            raw = m.group()
            num: int | float = float(raw) if any(ch in raw for ch in ".eE") else int(raw)
            return Node("number", m.start(), m.end(), num)
        raise self.fail(f"unexpected character {c!r}")

    def string(self) -> str:
        t = self.text
        start = self.pos
        i = start + 1
        n = len(t)
        while i < n:
            c = t[i]
            if c == '"':
                self.pos = i + 1
                try:
                    out = json.loads(t[start : i + 1])
                except ValueError as e:
                    raise self.fail(f"bad string: {e}", start) from None
                assert isinstance(out, str)
                return out
            if c == "\\":
                i += 2
                continue
            if c < " ":
                raise self.fail("control character in string", i)
            i += 1
        raise self.fail("unterminated string", start)

    def container(self, depth: int, kind: str, close: str) -> Node:
        node = Node(kind, self.pos, -1)
        self.pos += 1
        t = self.text
        while True:
            self.skip()
            if self.pos >= len(t):
                raise self.fail("unexpected end of file")
            if t[self.pos] == close:
                if node.commas and node.commas[-1] is not None and self.strict:
                    raise self.fail("trailing commas are not allowed in strict JSON")
                self.pos += 1
                node.end = self.pos
                return node
            if node.commas and node.commas[-1] is None:
                raise self.fail(f"expected ',' or {close!r}")
            if kind == "object":
                if t[self.pos] != '"':
                    raise self.fail("expected a string key")
                kstart = self.pos
                key = self.string()
                node.keys.append(key)
                node.key_spans.append((kstart, self.pos))
                self.skip()
                if self.pos >= len(t) or t[self.pos] != ":":
                    raise self.fail("expected ':'")
                self.pos += 1
                self.skip()
            node.children.append(self.value(depth + 1))
            self.skip()
            if self.pos < len(t) and t[self.pos] == ",":
                node.commas.append(self.pos)
                self.pos += 1
            else:
                node.commas.append(None)


def parse(text: str, *, strict: bool) -> Node:
    """Parse `text`; raise JsonEditError with line and column on any problem."""
    return _Parser(text, strict).document()


# -- formatting helpers ---------------------------------------------------------


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _indent_of(text: str, pos: int) -> str:
    """The whitespace that starts the line containing `pos`."""
    ls = _line_start(text, pos)
    i = ls
    while i < len(text) and text[i] in " \t":
        i += 1
    return text[ls:i]


def _first_on_line(text: str, pos: int) -> bool:
    return text[_line_start(text, pos) : pos].strip(" \t") == ""


def _line_tail(text: str, pos: int) -> int:
    """After `pos`: skip spaces and one same-line comment; where that leaves us.

    Used so that `"a": 1, // note` keeps its note with "a" when a member is
    inserted after it or removed after it.
    """
    i = pos
    n = len(text)
    while i < n and text[i] in " \t":
        i += 1
    if text.startswith("//", i):
        nl = text.find("\n", i)
        return n if nl < 0 else nl
    if text.startswith("/*", i):
        close = text.find("*/", i + 2)
        if close >= 0 and "\n" not in text[i:close]:
            return close + 2
    return pos


@dataclass(frozen=True)
class Style:
    """How the file is laid out, so inserted text looks like the rest."""

    unit: str  # one indentation level
    colon: str  # between key and value, e.g. ": "
    eol: str  # "\n" or "\r\n"


def detect_style(text: str, root: Node) -> Style:
    """Indent unit, key/value separator and line ending of a parsed document."""
    eol = "\r\n" if "\r\n" in text else "\n"
    unit = ""
    colon = ""
    stack = [root]
    while stack and not (unit and colon):
        node = stack.pop(0)
        if node.kind not in ("object", "array") or not node.children:
            continue
        first = node.key_spans[0][0] if node.kind == "object" else node.children[0].start
        if not unit and _first_on_line(text, first) and _line_start(text, first) > node.start:
            outer = _indent_of(text, node.start)
            inner = _indent_of(text, first)
            if inner.startswith(outer) and len(inner) > len(outer):
                unit = inner[len(outer) :]
        if not colon and node.kind == "object":
            between = text[node.key_spans[0][1] : node.children[0].start]
            if "/" not in between and "\n" not in between:
                colon = between
        stack.extend(node.children)
    return Style(unit or "  ", colon or ": ", eol)


def _dump(value: Any, style: Style, indent: str) -> str:
    """`value` as JSON text laid out in the file's style, starting at `indent`."""
    if not isinstance(value, dict | list) or not value:
        return json.dumps(value, ensure_ascii=False)
    inner = indent + style.unit
    if isinstance(value, dict):
        parts = [
            f"{inner}{json.dumps(k, ensure_ascii=False)}{style.colon}{_dump(v, style, inner)}"
            for k, v in value.items()
        ]
        return "{" + style.eol + ("," + style.eol).join(parts) + style.eol + indent + "}"
    parts = [f"{inner}{_dump(v, style, inner)}" for v in value]
    return "[" + style.eol + ("," + style.eol).join(parts) + style.eol + indent + "]"


def _dump_inline(value: Any, style: Style) -> str:
    sep = style.colon if style.colon.strip() == ":" else ": "
    return json.dumps(value, ensure_ascii=False, separators=(", ", sep))


# -- the document ---------------------------------------------------------------


class Document:
    """A JSON/JSONC text and the edits made to it; `text` is always valid.

    Each edit splices the text and re-parses it, then checks the parsed value
    against the value the edit was meant to produce.
    """

    def __init__(self, text: str, *, strict: bool) -> None:
        self.strict = strict
        self.text = text
        self.root = parse(text, strict=strict)
        self.style = detect_style(text, self.root)

    # -- reading --

    def node(self, path: Path) -> Node | None:
        """The node at `path` (keys for objects, indices for arrays), or None."""
        node = self.root
        for part in path:
            if node.kind == "object" and isinstance(part, str):
                idx = self._key_index(node, part)
                if idx is None:
                    return None
                node = node.children[idx]
            elif node.kind == "array" and isinstance(part, int) and 0 <= part < len(node.children):
                node = node.children[part]
            else:
                return None
        return node

    def get(self, path: Path, default: Any = None) -> Any:
        """The Python value at `path`, or `default`."""
        n = self.node(path)
        return default if n is None else n.to_python()

    def raw(self, path: Path) -> str | None:
        """The exact source text of the value at `path` (to restore it byte for byte)."""
        n = self.node(path)
        return None if n is None else self.text[n.start : n.end]

    def value(self) -> Any:
        """The whole document as Python."""
        return self.root.to_python()

    def _key_index(self, node: Node, key: str) -> int | None:
        hits = [i for i, k in enumerate(node.keys) if k == key]
        if len(hits) > 1:
            raise JsonEditError(f"the key {key!r} appears {len(hits)} times in one object")
        return hits[0] if hits else None

    def _container(self, path: Path, kind: str) -> Node:
        n = self.node(path)
        if n is None or n.kind != kind:
            where = "/".join(str(p) for p in path) or "the top level"
            raise JsonEditError(f"{where} is not an {kind}")
        return n

    # -- editing --

    def _commit(self, text: str, expect: Any) -> None:
        root = parse(text, strict=self.strict)
        got = root.to_python()
        if got != expect or _key_orders(got) != _key_orders(expect):
            raise JsonEditError("internal error: the edit did not produce the expected value")
        self.text = text
        self.root = root

    def set(self, path: Path, value: Any) -> None:
        """Set object member `path[-1]` of the object at `path[:-1]`, creating it if missing.

        Missing parent objects are created as well.  An existing value is
        replaced in place (its key keeps its position).
        """
        if not path:
            raise JsonEditError("cannot replace the whole document")
        parent_path = list(path[:-1])
        key = path[-1]
        # Create missing parents as one nested insertion.
        for i in range(len(parent_path)):
            if self.node(parent_path[: i + 1]) is None:
                nested: Any = value
                for k in reversed(list(path[i + 1 :])):
                    nested = {k: nested}
                self.set(parent_path[: i + 1], nested)
                return
        expect = _assign(self.value(), path, value)
        parent = self.node(parent_path)
        if parent is None:
            raise JsonEditError("internal error: parent vanished")
        if parent.kind == "array" and isinstance(key, int):
            old = parent.children[key]
            indent = _indent_of(self.text, old.start)
            text = self.text[: old.start] + _dump(value, self.style, indent) + self.text[old.end :]
            self._commit(text, expect)
            return
        if parent.kind != "object" or not isinstance(key, str):
            raise JsonEditError(f"cannot set {key!r}: the parent is not an object")
        idx = self._key_index(parent, key)
        if idx is not None:
            old = parent.children[idx]
            indent = _indent_of(self.text, parent.key_spans[idx][0])
            rep = _dump(value, self.style, indent)
            text = self.text[: old.start] + rep + self.text[old.end :]
            self._commit(text, expect)
            return
        member = json.dumps(key, ensure_ascii=False) + self.style.colon + _SLOT
        self._insert(parent, member, value, expect)

    def replace_raw(self, path: Path, raw: str) -> None:
        """Put back a value's exact original source text (from `raw`)."""
        n = self.node(path)
        if n is None:
            raise JsonEditError("nothing to replace at " + "/".join(map(str, path)))
        try:
            new_value = parse(raw, strict=self.strict).to_python()
        except JsonEditError as e:
            raise JsonEditError(f"the recorded original value is not valid: {e}") from None
        expect = _assign(self.value(), path, new_value)
        self._commit(self.text[: n.start] + raw + self.text[n.end :], expect)

    def append(self, path: Path, value: Any) -> None:
        """Append `value` to the array at `path`."""
        arr = self._container(path, "array")
        expect = self.value()
        _at(expect, path).append(value)
        self._insert(arr, _SLOT, value, expect)

    def delete(self, path: Path) -> None:
        """Remove object member or array item `path[-1]` (and its comma) from its container."""
        if not path:
            raise JsonEditError("cannot delete the whole document")
        parent = self.node(path[:-1])
        key = path[-1]
        if parent is None:
            raise JsonEditError("nothing to delete at " + "/".join(map(str, path)))
        if parent.kind == "object" and isinstance(key, str):
            idx = self._key_index(parent, key)
        elif parent.kind == "array" and isinstance(key, int) and 0 <= key < len(parent.children):
            idx = key
        else:
            idx = None
        if idx is None:
            raise JsonEditError("nothing to delete at " + "/".join(map(str, path)))
        expect = self.value()
        container = _at(expect, path[:-1])
        del container[key]
        self._commit(self._removed(parent, idx), expect)

    # -- splicing --

    def _child_start(self, node: Node, i: int) -> int:
        return node.key_spans[i][0] if node.kind == "object" else node.children[i].start

    def _insert(self, node: Node, template: str, value: Any, expect: Any) -> None:
        t = self.text
        close = node.end - 1
        if not node.children:
            inner = t[node.start + 1 : close]
            if inner.strip(_WS):  # a comment inside an empty container: keep it, add after
                indent = _indent_of(t, node.start)
                pos = close
                while pos > node.start + 1 and t[pos - 1] in _WS:
                    pos -= 1
                item = template.replace(_SLOT, _dump(value, self.style, indent + self.style.unit))
                text = t[:pos] + self.style.eol + indent + self.style.unit + item + t[pos:]
                self._commit(text, expect)
                return
            indent = _indent_of(t, node.start)
            item = template.replace(_SLOT, _dump(value, self.style, indent + self.style.unit))
            body = self.style.eol + indent + self.style.unit + item + self.style.eol + indent
            self._commit(t[: node.start + 1] + body + t[close:], expect)
            return
        last = len(node.children) - 1
        first_start = self._child_start(node, 0)
        multiline = "\n" in t[node.start : first_start]
        lead = self._child_start(node, last)
        indent = _indent_of(t, lead) if multiline else ""
        dumped = _dump(value, self.style, indent) if multiline else _dump_inline(value, self.style)
        item = template.replace(_SLOT, dumped)
        trailing = node.commas[last]
        if trailing is not None:
            # JSONC trailing comma: the new item goes after it and gets its own.
            pos = _line_tail(t, trailing + 1) if multiline else trailing + 1
            sep = self.style.eol + indent if multiline else " "
            self._commit(t[:pos] + sep + item + "," + t[pos:], expect)
            return
        end = node.children[last].end
        if multiline:
            pos = _line_tail(t, end)
            text = t[:end] + "," + t[end:pos] + self.style.eol + indent + item + t[pos:]
        else:
            text = t[:end] + ", " + item + t[end:]
        self._commit(text, expect)

    def _removed(self, node: Node, i: int) -> str:
        """The text with child `i` of `node` removed: the exact inverse of `_insert`."""
        t = self.text
        n = len(node.children)
        child_end = node.children[i].end
        if n == 1:
            start = node.start + 1
            end = node.end - 1
            rest = (
                t[start : self._child_start(node, 0)]
                + t[(node.commas[0] + 1 if node.commas[0] is not None else child_end) : end]
            )
            if rest.strip(_WS) == "":
                return t[:start] + t[end:]
            # Comments around the only child: keep them, drop the child's own line.
            begin = self._child_start(node, 0)
            stop = node.commas[0] + 1 if node.commas[0] is not None else child_end
            ls = _line_start(t, begin)
            if t[ls:begin].strip(" \t") == "" and ls > start:
                begin = ls - (2 if t[ls - 2 : ls] == "\r\n" else 1)
            return t[:begin] + t[stop:]
        own_comma = node.commas[i]
        if i == 0:
            start = node.start + 1
            if own_comma is None:  # cannot happen with n > 1
                raise JsonEditError("internal error: missing comma")
            stop = _line_tail(t, own_comma + 1)
            start_tail = _line_tail(t, start)
            inline = "\n" not in t[start : self._child_start(node, 1)]
            if inline:
                # `{"a": 1, "b": 2}`: drop `"a": 1, `
                nxt = self._child_start(node, 1)
                return t[: self._child_start(node, 0)] + t[nxt:]
            return t[:start_tail] + t[stop:]
        prev_comma = node.commas[i - 1]
        assert prev_comma is not None
        multiline = "\n" in t[prev_comma : self._child_start(node, i)]
        if own_comma is not None:
            # Middle child, or a last child with a JSONC trailing comma.
            if not multiline:
                if i == n - 1:
                    return t[: prev_comma + 1] + t[own_comma + 1 :]
                return t[: self._child_start(node, i)] + t[self._child_start(node, i + 1) :]
            begin = _line_tail(t, prev_comma + 1)
            stop = _line_tail(t, own_comma + 1)
            return t[:begin] + t[stop:]
        # The last child, no trailing comma: remove the separator comma before it too.
        if not multiline:
            return t[:prev_comma] + t[child_end:]
        begin = _line_tail(t, prev_comma + 1)
        return t[:prev_comma] + t[prev_comma + 1 : begin] + t[child_end:]


def _at(root: Any, path: Path) -> Any:
    for p in path:
        root = root[p]
    return root


def _assign(root: Any, path: Path, value: Any) -> Any:
    import copy

    out = copy.deepcopy(root)
    _at(out, path[:-1])[path[-1]] = value
    return out


def _key_orders(value: Any) -> Any:
    """Key order, recursively: `==` on dicts ignores it, and we promise to keep it."""
    if isinstance(value, dict):
        return [(k, _key_orders(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_key_orders(v) for v in value]
    return None
