"""The identifier map and the text transform in both directions.

The round trip ``unmutate(mutate(x)) == x`` holds for every text ``x`` (docs/architecture.md,
mutation semantics 4) because the outgoing transform is injective on tokens:

* an active original name becomes its synthetic;
* a token that is already one of our synthetics, or that starts with
  `ESCAPE_PREFIX`, gains the prefix (``fn_q7k2md`` → ``pretense_esc_fn_q7k2md``);
* every other token is unchanged.

Coming back, a synthetic becomes its original, a token starting with the prefix
loses one prefix, and everything else is unchanged.  Names that are no longer
defined stay in the reverse table (a synthetic, once issued, keeps its meaning),
so the escape covers them too.  Escapes are rare: they only appear when the
text being sent already contains our own output, e.g. a pasted mutated diff.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import AnyStr, Generic

from pretense_dev.mutation.table import TokenTable

ESCAPE_PREFIX = "pretense_esc_"


class IdentifierMap:
    """A snapshot of name ↔ synthetic, with its two compiled transforms.

    `forward` holds the names that are protected now; `issued` every synthetic
    ever issued for this repo (original by synthetic).  Instances are immutable:
    `grow` returns a new map, so a proxy session can swap maps atomically and a
    map only ever grows within a session (docs/architecture.md, mutation contract rule 7).
    """

    __slots__ = ("_mut", "_unmut", "forward", "issued")

    def __init__(self, forward: Mapping[str, str], issued: Mapping[str, str] | None = None) -> None:
        self.forward: dict[str, str] = dict(forward)
        rev = {s: n for n, s in self.forward.items()}
        if issued:
            rev.update(issued)
        self.issued: dict[str, str] = rev
        out = {s: ESCAPE_PREFIX + s for s in rev}
        out.update(self.forward)
        self._mut = TokenTable(out, ESCAPE_PREFIX, strip=False)
        self._unmut = TokenTable(rev, ESCAPE_PREFIX, strip=True)

    def __len__(self) -> int:
        return len(self.forward)

    def __contains__(self, name: object) -> bool:
        return name in self.forward

    def synthetic(self, name: str) -> str | None:
        """The synthetic a protected name is sent as, or None."""
        return self.forward.get(name)

    def original(self, synthetic: str) -> str | None:
        """The real name behind a synthetic, or None."""
        return self.issued.get(synthetic)

    def mutate(self, text: AnyStr) -> AnyStr:
        """What the vendor sees: protected names replaced by their synthetics."""
        return self._mut.sub(text)[0]

    def unmutate(self, text: AnyStr, *, json: bool = False) -> AnyStr:
        """The inverse of `mutate`; `json=True` reads JSON escapes as separators."""
        return self._unmut.sub(text, json=json)[0]

    def grow(
        self, forward: Mapping[str, str], issued: Mapping[str, str] | None = None
    ) -> IdentifierMap:
        """A new map with these entries added; existing entries are kept as they are."""
        fwd = dict(forward)
        fwd.update(self.forward)
        iss = dict(issued or {})
        iss.update(self.issued)
        return IdentifierMap(fwd, iss)

    def stream_unmutator(self, *, json: bool = False) -> StreamUnmutator[str]:
        """A stateful un-mutator for one stream of text (one content block)."""
        return StreamUnmutator(self._unmut, "", json=json)

    def stream_unmutator_bytes(self, *, json: bool = False) -> StreamUnmutator[bytes]:
        """The same over raw bytes, which may be cut anywhere, even inside a character."""
        return StreamUnmutator(self._unmut, b"", json=json)


def _decode_instead(raw: bytes, start: int, end: int) -> None:
    """`StreamUnmutator.feed_string` without the kernel: always "decode and `feed`"."""
    return None


class StreamUnmutator(Generic[AnyStr]):
    """Un-mutates a text that arrives in chunks split anywhere.

    Holds back at most one partial token (or, in JSON mode, one unfinished
    escape) between chunks, so a synthetic cut across two SSE events is still
    replaced and every other byte goes out as soon as it arrives.  Works on str
    or on bytes; bytes may be cut inside a UTF-8 sequence, since tokens are
    ASCII and non-ASCII bytes pass through untouched.
    """

    __slots__ = ("_empty", "_json", "_pending", "_stream", "_sub", "feed", "feed_string", "flush")

    # `feed(chunk)` returns what can be emitted now (the rest waits for the next
    # chunk); `flush()` emits whatever was held back at the end of the stream.
    feed: Callable[[AnyStr], AnyStr]
    flush: Callable[[], AnyStr]
    # `feed_string(raw, start, end)`: the same step for a text that sits JSON-escaped in
    # raw[start:end] (a streamed delta inside its event's bytes), done on those bytes:
    # `raw` with that part un-mutated, `raw` itself when nothing changed, b"" when all
    # of it is held back, or None when the caller must decode it and call `feed`
    # (not valid JSON string content, an escape of a name character or of a
    # surrogate, or no kernel).  It shares the held-back text with `feed`.
    feed_string: Callable[[bytes, int, int], bytes | None]

    def __init__(self, table: TokenTable, empty: AnyStr, *, json: bool = False) -> None:
        self._sub = table.sub
        self._json = json
        self._empty: AnyStr = empty
        self._pending: AnyStr = empty
        # Called once per SSE delta, often a few bytes: with the kernel, `feed` is
        # one C call that keeps the held-back text itself (16-byte chunks: see
        # bench/mutation.py, against a Python wrapper around the kernel's `sub`).
        stream = table.c_stream(json=json, is_bytes=isinstance(empty, bytes))
        self._stream = stream
        if stream is not None:
            self.feed = stream.feed
            self.flush = stream.flush
            self.feed_string = stream.feed_string
        else:
            self.feed = self._feed
            self.flush = self._flush
            self.feed_string = _decode_instead

    @property
    def pending(self) -> AnyStr:
        """What is held back: one partial token or one unfinished JSON escape, at most."""
        if self._stream is not None:
            held: AnyStr = self._stream.pending
            return held
        return self._pending

    def _feed(self, chunk: AnyStr) -> AnyStr:
        if self._pending:
            chunk = self._pending + chunk
        out, held = self._sub(chunk, json=self._json, final=False)
        self._pending = chunk[len(chunk) - held :] if held else self._empty
        return out

    def _flush(self) -> AnyStr:
        pending, self._pending = self._pending, self._empty
        if not pending:
            return pending
        return self._sub(pending, json=self._json, final=True)[0]
