"""What the vendor reads, going out, and what the developer reads, coming back.

Outgoing, each API's request body is walked by an explicit table of the
fields that carry text (DESIGN, mutation semantics 2 and 6); every string
there is a *leaf* and goes through `Outgoing`, which mutates it, remembers it
for the secret guard when it is new, and caches the result per leaf: a resent
conversation costs a dictionary lookup per block and mutates to the same bytes
(semantics 7).  Fields of a block type we do not know are mutated generically
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

A body whose known fields have the wrong shape cannot be protected reliably and
raises `Unprotectable`: the proxy refuses it (fail closed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from pretense_dev.mutation import IdentifierMap

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
# Anthropic block types that pass untouched both ways.
_UNTOUCHED_ANTHROPIC = frozenset({"thinking", "redacted_thinking", "image", "container_upload"})
# Every non-empty leaf is cached: a hit is one dictionary lookup and skips both the
# mutation and the secret scan (a detector call costs ~7 µs even on 2 characters, so a
# 100-turn history of "ok" answers would otherwise cost 0.7 ms per request).
MIN_CACHED = 1
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
# The code part of a synthetic (``fn_q7k2md`` → ``q7k2md``, scheme 2's ``fn482`` → ``482``),
# to list the protected names a mutated text carries: 6 ms per MB where matching whole
# synthetics costs 31 ms.
_CODE = re.compile(r"_([0-9A-Za-z]{6,})(?![0-9A-Za-z_])|(?<=[A-Za-z])([0-9]{3,})(?![0-9A-Za-z_])")

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class Unprotectable(ValueError):
    """The body cannot be parsed well enough to be protected (a 400, nothing forwarded)."""


def server_tool_result(block_type: str) -> bool:
    """Anthropic server-tool result blocks (vendor data the client echoes back)."""
    return block_type.endswith("_tool_result") and block_type not in (
        "tool_result",
        "mcp_tool_result",
    )


class LeafCache:
    """Per-repo cache: leaf text -> [mutated text, protected names or None].

    Bounded by `budget` (characters of keys plus values, plus `ENTRY_OVERHEAD`
    per entry for the objects around them) with least-recently-used eviction.
    Cleared when the map grows (a grown map may protect a name an
    old entry sent in clear) or the policy changes; entries are only added for
    leaves of requests that passed the secret guard, so a blocked leaf is
    scanned again when it comes back.
    """

    __slots__ = ("_codes", "_json", "_scan", "_text", "budget", "size")

    ENTRY_OVERHEAD = 160  # bytes: two str headers, the list, the dict slot

    def __init__(self, budget: int = 24_000_000) -> None:
        self._text: dict[str, list[Any]] = {}
        self._json: dict[str, list[Any]] = {}
        self._scan: dict[str, list[Any]] = {}  # scanned, sent as is (thinking)
        self._codes: dict[str, list[tuple[str, str]]] | None = None
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
        self._codes = None
        self.size = 0

    def codes(self, mapping: IdentifierMap) -> dict[str, list[tuple[str, str]]]:
        """Synthetic code → [(synthetic, name)] for the map the cache belongs to."""
        if self._codes is None:
            codes: dict[str, list[tuple[str, str]]] = {}
            for name, syn in mapping.forward.items():
                core = syn.lstrip("_")
                code = core.partition("_")[2]
                if not code:  # scheme 2: the digits, and the whole core after a "_"
                    code = core.lstrip(_LETTERS)
                    if core != syn:
                        codes.setdefault(core, []).append((syn, name))
                codes.setdefault(code, []).append((syn, name))
            self._codes = codes
        return self._codes

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

    __slots__ = ("_cache", "_mut", "fresh", "mapping", "new", "used")

    def __init__(self, mapping: IdentifierMap, cache: LeafCache) -> None:
        self.mapping = mapping
        self._mut = mapping.mutate
        self._cache = cache
        # (where, text to scan) for every leaf not seen before
        self.new: list[tuple[str, str]] = []
        # (kind, leaf, entry) added to the cache once the request is allowed
        self.fresh: list[tuple[str, str, list[Any]]] = []
        # every entry of this request (names for the audit log)
        self.used: list[list[Any]] = []

    def _names(self, original: str, mutated: str) -> frozenset[str]:
        """The protected names in one leaf (empty when mutation changed nothing)."""
        if mutated == original:
            return frozenset()
        codes = self._cache.codes(self.mapping)
        out: set[str] = set()
        found = {a or b for a, b in _CODE.findall(mutated)}
        for code in found.intersection(codes):
            pairs = codes[code]
            # Scheme 2's codes (3 digits after any letter) occur in ordinary text: check
            # its synthetics themselves.
            sure = len(pairs) == 1 and "_" in pairs[0][0].lstrip("_")
            out.update(n for syn, n in pairs if sure or syn in mutated)
        return frozenset(out)

    def text(self, s: str, where: str) -> str:
        """A text leaf, as the vendor will read it."""
        if len(s) < MIN_CACHED:
            self.new.append((where, s))
            return s
        entry = self._cache._text.get(s)
        if entry is not None:
            self._cache.touch("text", s, entry)
            self.used.append(entry)
            return str(entry[0])
        out = self._mut(s)
        entry = [out, self._names(s, out)]
        self.new.append((where, s))
        self.fresh.append(("text", s, entry))
        self.used.append(entry)
        return out

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
            return str(entry[0])
        out, scan = mutate_json_text(s, self.mapping)
        entry = [out, self._names(s, out)]
        self.new.append((where, scan))
        if len(s) >= MIN_CACHED:
            self.fresh.append(("json", s, entry))
        self.used.append(entry)
        return out

    def value(self, obj: Any, where: str) -> Any:
        """A JSON value (tool input): every string value mutated, keys kept."""
        if isinstance(obj, str):
            return self.text(obj, where)
        if isinstance(obj, dict):
            return {k: self.value(v, f"{where}.{k}") for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.value(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        return obj

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

    def names(self) -> set[str]:
        """The protected names this request carried."""
        out: set[str] = set()
        for entry in self.used:
            out |= entry[1]
        return out


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
        for i, b in enumerate(system):
            _anthropic_block(b, f"system[{i}]", out, {})
    else:
        _need(system is None, "`system` must be a string or a list of blocks")
    messages = body.get("messages")
    if messages is None:
        return
    _need(isinstance(messages, list), "`messages` must be a list")
    files = _tool_files(messages)
    for i, m in enumerate(messages):
        _need(isinstance(m, dict), f"messages[{i}] must be an object")
        content = m.get("content")
        if isinstance(content, str):
            m["content"] = out.text(content, f"messages[{i}]")
        elif isinstance(content, list):
            for j, b in enumerate(content):
                _anthropic_block(b, f"messages[{i}].content[{j}]", out, files)
        else:
            _need(content is None, f"messages[{i}].content must be a string or a list")


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
    elif t == "thinking":
        if isinstance(b.get("thinking"), str):
            out.scan_only(b["thinking"], where)
    elif t in _UNTOUCHED_ANTHROPIC or server_tool_result(t):
        return
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
            for k, c in enumerate(content):
                _anthropic_block(c, f"{w}.content[{k}]", out, files)
        else:
            _need(content is None, f"{where}.content must be a string or a list")
    elif t == "document":
        source = b.get("source")
        if isinstance(source, dict):
            st = source.get("type")
            if st == "text":
                data = source.get("data")
                if not isinstance(data, str):
                    raise Unprotectable(f"{where}.source.data must be a string")
                source["data"] = out.text(data, where)
            elif st == "content":
                content = source.get("content")
                if isinstance(content, str):
                    source["content"] = out.text(content, where)
                elif isinstance(content, list):
                    for k, c in enumerate(content):
                        _anthropic_block(c, f"{where}.source.content[{k}]", out, files)
        for key in ("title", "context"):
            if isinstance(b.get(key), str):
                b[key] = out.text(b[key], f"{where}.{key}")
    elif t == "search_result":
        if isinstance(b.get("title"), str):
            b["title"] = out.text(b["title"], f"{where}.title")
        content = b.get("content")
        if isinstance(content, list):
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
        elif t in ("image_url", "input_audio", "file"):
            continue
        else:
            content[k] = out.generic(part, f"{where}[{k}]")
    return content


def mutate_chat(body: dict[str, Any], out: Outgoing) -> None:
    """Mutate a Chat Completions request in place."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise Unprotectable("`messages` must be a list")
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        _need(isinstance(m, dict), f"{where} must be an object")
        if "content" in m:
            m["content"] = _chat_content(m["content"], f"{where}.content", out)
        if isinstance(m.get("refusal"), str):
            m["refusal"] = out.text(m["refusal"], f"{where}.refusal")
        calls = m.get("tool_calls")
        if calls is not None:
            _need(isinstance(calls, list), f"{where}.tool_calls must be a list")
            for k, call in enumerate(calls):
                _need(isinstance(call, dict), f"{where}.tool_calls[{k}] must be an object")
                fn = call.get("function")
                if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                    fn["arguments"] = out.json_text(
                        fn["arguments"], f"{where}.tool_calls[{k}] ({fn.get('name')})"
                    )
                elif isinstance(call.get("custom"), dict):
                    custom = call["custom"]
                    if isinstance(custom.get("input"), str):
                        custom["input"] = out.text(custom["input"], f"{where}.tool_calls[{k}]")
        fc = m.get("function_call")
        if isinstance(fc, dict) and isinstance(fc.get("arguments"), str):
            fc["arguments"] = out.json_text(fc["arguments"], f"{where}.function_call")
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
        elif t in ("input_image", "input_file", "input_audio"):
            continue
        else:
            content[k] = out.generic(part, f"{where}[{k}]")
    return content


def _responses_item(item: Any, where: str, out: Outgoing) -> Any:
    _need(isinstance(item, dict), f"{where} must be an object")
    t = item.get("type")
    if t is None or t == "message":
        if "content" in item:
            item["content"] = _responses_parts(item["content"], f"{where}.content", out)
        return item
    if t == "reasoning" or t == "item_reference":
        return item
    if t == "function_call":
        if isinstance(item.get("arguments"), str):
            item["arguments"] = out.json_text(item["arguments"], f"{where} ({item.get('name')})")
        return item
    if t in ("function_call_output", "custom_tool_call_output"):
        output = item.get("output")
        if output is not None:
            item["output"] = _responses_parts(output, f"{where}.output", out)
        return item
    if t == "custom_tool_call":
        if isinstance(item.get("input"), str):
            item["input"] = out.text(item["input"], where)
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
