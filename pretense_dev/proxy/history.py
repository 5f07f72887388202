"""Resent conversations: a history already mutated is reused as bytes; only new turns are walked.

Coding agents resend the whole conversation on every turn: a 1 MB history
plus one new message.  Parsing, walking and re-serialising that megabyte again
costs more than forwarding it (orjson alone parses 1 MB in ~1 ms).  But a
message's mutated bytes are a function of its own bytes only: the walker
(`transform`) handles each element of the history array (``messages``)
independently, the mutation is deterministic (same input, same map, same key,
same output), and the secret guard reads each element on its own (the
"adjacent blocks joined" scan stays inside one message).  So after a request
is allowed, its history array is remembered as a `State`:

* ``prefix``: the raw body up to the array's last element, exactly as the
  client sent it;
* ``units``: each element's mutated JSON, as the proxy serialised it;
* the protected names those elements carried (audit) and the tool calls that
  read files (labels in the guard's messages).

The next request that starts with the same ``prefix`` bytes (one ``memcmp``)
carries the same elements at the same place, followed by a comma and the new
elements (or by the closing bracket).  Only the bytes after the prefix are
read: the new elements (found by a bracket scan that skips strings) are parsed
and walked, the rest of the body (model, system prompt, tools) is parsed with
a random placeholder where the array was, and the request sent upstream is
re-serialised by orjson with the remembered units spliced in as
`orjson.Fragment`.  orjson writes a list as its elements' bytes joined by
commas, so the bytes are exactly those of a proxy without the cache
(tests/proxy/test_history.py checks it with hypothesis).

Why this is safe:

* a remembered element is reused only when the raw bytes are identical, up to
  and including every earlier byte of the body (so it sits at the same place
  in the same structure); the placeholder is a fresh random string per request
  and the parsed rest must hold it under the history key, so a second
  ``messages`` key later in the body (the last one wins) sends the request down
  the ordinary path;
* states are stored only for requests the secret guard let through, and they
  live in the repository's `transform.LeafCache` lifetime: the proxy drops them
  whenever the map grows or the policy, baseline or detector changes (`repos`);
* everything else (the new elements, the rest of the body, headers) goes
  through the walker, the deny-by-default sweep and the secret guard as before;
  anything unusual (a refusal, a float that may be a 64-bit integer, JSON that
  orjson cannot write back) is handled by the ordinary path from the raw body,
  so refusals and their messages are the same as without the cache.

The first time a long history is seen its array is located with msgspec
(`msgspec.Raw` gives the array's bytes without building it; 0.8 ms per MB),
then processed the same way with an empty state.

A route that signs over the body (Bedrock's SigV4) needs the SHA-256 of the
megabyte received (to check the client's signature) and of the megabyte sent
(for the new one): 1-3 ms of hashing per request.  Both bodies start with
bytes an earlier request already had: the received body with its base state's
``prefix`` (proved by `HistoryCache.find`'s byte comparison), the sent body
with the same bytes the base's request sent up to its last element (the same
head of the body, "[" and the same units).  So a state keeps the SHA-256
states (`hashlib` ``copy()``) at those two boundaries (`Marks`), and
`Digests` resumes from them and hashes only the bytes after.  A SHA-256 state
is a pure function of the bytes it has read: resuming it over the rest gives
exactly ``sha256(whole body)``, and it is resumed only when the body is the
very object this request's comparison covered.  Anything else (another body
object, a different head, no mark yet) hashes the whole body.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import orjson

from pretense_dev.mutation import IdentifierMap
from pretense_dev.proxy import jsonx
from pretense_dev.proxy.guard import Scanner
from pretense_dev.proxy.guard import scan as guard_scan
from pretense_dev.proxy.transform import LeafCache, Outgoing, Unprotectable, entries_names

# Below this a body is parsed whole: the split costs more than it saves.
MIN_BYTES = 32 * 1024
# Everything up to the next bracket, strings skipped whole (a bracket in a string is text).
_SKIP = re.compile(rb'[^"\[\]{}]*(?:"[^"\\]*(?:\\.[^"\\]*)*"[^"\[\]{}]*)*', re.S)
_WS = b" \t\r\n"
_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
_PROBE = 256


class Names:
    """The protected names of a state's elements, listed when first asked (on the audit thread).

    Listing names costs ~0.1 ms per 10 KB of mutated text, so it is not done
    before forwarding; a state's names are its parent's plus those of the
    entries its own new elements used.
    """

    __slots__ = ("_base", "_cache", "_entries", "_mapping", "_names")

    def __init__(
        self,
        base: Names | None,
        cache: LeafCache,
        mapping: IdentifierMap,
        entries: list[list[Any]],
    ) -> None:
        self._base = base
        self._cache: LeafCache | None = cache
        self._mapping: IdentifierMap | None = mapping
        self._entries = entries
        self._names: frozenset[str] | None = None

    def get(self) -> frozenset[str]:
        """The names (computed once; a long chain of turns is walked without recursion)."""
        chain: list[Names] = []
        node: Names | None = self
        while node is not None and node._names is None:
            chain.append(node)
            node = node._base
        names = node._names if node is not None and node._names is not None else frozenset()
        for n in reversed(chain):
            assert n._cache is not None and n._mapping is not None
            names = names | entries_names(n._cache, n._mapping, n._entries)
            n._names, n._base, n._cache, n._mapping, n._entries = names, None, None, None, []
        return names


class Marks:
    """SHA-256 states at a `State`'s two boundaries, set the first time a signer asks.

    ``received`` has read exactly ``State.prefix``; ``sent`` has read exactly
    the first ``sent_len`` bytes of the body sent for that state: ``head``
    (the body up to the history array), ``[`` and ``State.units`` joined by
    commas.
    """

    __slots__ = ("head", "received", "sent", "sent_len")

    def __init__(self) -> None:
        self.received: hashlib._Hash | None = None
        self.sent: hashlib._Hash | None = None
        self.head = b""
        self.sent_len = 0


@dataclass(frozen=True)
class State:
    """A history array already mutated and allowed (module docstring)."""

    api: str
    prefix: bytes  # the raw body up to the array's last element (or its opening bracket)
    open_at: int  # offset of the array's opening bracket
    units: tuple[bytes, ...]  # each element as sent upstream
    names: Names
    files: dict[str, str]
    size: int  # bytes held (prefix + units)
    serial: int  # stores made so far in this cache
    parent: int  # the serial of the state it extends, or -1
    marks: Marks = field(default_factory=Marks, compare=False)


class HistoryCache:
    """Per-repository states, least recently used dropped beyond `budget` bytes or `limit`."""

    def __init__(self, budget: int = 64_000_000, limit: int = 32) -> None:
        self._states: list[State] = []
        self.budget = budget
        self.limit = limit
        self.serial = 0

    def clear(self) -> None:
        """Forget every state (the map or the policy changed)."""
        self._states.clear()

    def __len__(self) -> int:
        return len(self._states)

    def find(self, raw: bytes, api: str) -> State | None:
        """The longest state whose prefix `raw` starts with.

        A conversation keeps its chain of states (each turn extends the last;
        a rewind or a retry extends an earlier one), and only the latest child
        of each, so a lookup compares against few prefixes.
        """
        n = len(raw)
        for s in sorted(self._states, key=lambda s: len(s.prefix), reverse=True):
            if s.api == api and len(s.prefix) < n and raw.startswith(s.prefix):
                self._states.remove(s)
                self._states.append(s)
                return s
        return None

    def store(self, state: State) -> None:
        """Remember `state` (most recent) in place of an earlier child of its parent."""
        if state.parent >= 0:
            self._states = [s for s in self._states if s.parent != state.parent]
        self._states.append(state)
        total = sum(s.size for s in self._states)
        while self._states and (len(self._states) > self.limit or total > self.budget):
            total -= self._states.pop(0).size


@dataclass
class Split:
    """A body cut at its history array: the rest parsed, the new elements parsed."""

    key: str
    raw: bytes
    body: dict[str, Any]  # the rest of the body; body[key] is filled in by `protect`
    new: list[Any]  # the elements not seen before, parsed
    base: State | None  # what the elements before them were
    placeholder: str  # where the array was in `body`
    open_at: int
    close_at: int  # offset of the array's closing bracket
    digests: Digests | None = None  # set by `assemble`: the bodies' hashes, resumed


def sha256_hex(body: bytes) -> str:
    """The hex SHA-256 of `body`, hashed whole."""
    return hashlib.sha256(body).hexdigest()


class Digests:
    """The hex SHA-256 of one request's body as received and as sent (module docstring).

    Each side resumes from its base state's mark when there is one and sets
    the new state's mark on the way (one pass over the new bytes).  A body
    that is not the very object this request was cut from or assembled into
    is hashed whole, as is a sent body whose head differs from the base's.
    """

    __slots__ = ("_base", "_head", "_payload", "_raw", "_sent_len", "_state")

    def __init__(
        self,
        raw: bytes,
        base: State | None,
        state: State | None,
        payload: bytes,
        head: bytes,
        sent_len: int,
    ) -> None:
        self._raw, self._base, self._state = raw, base, state
        self._payload, self._head, self._sent_len = payload, head, sent_len

    def received(self, body: bytes) -> str:
        """sha256(`body`).hexdigest(), resumed at the base's prefix when `body` is the one cut."""
        if body is not self._raw:
            return sha256_hex(body)
        base, state = self._base, self._state
        # `find` compared raw[: len(base.prefix)] with base.prefix byte for byte.
        if base is not None and base.marks.received is not None:
            h, at = base.marks.received.copy(), len(base.prefix)
        else:
            h, at = hashlib.sha256(), 0
        view = memoryview(body)
        if state is not None and state.marks.received is None and len(state.prefix) >= at:
            h.update(view[at : len(state.prefix)])  # state.prefix is a slice of this body
            state.marks.received = h.copy()
            at = len(state.prefix)
        h.update(view[at:])
        return h.hexdigest()

    def sent(self, body: bytes) -> str:
        """sha256(`body`).hexdigest(), resumed at the base's mark when `body` is the one built."""
        if body is not self._payload:
            return sha256_hex(body)
        base, state = self._base, self._state
        marks = base.marks if base is not None else None
        # The body is head + "[" + ",".join(base.units + new units) + …: with the same
        # head, its first marks.sent_len bytes are the ones that mark has read.
        if marks is not None and marks.sent is not None and marks.head == self._head:
            h, at = marks.sent.copy(), marks.sent_len
        else:
            h, at = hashlib.sha256(), 0
        view = memoryview(body)
        if state is not None and state.marks.sent is None and self._sent_len >= at:
            h.update(view[at : self._sent_len])
            state.marks.head, state.marks.sent_len = self._head, self._sent_len
            state.marks.sent = h.copy()
            at = self._sent_len
        h.update(view[at:])
        return h.hexdigest()


def _close(raw: bytes, pos: int) -> int | None:
    """Offset of the bracket that closes the array whose elements start at `pos`."""
    n = len(raw)
    depth = 0
    match = _SKIP.match
    while True:
        m = match(raw, pos)
        pos = m.end() if m is not None else pos
        if pos >= n:
            return None
        ch = raw[pos]
        if ch in b"[{":
            depth += 1
        elif ch in b"]}":
            if depth == 0:
                return pos if ch == 0x5D else None
            depth -= 1
        else:  # an unterminated string
            return None
        pos += 1


def _locate(raw: bytes, key: str) -> tuple[int, int] | None:
    """(open, close) offsets of the top-level `key` array, for a body seen the first time."""
    try:
        top = _TOP.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    value = top.get(key)
    if value is None:
        return None
    array = bytes(value)
    if not array.startswith(b"[") or not array.endswith(b"]"):
        return None
    # The first occurrence that matches whole; `split` proves it is the key's value.
    probe = array[:_PROBE]
    at = raw.find(probe)
    for _ in range(4):
        if at < 0:
            return None
        if raw.startswith(array, at):
            return at, at + len(array) - 1
        at = raw.find(probe, at + 1)
    return None


def _after(raw: bytes, base: State) -> tuple[int, int] | None:
    """(start, close) of the elements that follow `base`'s in `raw`."""
    pos = len(base.prefix)
    n = len(raw)
    while pos < n and raw[pos] in _WS:
        pos += 1
    if pos >= n:
        return None
    if raw[pos] == 0x5D:  # "]": the same history, nothing new
        return pos, pos
    if raw[pos] == 0x2C and base.units:  # ",": new elements follow
        close_at = _close(raw, pos + 1)
        return None if close_at is None else (pos + 1, close_at)
    return None


def split(raw: bytes, api: str, key: str, cache: HistoryCache) -> Split | None:
    """`raw` cut at its `key` array, or None (then the body is parsed whole)."""
    base = cache.find(raw, api)
    after = _after(raw, base) if base is not None else None
    if base is not None and after is not None:
        open_at = base.open_at
        start, close_at = after
    else:
        base = None
        if len(raw) < MIN_BYTES:
            return None
        located = _locate(raw, key)
        if located is None:
            return None
        open_at, close_at = located
        start = open_at + 1
    placeholder = "pretense-history-" + secrets.token_hex(16)
    rest = raw[:open_at] + b'"' + placeholder.encode() + b'"' + raw[close_at + 1 :]
    try:
        body = jsonx.loads(rest)
        new = jsonx.loads(b"[" + raw[start:close_at] + b"]")
    except jsonx.JSONError:
        return None
    if not isinstance(body, dict) or body.get(key) != placeholder or not isinstance(new, list):
        return None
    if base is not None and start != close_at and not new:
        return None  # "[old,]": not JSON; the ordinary path refuses it
    return Split(key, raw, body, new, base, placeholder, open_at, close_at)


def protect(
    split: Split,
    walk: Callable[[dict[str, Any], Outgoing], None],
    mapping: IdentifierMap,
    cache: LeafCache,
) -> tuple[Outgoing, Outgoing]:
    """(rest, new elements) walked, each through the API's walker and sweep.

    Raises `transform.Unprotectable` like the walker; the caller then takes
    the ordinary path, which refuses the request with the same message.
    """
    body = split.body
    body[split.key] = []
    out = Outgoing(mapping, cache)
    walk(body, out)
    elements = Outgoing(mapping, cache)
    if split.base is not None:
        elements.files.update(split.base.files)
    walk({split.key: split.new}, elements)
    return out, elements


def assemble(split: Split, elements: Outgoing, cache: HistoryCache, api: str) -> bytes | None:
    """The body to send, and the state remembered for the next request.

    None when orjson cannot write a part back (an integer beyond 64 bits, a
    lone surrogate): the ordinary path then writes the whole body.
    """
    try:
        units = tuple(orjson.dumps(m) for m in split.new)
    except (orjson.JSONEncodeError, TypeError):
        return None
    base = split.base
    every = base.units + units if base is not None else units
    # The rest is written with the placeholder back in the array's place, which is
    # then replaced by the elements: orjson writes a list as "[" + ",".join + "]".
    body = split.body
    body[split.key] = split.placeholder
    try:
        rest = orjson.dumps(body)
    except (orjson.JSONEncodeError, TypeError):
        return None
    mark = b'"' + split.placeholder.encode() + b'"'
    at = rest.find(mark)
    if at < 0:
        return None
    head, joined = rest[:at], b",".join(every)
    payload = b"".join((head, b"[", joined, b"]", rest[at + len(mark) :]))
    if not every:
        split.digests = Digests(split.raw, base, None, payload, head, 0)
        return payload
    # Up to the last element's last byte: a client that indents puts a newline before
    # the closing bracket, and a comma there next time.
    prefix = split.raw[: split.close_at].rstrip(_WS)
    held = sum(len(u) for u in units) + (base.size - len(base.prefix) if base else 0)
    names = Names(
        base.names if base is not None else None, elements.cache, elements.mapping, elements.used
    )
    state = State(
        api,
        prefix,
        split.open_at,
        every,
        names,
        dict(elements.files),
        held + len(prefix),
        cache.serial,
        base.serial if base is not None else -1,
    )
    cache.serial += 1
    cache.store(state)
    split.digests = Digests(split.raw, base, state, payload, head, len(head) + 1 + len(joined))
    return payload


def reuse(
    split: Split,
    walk: Callable[[dict[str, Any], Outgoing], None],
    mapping: IdentifierMap,
    cache: LeafCache,
    history: HistoryCache,
    api: str,
    scanner: Scanner,
    also: Callable[[Outgoing], object] | None = None,
) -> tuple[Outgoing, bytes] | None:
    """The whole cached path: walk the new part, scan it, splice the body back.

    None for anything but a clean pass (a shape the walker refuses, a possibly
    rounded integer, a secret, a body `assemble` cannot splice): the caller then
    takes the ordinary path, which decides and words any refusal as without the
    cache.  `also` runs on the walked request before the scan (the proxy mutates
    its headers there, so they are scanned with the body).
    """
    try:
        out, elements = protect(split, walk, mapping, cache)
    except Unprotectable:
        return None
    if out.inexact or elements.inexact:
        return None
    if also is not None:
        also(out)
    out.absorb(elements)
    if guard_scan(scanner, out.new):
        return None
    payload = assemble(split, elements, history, api)
    if payload is None:
        return None
    out.commit()
    if split.base is not None:
        out.before = split.base.names.get
    return out, payload
