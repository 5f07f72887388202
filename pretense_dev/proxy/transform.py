"""What the vendor reads, going out, and what the developer reads, coming back.

Outgoing, each API's request body is walked by an explicit table of the
fields that carry text; every string there is a *leaf* and goes through
`Outgoing`, which mutates it, remembers it for the secret guard when it is
new, and caches the result per leaf: a resent conversation costs a dictionary
lookup per block and mutates to the same bytes (so a vendor's prompt cache
keeps hitting).  Fields of a block type we do not know are mutated generically
(every string value except `OPAQUE_KEYS`), so text in a new block type is
protected rather than leaked; types that carry signed or opaque vendor data
(`thinking`, `redacted_thinking`, server-tool results, Responses `reasoning`)
and binary ones (images) are never touched.

Tool inputs and tool-call arguments: only string *values* are mutated, never
keys, because keys are the tool's parameter names from its (untouched)
definition.  Coming back, partial tool JSON can only be un-mutated as raw text
(keys included); a key the vendor wrote as a synthetic therefore reaches the
client as the real name.  That only happens when the model itself invents a
synthetic as a key.

Deny by default.  After an API's walker has handled the fields it knows,
`Outgoing.sweep` visits every remaining string of the body and mutates it,
unless it is exempt by name:

* per API, top-level fields that are the vendor's controls or the tool
  definitions (``model``, ``tools``, ``tool_choice``…: `apis.Api.exempt`);
* anywhere, the string value of a key in `EXEMPT_VALUES` (ids, roles, types,
  enums, model and tool names, URLs, media types) and the whole value of a key
  in `EXEMPT_SUBTREES` (signatures, encrypted and base64 payloads, image URLs,
  cache controls);
* objects a walker declared opaque (`Outgoing.skip`): thinking and
  redacted_thinking blocks, server-tool results, Responses reasoning items,
  images and audio.

So an unknown top-level field, an extra field on a block or a message,
``stop_sequences``, a JSON schema's descriptions and client metadata are all
mutated.  Exempt strings, object keys and the concatenated text of adjacent
blocks are still read by the secret guard (`Outgoing.scan_only`): nothing the
vendor can read escapes the secret scan.

Base64 file payloads (``file_data``, base64 document sources) are decoded: a
text file is mutated and re-encoded; a binary one (a PDF, whose text the proxy
cannot rewrite) is refused.

A body whose known fields have the wrong shape cannot be protected reliably and
raises `Unprotectable`: the proxy refuses it (fail closed) rather than skip it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from pretense_dev.mutation import IdentifierMap
from pretense_dev.mutation.table import TokenTable

_T = TypeVar("_T")
# orjson reads integer literals beyond 64 bits as floats; a float this large may be one.
_INEXACT = 2.0**63
# Keys whose string values are structure or opaque data, never prose.
OPAQUE_KEYS = frozenset(
    {
        "type",
        "id",
        "tool_use_id",
        "call_id",
        "item_id",
        "signature",
        "data",
        "media_type",
        "encrypted_content",
        "encrypted_index",
        "cache_control",
        "file_id",
        "url",
        "image_url",
        "name",
        "server_name",
        "status",
        "role",
        "detail",
        "format",
        "model",
    }
)
# Keys whose *string* value is an identifier, an enum or a name the vendor must read
# as sent (a tool name must match its untouched definition); a dict or list under
# them is still swept (Responses ``text.format`` holds a JSON schema).
EXEMPT_VALUES = frozenset(
    {
        "type",
        "id",
        "tool_use_id",
        "call_id",
        "item_id",
        "previous_response_id",
        "media_type",
        "mime_type",
        "file_id",
        "container_id",
        "url",
        "name",
        "server_name",
        "status",
        "role",
        "detail",
        "format",
        "model",
        "cache_control",
    }
)
# Keys whose whole value is opaque to mutation (signed, encrypted or binary data).
EXEMPT_SUBTREES = frozenset(
    {
        "signature",
        "encrypted_content",
        "encrypted_index",
        "data",
        "image_url",
        "cache_control",
    }
)
# JSON-schema keywords whose object keys are names the answer will use.
SCHEMA_NAME_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions"})
# Anthropic block types that pass untouched both ways.
_UNTOUCHED_ANTHROPIC = frozenset({"thinking", "redacted_thinking", "image", "container_upload"})
# Every non-empty leaf is cached: a hit is one dictionary lookup and skips both the
# mutation and the secret scan (a detector call costs ~7 µs even on 2 characters, so a
# 100-turn history of "ok" answers would otherwise cost 0.7 ms per request).
MIN_CACHED = 1
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
# To list the synthetics a mutated text carries, the mutation kernel runs over it once
# more with a table that writes each synthetic between two NULs (the mutation's own
# tokens, at its speed: ~6 ms per MB where a regex over the text cost 30+); the text's
# own NULs, separators to the tokenizer like any other, are spaces first.
_MARK = "\x00"


class Unprotectable(ValueError):
    """The body cannot be parsed well enough to be protected (a 400, nothing forwarded)."""


def server_tool_result(block_type: str) -> bool:
    """Anthropic server-tool result blocks (vendor data the client echoes back)."""
    return block_type.endswith("_tool_result") and block_type not in (
        "tool_result",
        "mcp_tool_result",
    )


class LeafCache:
    """Per-repo cache: leaf text -> [mutated text, protected names or None, leaf].

    Bounded by `budget` (characters of keys plus values, plus `ENTRY_OVERHEAD`
    per entry for the objects around them) with least-recently-used eviction.
    Cleared when the map grows (a grown map may protect a name an
    old entry sent in clear) or the policy changes; entries are only added for
    leaves of requests that passed the secret guard, so a blocked leaf is
    scanned again when it comes back.
    """

    __slots__ = ("_json", "_scan", "_synthetics", "_text", "budget", "size")

    ENTRY_OVERHEAD = 160  # bytes: two str headers, the list, the dict slot

    def __init__(self, budget: int = 24_000_000) -> None:
        self._text: dict[str, list[Any]] = {}
        self._json: dict[str, list[Any]] = {}
        self._scan: dict[str, list[Any]] = {}  # scanned, sent as is (thinking)
        self._synthetics: tuple[IdentifierMap, TokenTable, dict[str, str]] | None = None
        self.budget = budget
        self.size = 0

    def table(self, kind: str) -> dict[str, list[Any]]:
        """The table for "text", "json" or "scan" leaves."""
        return self._json if kind == "json" else self._scan if kind == "scan" else self._text

    def clear(self) -> None:
        """Forget everything."""
        self._text.clear()
        self._json.clear()
        self._scan.clear()
        self._synthetics = None
        self.size = 0

    def synthetics(self, mapping: IdentifierMap) -> tuple[TokenTable, dict[str, str]]:
        """(a table marking `mapping`'s synthetics, synthetic → name), see `_MARK`.

        Read on the audit thread (`Outgoing.names`), so it is keyed by the
        map itself rather than trusted to match the cache's current map, and
        kept in one attribute (a clear on the event loop replaces it whole).
        """
        made = self._synthetics
        if made is None or made[0] is not mapping:
            names = {syn: name for name, syn in mapping.forward.items()}
            marks = TokenTable({syn: _MARK + syn + _MARK for syn in names}, "", False)
            made = self._synthetics = (mapping, marks, names)
        return made[1], made[2]

    def __len__(self) -> int:
        return len(self._text) + len(self._json) + len(self._scan)

    def add(self, kind: str, leaf: str, entry: list[Any]) -> None:
        """Remember a leaf; evict the oldest entries beyond the budget."""
        table = self.table(kind)
        if leaf in table:
            return
        table[leaf] = entry
        self.size += len(leaf) + len(entry[0]) + self.ENTRY_OVERHEAD
        while self.size > self.budget and len(self):
            victim = max((self._text, self._json, self._scan), key=len)
            old_leaf, old = next(iter(victim.items()))
            del victim[old_leaf]
            self.size -= len(old_leaf) + len(old[0]) + self.ENTRY_OVERHEAD

    def touch(self, kind: str, leaf: str, entry: list[Any]) -> None:
        """Mark an entry as recently used."""
        table = self.table(kind)
        table.pop(leaf, None)
        table[leaf] = entry


class Outgoing:
    """The leaf mutator for one request: mutate, cache, collect new leaves for the guard."""

    __slots__ = (
        "_cache",
        "_done",
        "_keep",
        "_mut",
        "before",
        "files",
        "fresh",
        "inexact",
        "mapping",
        "new",
        "used",
    )

    def __init__(self, mapping: IdentifierMap, cache: LeafCache) -> None:
        self.mapping = mapping
        self._mut = mapping.mutate
        self._cache = cache
        # ids of the strings the walker produced and the objects it declared opaque:
        # the sweep leaves them alone (`_keep` holds them so an id is never reused).
        self._done: set[int] = set()
        self._keep: list[Any] = []
        # A float as large as a 64-bit integer was seen: the fast JSON parser may
        # have rounded an integer literal, so the body must be parsed exactly.
        self.inexact = False
        # (where, text to scan) for every leaf not seen before
        self.new: list[tuple[str, str]] = []
        # (kind, leaf, entry) added to the cache once the request is allowed
        self.fresh: list[tuple[str, str, list[Any]]] = []
        # every entry of this request (names for the audit log)
        self.used: list[list[Any]] = []
        # protected names of the parts not walked again (a resent history, `history`)
        self.before: Callable[[], frozenset[str]] | None = None
        # tool_use id -> "<tool> <path>" of the file-reading tool calls seen (guard labels)
        self.files: dict[str, str] = {}

    @property
    def cache(self) -> LeafCache:
        """The repository's leaf cache this request reads and fills."""
        return self._cache

    def _names(self, original: str, mutated: str) -> frozenset[str]:
        return leaf_names(self._cache, self.mapping, original, mutated)

    def text(self, s: str, where: str) -> str:
        """A text leaf, as the vendor will read it."""
        if len(s) < MIN_CACHED:
            self.new.append((where, s))
            return s
        entry = self._cache._text.get(s)
        if entry is not None:
            self._cache.touch("text", s, entry)
            self.used.append(entry)
            return self._mark(str(entry[0]))
        out = self._mut(s)
        entry = [out, None, s]  # names listed later, off the request path (`names`)
        self.new.append((where, s))
        self.fresh.append(("text", s, entry))
        self.used.append(entry)
        return self._mark(out)

    def _mark(self, s: _T) -> _T:
        """Remember that the walker produced `s` (the sweep must not touch it again)."""
        self._done.add(id(s))
        self._keep.append(s)
        return s

    def skip(self, obj: Any) -> None:
        """An object sent as is (signed or binary); the sweep only scans it."""
        self._mark(obj)

    def joined(self, texts: list[str], where: str) -> None:
        """Adjacent texts as one, for the guard: a secret split across blocks is found."""
        if len(texts) > 1:
            self.scan_only("".join(texts), f"{where} (adjacent blocks joined)")

    def sweep(
        self,
        obj: Any,
        where: str,
        exempt: frozenset[str] = frozenset(),
        keyed: frozenset[str] = frozenset(),
    ) -> Any:
        """Deny by default: every string the walker left is mutated unless exempt by name.

        `exempt` names top-level fields kept as sent, `keyed` top-level fields
        that are JSON schemas (`keyed`).  Exempt strings and every key are still
        given to the secret guard.  Containers are changed in place.  Runs on
        every request over the whole body, so strings the guard has already
        read (the scan cache) skip the call and the location string.
        """
        if isinstance(obj, str):
            return obj if id(obj) in self._done else self.text(obj, where)
        done = self._done
        seen = self._cache._scan
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k not in seen:
                    self.scan_only(k, f"{where} (key)")
                if id(v) in done:
                    continue
                if isinstance(v, str):
                    if k in EXEMPT_VALUES or k in exempt or k in EXEMPT_SUBTREES:
                        if v not in seen:
                            self.scan_only(v, f"{where}.{k}" if where else k)
                    else:
                        obj[k] = self.text(v, f"{where}.{k}" if where else k)
                elif isinstance(v, (dict, list)):
                    w = f"{where}.{k}" if where else k
                    if k in keyed:
                        obj[k] = self.keyed(v, w)
                    elif k in exempt or k in EXEMPT_SUBTREES:
                        self.scan_all(v, w)
                    else:
                        self.sweep(v, w)
                elif type(v) is float:
                    self._number(v)
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                if id(v) in done:
                    if not isinstance(v, str):
                        self.scan_all(v, f"{where}[{i}]")
                    continue
                if isinstance(v, str):
                    obj[i] = self.text(v, f"{where}[{i}]")
                elif isinstance(v, (dict, list)):
                    self.sweep(v, f"{where}[{i}]")
                elif type(v) is float:
                    self._number(v)
        return obj

    def _number(self, v: float) -> None:
        """A float that may have been a 64-bit-overflowing integer literal (`jsonx`)."""
        if v >= _INEXACT or v <= -_INEXACT:
            self.inexact = True

    def keyed(self, obj: Any, where: str, parent: str = "") -> Any:
        """A JSON schema the answer is written to: its property names mutated too.

        The answer that follows the schema comes back as text and is un-mutated
        whole, keys included, so renaming the schema's property (and
        definition) names round-trips.  The schema's own keywords (``type``,
        ``properties``, ``required``…) stay as they are, even when a repository
        happens to define a name spelled like one.
        """
        if isinstance(obj, str):
            return self.text(obj, where)
        if isinstance(obj, dict):
            rename = parent in SCHEMA_NAME_MAPS
            new: dict[str, Any] = {}
            for k, v in obj.items():
                if rename:
                    nk = self.text(k, f"{where} (key)")
                else:
                    self.scan_only(k, f"{where} (key)")
                    nk = k
                if not rename and k in EXEMPT_VALUES and isinstance(v, str):
                    self.scan_only(v, f"{where}.{k}")
                    new[nk] = self._mark(v)
                else:
                    new[nk] = self.keyed(v, f"{where}.{k}", "" if rename else k)
            return self._mark(new)
        if isinstance(obj, list):
            return self._mark([self.keyed(v, f"{where}[{i}]") for i, v in enumerate(obj)])
        if type(obj) is float:
            self._number(obj)
        return obj

    def scan_all(self, obj: Any, where: str) -> None:
        """Every string in `obj`, keys included, for the guard only (nothing changes)."""
        if isinstance(obj, str):
            if id(obj) not in self._done and obj not in self._cache._scan:
                self.scan_only(obj, where)
        elif isinstance(obj, dict):
            for k, v in obj.items():
                if k not in self._cache._scan:
                    self.scan_only(k, f"{where} (key)")
                self.scan_all(v, f"{where}.{k}")
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                self.scan_all(v, f"{where}[{i}]")
        elif type(obj) is float:
            self._number(obj)

    def scan_only(self, s: str, where: str) -> None:
        """Text sent as is (signed thinking) that the secret guard still reads."""
        if len(s) >= MIN_CACHED:
            if s in self._cache._scan:
                return
            self.fresh.append(("scan", s, [s, frozenset()]))
        self.new.append((where, s))

    def json_text(self, s: str, where: str) -> str:
        """A JSON-encoded argument string: its string values mutated, formatting kept."""
        entry = self._cache._json.get(s) if len(s) >= MIN_CACHED else None
        if entry is not None:
            self._cache.touch("json", s, entry)
            self.used.append(entry)
            return self._mark(str(entry[0]))
        out, scan = mutate_json_text(s, self.mapping)
        entry = [out, None, s]
        self.new.append((where, scan))
        if len(s) >= MIN_CACHED:
            self.fresh.append(("json", s, entry))
        self.used.append(entry)
        return self._mark(out)

    def value(self, obj: Any, where: str) -> Any:
        """A JSON value (tool input): every string value mutated, keys kept (and scanned)."""
        if isinstance(obj, str):
            return self.text(obj, where)
        if isinstance(obj, dict):
            for k in obj:
                self.scan_only(k, f"{where} (key)")
            return self._mark({k: self.value(v, f"{where}.{k}") for k, v in obj.items()})
        if isinstance(obj, list):
            return self._mark([self.value(v, f"{where}[{i}]") for i, v in enumerate(obj)])
        if type(obj) is float:
            self._number(obj)
        return obj

    def base64_file(self, data: str, media_type: str | None, where: str) -> str:
        """A base64 file (optionally a ``data:`` URL): text is mutated and re-encoded.

        A binary file is refused: its text (a PDF's) cannot be rewritten here.
        """
        prefix, payload = "", data
        if data.startswith("data:") and "," in data:
            head, _, payload = data.partition(",")
            prefix = head + ","
            if media_type is None:
                media_type = head[5:].split(";")[0] or None
        try:
            raw = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise Unprotectable(f"{where} is not valid base64") from None
        if media_type is not None and not _texty(media_type):
            raise Unprotectable(
                f"{where} is a {media_type} file, whose text pretense-dev cannot rewrite"
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Unprotectable(
                f"{where} is a binary file, whose text pretense-dev cannot rewrite"
            ) from None
        mutated = self.text(text, where)
        if mutated == text:
            return self._mark(data)
        return self._mark(prefix + base64.b64encode(mutated.encode("utf-8")).decode("ascii"))

    def generic(self, obj: Any, where: str) -> Any:
        """An unknown structure: string values mutated except under `OPAQUE_KEYS`."""
        if isinstance(obj, str):
            return self.text(obj, where)
        if isinstance(obj, dict):
            return {
                k: (v if k in OPAQUE_KEYS else self.generic(v, f"{where}.{k}"))
                for k, v in obj.items()
            }
        if isinstance(obj, list):
            return [self.generic(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        return obj

    def commit(self) -> None:
        """The request was allowed: remember its new leaves."""
        add = self._cache.add
        for kind, leaf, entry in self.fresh:
            add(kind, leaf, entry)
        self.fresh = []

    def absorb(self, other: Outgoing) -> None:
        """Take over what `other` walked (another part of the same request)."""
        self.new.extend(other.new)
        self.fresh.extend(other.fresh)
        self.used.extend(other.used)
        self.inexact = self.inexact or other.inexact

    def names(self) -> set[str]:
        """The protected names this request carried.

        Listed when the audit event is written (on the audit thread, after the
        answer): ~0.1 ms for 10 KB of new text is not spent before forwarding.
        An entry's names are kept in it, so a cached leaf is listed once.
        """
        out: set[str] = set(self.before()) if self.before is not None else set()
        return out | self.names_of(self.used)

    def names_of(self, entries: list[list[Any]]) -> set[str]:
        """The protected names of some of this request's entries."""
        return entries_names(self._cache, self.mapping, entries)


def entries_names(cache: LeafCache, mapping: IdentifierMap, entries: list[list[Any]]) -> set[str]:
    """The protected names of leaf entries ``[mutated, names or None, leaf]``, kept in them."""
    out: set[str] = set()
    for entry in entries:
        if entry[1] is None:
            entry[1] = leaf_names(cache, mapping, entry[2], entry[0])
        out |= entry[1]
    return out


def leaf_names(
    cache: LeafCache, mapping: IdentifierMap, original: str, mutated: str
) -> frozenset[str]:
    """The protected names in one leaf: those whose synthetic is a token of the mutated text.

    Empty when mutation changed nothing.  Tokens are cut as the mutation cuts
    them, and once more with JSON escapes as separators (a JSON-encoded leaf).
    """
    if mutated == original:
        return frozenset()
    marks, names = cache.synthetics(mapping)
    text = mutated.replace(_MARK, " ") if _MARK in mutated else mutated
    found = set(marks.sub(text)[0].split(_MARK)[1::2])
    if "\\" in text:  # read both ways: "\\" + a name is a plain text's separator too
        found.update(marks.sub(text, json=True)[0].split(_MARK)[1::2])
    return frozenset(names[s] for s in found)


def _texty(media_type: str) -> bool:
    mt = media_type.lower()
    return mt.startswith("text/") or mt.endswith(("json", "xml", "yaml", "javascript", "x-sh"))


def mutate_json_text(s: str, mapping: IdentifierMap) -> tuple[str, str]:
    """(mutated, text to scan) for a JSON text such as tool-call ``arguments``.

    Valid JSON: each string value is decoded, mutated and re-encoded in place;
    keys, whitespace and unchanged strings keep their bytes.  Not valid JSON
    (a stream cut short): the whole text is mutated with JSON escapes read as
    separators, keys included — better a renamed key than a leaked name.
    """
    try:
        json.loads(s)
    except ValueError:
        # Private access on purpose: IdentifierMap.mutate has no json switch, and
        # without it "\\nname" hides "name" behind the "n" of the escape.
        return mapping._mut.sub(s, json=True)[0], s
    parts: list[str] = []
    scan: list[str] = []
    pos = 0
    n = len(s)
    for m in _JSON_STRING.finditer(s):
        a, b = m.span()
        j = b
        while j < n and s[j] in " \t\r\n":
            j += 1
        decoded = json.loads(m.group())
        scan.append(decoded)
        if j < n and s[j] == ":":
            continue  # a key
        mutated = mapping.mutate(decoded)
        if mutated != decoded:
            parts.append(s[pos:a])
            parts.append(json.dumps(mutated, ensure_ascii=False))
            pos = b
    if not parts:
        return s, "\n".join(scan)
    parts.append(s[pos:])
    return "".join(parts), "\n".join(scan)


# -- outgoing: Anthropic Messages ------------------------------------------------


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise Unprotectable(what)


def _tool_files(messages: list[Any]) -> dict[str, str]:
    """tool_use id -> "<tool> <path>" for tools that read a file (for guard messages)."""
    out: dict[str, str] = {}
    for m in messages:
        content = m.get("content") if isinstance(m, dict) else None
        if not isinstance(content, list):
            continue
        for b in content:
            if isinstance(b, dict) and b.get("type") == "tool_use":
                inp = b.get("input")
                if isinstance(inp, dict):
                    path = inp.get("file_path") or inp.get("path") or inp.get("filePath")
                    if isinstance(path, str):
                        out[str(b.get("id"))] = f"{b.get('name')} {path}"
    return out


def mutate_anthropic(body: dict[str, Any], out: Outgoing) -> None:
    """Mutate a Messages (or count_tokens) request in place."""
    system = body.get("system")
    if isinstance(system, str):
        body["system"] = out.text(system, "system")
    elif isinstance(system, list):
        out.joined(_texts(system), "system")
        for i, b in enumerate(system):
            _anthropic_block(b, f"system[{i}]", out, {})
    else:
        _need(system is None, "`system` must be a string or a list of blocks")
    messages = body.get("messages")
    if messages is None:
        return
    _need(isinstance(messages, list), "`messages` must be a list")
    files = out.files
    files.update(_tool_files(messages))
    for i, m in enumerate(messages):
        _need(isinstance(m, dict), f"messages[{i}] must be an object")
        content = m.get("content")
        if isinstance(content, str):
            m["content"] = out.text(content, f"messages[{i}]")
        elif isinstance(content, list):
            out.joined(_texts(content), f"messages[{i}]")
            for j, b in enumerate(content):
                _anthropic_block(b, f"messages[{i}].content[{j}]", out, files)
        else:
            _need(content is None, f"messages[{i}].content must be a string or a list")


def _texts(blocks: list[Any], key: str = "text") -> list[str]:
    """The texts of the text blocks in a content list (for the split-secret scan)."""
    return [b[key] for b in blocks if isinstance(b, dict) and isinstance(b.get(key), str)]


def _str_field(b: dict[str, Any], key: str, where: str, out: Outgoing) -> None:
    """An optional text field: mutated when a string, refused when another shape."""
    if key in b and b[key] is not None:
        _need(isinstance(b[key], str), f"{where}.{key} must be a string")
        b[key] = out.text(b[key], f"{where}.{key}")


def _anthropic_block(b: Any, where: str, out: Outgoing, files: dict[str, str]) -> None:
    _need(isinstance(b, dict), f"{where} must be an object")
    t = b.get("type")
    _need(isinstance(t, str), f"{where} has no type")
    if t == "text":
        text = b.get("text")
        _need(isinstance(text, str), f"{where}.text must be a string")
        b["text"] = out.text(text, where)
        if b.get("citations"):
            b["citations"] = out.generic(b["citations"], f"{where}.citations")
    elif t in _UNTOUCHED_ANTHROPIC or server_tool_result(t):
        out.skip(b)  # signed or binary: sent as is; the sweep scans every string in it
    elif t in ("tool_use", "server_tool_use", "mcp_tool_use"):
        if "input" in b:
            b["input"] = out.value(b["input"], f"{where} ({t} {b.get('name')})")
    elif t in ("tool_result", "mcp_tool_result"):
        label = files.get(str(b.get("tool_use_id")))
        w = f"{where} (tool_result of {label})" if label else f"{where} (tool_result)"
        content = b.get("content")
        if isinstance(content, str):
            b["content"] = out.text(content, w)
        elif isinstance(content, list):
            out.joined(_texts(content), w)
            for k, c in enumerate(content):
                _anthropic_block(c, f"{w}.content[{k}]", out, files)
        else:
            _need(content is None, f"{where}.content must be a string or a list")
    elif t == "document":
        source = b.get("source")
        _need(isinstance(source, dict), f"{where}.source must be an object")
        st = source.get("type")
        if st == "text":
            data = source.get("data")
            _need(isinstance(data, str), f"{where}.source.data must be a string")
            source["data"] = out.text(data, where)
        elif st == "content":
            content = source.get("content")
            if isinstance(content, str):
                source["content"] = out.text(content, where)
            else:
                _need(isinstance(content, list), f"{where}.source.content must be a list")
                for k, c in enumerate(content):
                    _anthropic_block(c, f"{where}.source.content[{k}]", out, files)
        elif st == "base64":
            data = source.get("data")
            media = source.get("media_type")
            _need(isinstance(data, str), f"{where}.source.data must be a string")
            source["data"] = out.base64_file(
                data, media if isinstance(media, str) else None, f"{where}.source"
            )
        elif st not in ("url", "file"):  # a URL or an uploaded file id carries no text here
            raise Unprotectable(f"{where}.source.type {st!r} is not one pretense-dev can protect")
        for key in ("title", "context"):
            _str_field(b, key, where, out)
    elif t == "search_result":
        _str_field(b, "title", where, out)
        content = b.get("content")
        _need(isinstance(content, list), f"{where}.content must be a list of text blocks")
        out.joined(_texts(content), where)
        for k, c in enumerate(content):
            _anthropic_block(c, f"{where}.content[{k}]", out, files)
    else:
        mutated = out.generic(b, where)
        b.clear()
        b.update(mutated)


# -- outgoing: OpenAI Chat Completions -------------------------------------------


def _chat_content(content: Any, where: str, out: Outgoing) -> Any:
    if isinstance(content, str):
        return out.text(content, where)
    if content is None:
        return None
    _need(isinstance(content, list), f"{where} must be a string or a list of parts")
    for k, part in enumerate(content):
        _need(isinstance(part, dict), f"{where}[{k}] must be an object")
        t = part.get("type")
        if t == "text":
            _need(isinstance(part.get("text"), str), f"{where}[{k}].text must be a string")
            part["text"] = out.text(part["text"], f"{where}[{k}]")
        elif t == "refusal":
            if isinstance(part.get("refusal"), str):
                part["refusal"] = out.text(part["refusal"], f"{where}[{k}]")
        elif t in ("image_url", "input_audio"):
            out.skip(part)
        elif t == "file":
            f = part.get("file")
            _need(isinstance(f, dict), f"{where}[{k}].file must be an object")
            if "file_data" in f:
                _need(isinstance(f["file_data"], str), f"{where}[{k}].file_data must be a string")
                f["file_data"] = out.base64_file(f["file_data"], None, f"{where}[{k}].file")
        else:
            content[k] = out.generic(part, f"{where}[{k}]")
    return content


def _arguments(holder: Any, where: str, out: Outgoing) -> None:
    """Tool-call ``arguments``: a JSON text; any other shape is refused."""
    _need(isinstance(holder, dict), f"{where} must be an object")
    if "arguments" in holder:
        args = holder["arguments"]
        _need(isinstance(args, str), f"{where}.arguments must be a string of JSON")
        holder["arguments"] = out.json_text(args, f"{where} ({holder.get('name')})")


def mutate_chat(body: dict[str, Any], out: Outgoing) -> None:
    """Mutate a Chat Completions request in place."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise Unprotectable("`messages` must be a list")
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        _need(isinstance(m, dict), f"{where} must be an object")
        if isinstance(m.get("content"), list):
            out.joined(_texts(m["content"]), where)
        if "content" in m:
            m["content"] = _chat_content(m["content"], f"{where}.content", out)
        _str_field(m, "name", where, out)
        if isinstance(m.get("refusal"), str):
            m["refusal"] = out.text(m["refusal"], f"{where}.refusal")
        calls = m.get("tool_calls")
        if calls is not None:
            _need(isinstance(calls, list), f"{where}.tool_calls must be a list")
            for k, call in enumerate(calls):
                _need(isinstance(call, dict), f"{where}.tool_calls[{k}] must be an object")
                if "function" in call:
                    _arguments(call["function"], f"{where}.tool_calls[{k}]", out)
                elif "custom" in call:
                    custom = call["custom"]
                    _need(isinstance(custom, dict), f"{where}.tool_calls[{k}].custom")
                    _str_field(custom, "input", f"{where}.tool_calls[{k}].custom", out)
        if m.get("function_call") is not None:
            _arguments(m["function_call"], f"{where}.function_call", out)
    prediction = body.get("prediction")
    if isinstance(prediction, dict) and "content" in prediction:
        prediction["content"] = _chat_content(prediction["content"], "prediction", out)


# -- outgoing: OpenAI Responses --------------------------------------------------


def _responses_parts(content: Any, where: str, out: Outgoing) -> Any:
    if isinstance(content, str):
        return out.text(content, where)
    _need(isinstance(content, list), f"{where} must be a string or a list of parts")
    for k, part in enumerate(content):
        _need(isinstance(part, dict), f"{where}[{k}] must be an object")
        t = part.get("type")
        if t in ("input_text", "output_text", "text", "summary_text"):
            _need(isinstance(part.get("text"), str), f"{where}[{k}].text must be a string")
            part["text"] = out.text(part["text"], f"{where}[{k}]")
            if part.get("annotations"):
                part["annotations"] = out.generic(part["annotations"], f"{where}[{k}]")
        elif t == "refusal":
            if isinstance(part.get("refusal"), str):
                part["refusal"] = out.text(part["refusal"], f"{where}[{k}]")
        elif t in ("input_image", "input_audio"):
            out.skip(part)
        elif t == "input_file":
            if "file_data" in part:
                data = part["file_data"]
                _need(isinstance(data, str), f"{where}[{k}].file_data must be a string")
                part["file_data"] = out.base64_file(data, None, f"{where}[{k}]")
        else:
            content[k] = out.generic(part, f"{where}[{k}]")
    return content


def _responses_item(item: Any, where: str, out: Outgoing) -> Any:
    _need(isinstance(item, dict), f"{where} must be an object")
    t = item.get("type")
    if t is None or t == "message":
        if isinstance(item.get("content"), list):
            out.joined(_texts(item["content"]), where)
        if "content" in item:
            item["content"] = _responses_parts(item["content"], f"{where}.content", out)
        return item
    if t == "reasoning" or t == "item_reference":
        out.skip(item)
        return item
    if t == "function_call":
        _arguments(item, where, out)
        return item
    if t in ("function_call_output", "custom_tool_call_output"):
        output = item.get("output")
        if output is not None:
            item["output"] = _responses_parts(output, f"{where}.output", out)
        return item
    if t == "custom_tool_call":
        _str_field(item, "input", where, out)
        return item
    return out.generic(item, where)


def mutate_responses(body: dict[str, Any], out: Outgoing) -> None:
    """Mutate a Responses request in place."""
    instructions = body.get("instructions")
    if isinstance(instructions, str):
        body["instructions"] = out.text(instructions, "instructions")
    elif isinstance(instructions, list):
        body["instructions"] = [
            _responses_item(it, f"instructions[{i}]", out) for i, it in enumerate(instructions)
        ]
    else:
        _need(instructions is None, "`instructions` must be a string or a list")
    inp = body.get("input")
    if isinstance(inp, str):
        body["input"] = out.text(inp, "input")
    elif isinstance(inp, list):
        body["input"] = [_responses_item(it, f"input[{i}]", out) for i, it in enumerate(inp)]
    else:
        _need(inp is None, "`input` must be a string or a list of items")
    prompt = body.get("prompt")
    if isinstance(prompt, dict) and isinstance(prompt.get("variables"), dict):
        prompt["variables"] = out.generic(prompt["variables"], "prompt.variables")


# -- incoming: whole bodies -------------------------------------------------------

Unmut = Callable[[str], str]


def unmutate_all(obj: Any, unmut: Unmut) -> Any:
    """Every string in a JSON value, keys included (tool input objects)."""
    if isinstance(obj, str):
        return unmut(obj)
    if isinstance(obj, dict):
        return {unmut(k): unmutate_all(v, unmut) for k, v in obj.items()}
    if isinstance(obj, list):
        return [unmutate_all(v, unmut) for v in obj]
    return obj


def unmutate_generic(obj: Any, unmut: Unmut) -> Any:
    """String values except under `OPAQUE_KEYS` (citations, annotations)."""
    if isinstance(obj, str):
        return unmut(obj)
    if isinstance(obj, dict):
        return {k: (v if k in OPAQUE_KEYS else unmutate_generic(v, unmut)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [unmutate_generic(v, unmut) for v in obj]
    return obj


def unmutate_anthropic_block(b: dict[str, Any], m: IdentifierMap) -> None:
    """One response content block, in place (thinking and server results untouched)."""
    t = b.get("type")
    if t == "text":
        if isinstance(b.get("text"), str):
            b["text"] = m.unmutate(b["text"])
        if b.get("citations"):
            b["citations"] = unmutate_generic(b["citations"], m.unmutate)
    elif t in ("tool_use", "server_tool_use", "mcp_tool_use"):
        if "input" in b:
            b["input"] = unmutate_all(b["input"], m.unmutate)
    elif t in _UNTOUCHED_ANTHROPIC or not isinstance(t, str) or server_tool_result(t):
        return
    elif t not in ("tool_result", "mcp_tool_result", "document", "search_result"):
        # An unknown block type: the mirror of `Outgoing.generic` going out.
        mutated = unmutate_generic(b, m.unmutate)
        b.clear()
        b.update(mutated)


def unmutate_anthropic_message(msg: Any, m: IdentifierMap) -> Any:
    """A non-streamed Messages response."""
    if isinstance(msg, dict) and isinstance(msg.get("content"), list):
        for b in msg["content"]:
            if isinstance(b, dict):
                unmutate_anthropic_block(b, m)
    return msg


def unmutate_error(body: Any, m: IdentifierMap) -> Any:
    """An error body of either vendor: its message."""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            err["message"] = m.unmutate(err["message"])
        if isinstance(body.get("message"), str):
            body["message"] = m.unmutate(body["message"])
    return body


def unmutate_chat_completion(body: Any, m: IdentifierMap) -> Any:
    """A non-streamed Chat Completions response."""
    if not isinstance(body, dict) or not isinstance(body.get("choices"), list):
        return body
    for choice in body["choices"]:
        msg = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(msg, dict):
            continue
        for key in ("content", "refusal"):
            if isinstance(msg.get(key), str):
                msg[key] = m.unmutate(msg[key])
        for call in msg.get("tool_calls") or ():
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                fn["arguments"] = m.unmutate(fn["arguments"], json=True)
        fc = msg.get("function_call")
        if isinstance(fc, dict) and isinstance(fc.get("arguments"), str):
            fc["arguments"] = m.unmutate(fc["arguments"], json=True)
    return body


def unmutate_response_item(item: Any, m: IdentifierMap) -> Any:
    """One Responses output item, in place (reasoning untouched)."""
    if not isinstance(item, dict):
        return item
    t = item.get("type")
    if t == "message" and isinstance(item.get("content"), list):
        for part in item["content"]:
            unmutate_response_part(part, m)
    elif t == "function_call" and isinstance(item.get("arguments"), str):
        item["arguments"] = m.unmutate(item["arguments"], json=True)
    elif t == "custom_tool_call" and isinstance(item.get("input"), str):
        item["input"] = m.unmutate(item["input"])
    return item


def unmutate_response_part(part: Any, m: IdentifierMap) -> Any:
    """One content part of a Responses message, in place."""
    if isinstance(part, dict):
        if part.get("type") == "output_text" and isinstance(part.get("text"), str):
            part["text"] = m.unmutate(part["text"])
            if part.get("annotations"):
                part["annotations"] = unmutate_generic(part["annotations"], m.unmutate)
        elif part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
            part["refusal"] = m.unmutate(part["refusal"])
    return part


def unmutate_response_object(resp: Any, m: IdentifierMap) -> Any:
    """A Responses ``response`` object (non-streamed body, or inside stream events)."""
    if not isinstance(resp, dict):
        return resp
    for item in resp.get("output") or ():
        unmutate_response_item(item, m)
    if isinstance(resp.get("instructions"), str):
        resp["instructions"] = m.unmutate(resp["instructions"])
    elif isinstance(resp.get("instructions"), list):
        for item in resp["instructions"]:
            if isinstance(item, dict) and isinstance(item.get("content"), list):
                for part in item["content"]:
                    if isinstance(part, dict) and isinstance(part.get("text"), str):
                        part["text"] = m.unmutate(part["text"])
            elif isinstance(item, dict) and isinstance(item.get("content"), str):
                item["content"] = m.unmutate(item["content"])
    err = resp.get("error")
    if isinstance(err, dict) and isinstance(err.get("message"), str):
        err["message"] = m.unmutate(err["message"])
    return resp


def iter_strings(obj: Any) -> Iterator[str]:
    """Every string in a JSON value (keys included); for tests and the guard."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from iter_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from iter_strings(v)
