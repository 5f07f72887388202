"""The keyword prefilter: one pass over the text finds every rule keyword (regexes run only there).

Only the rules whose keywords occur run, and only on the lines that hold them.
Two backends, chosen by measurement (bench/secrets_prefilter.py, 11 MB of the
Python standard library, 244 keywords, one core):

* hyperscan (Intel's multi-literal DFA): ~550 MB/s, 5 ms to compile;
* pyahocorasick over the lower-cased text: ~75 MB/s (the portable fallback,
  used where no hyperscan wheel exists, e.g. Windows);
* for comparison, a `re` alternation of the keywords: 0.5 MB/s (IGNORECASE) or
  4 MB/s on lower-cased text, and google-re2's: ~60 MB/s.

Both backends report (keyword index, end offset) for every occurrence,
case-insensitively, on bytes.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from pretense_dev.paths import read_cache, write_cache


class Prefilter(Protocol):
    """Finds every keyword occurrence in bytes (and, if supported, extra patterns)."""

    name: str
    patterns: bool  # whether `extra` regex expressions are matched too

    def scan(self, data: bytes) -> list[tuple[int, int]]:
        """(keyword index, end offset) of every occurrence, in no particular order."""
        ...


class HyperscanPrefilter:
    """Hyperscan block mode; the scratch space is not thread-safe, hence the lock."""

    name = "hyperscan"
    patterns = True

    def __init__(
        self, keywords: Sequence[str], extra: Sequence[bytes] = (), once: Sequence[bytes] = ()
    ) -> None:
        import hyperscan  # deferred: 11 ms, and only scans need it

        self._lock = threading.Lock()
        self._db: Any = None
        if not keywords and not extra and not once:
            return
        exprs = [b"".join(b"\\x%02x" % c for c in k.encode("utf-8")) for k in keywords]
        flags = [hyperscan.HS_FLAG_CASELESS] * len(exprs) + [0] * len(extra)
        flags += [hyperscan.HS_FLAG_SINGLEMATCH] * len(once)
        exprs += [*extra, *once]
        self._db = hyperscan_database(exprs, flags)

    def scan(self, data: bytes) -> list[tuple[int, int]]:
        """See `Prefilter.scan`."""
        hits: list[tuple[int, int]] = []
        if self._db is None:
            return hits
        add = hits.append

        def on_match(kid: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
            add((kid, end))

        with self._lock:
            self._db.scan(data, match_event_handler=on_match)
        return hits


class AhoCorasickPrefilter:
    """pyahocorasick over a latin-1 view of the bytes (offsets stay byte offsets)."""

    name = "aho-corasick"
    patterns = False

    def __init__(
        self, keywords: Sequence[str], extra: Sequence[bytes] = (), once: Sequence[bytes] = ()
    ) -> None:
        import ahocorasick  # deferred: only when hyperscan is missing

        self._auto = ahocorasick.Automaton()
        for i, k in enumerate(keywords):
            # latin-1 round trip: each byte of the UTF-8 keyword is one character.
            self._auto.add_word(k.encode("utf-8").decode("latin-1"), i)
        self._auto.make_automaton()
        self._empty = not keywords

    def scan(self, data: bytes) -> list[tuple[int, int]]:
        """See `Prefilter.scan`."""
        if self._empty:
            return []
        # Lower-casing latin-1 also folds bytes 0xC0-0xDE; harmless, keywords are ASCII.
        text = data.decode("latin-1").lower()
        return [(kid, end + 1) for end, kid in self._auto.iter(text)]


def hyperscan_database(exprs: Sequence[bytes], flags: Sequence[int]) -> Any:
    """A block-mode database with its scratch space, compiled once per machine.

    Compiling takes 60 ms for the prefilter (the base64-run expression is
    most of it); a serialized database loads in well under 1 ms, so it is
    cached, keyed by everything that went into it.
    """
    import hyperscan

    h = hashlib.sha256(
        repr((list(exprs), list(flags), getattr(hyperscan, "__version__", ""))).encode()
    ).hexdigest()
    name = f"prefilter-{h[:16]}.hsdb"
    cached = read_cache(name)
    if cached is not None:
        try:
            db = hyperscan.loadb(cached, hyperscan.HS_MODE_BLOCK)
            db.scratch = hyperscan.Scratch(db)  # a loaded database comes without one
            return db
        except Exception:  # hyperscan.error, or a damaged file: compile instead
            pass
    db = hyperscan.Database()
    db.compile(expressions=list(exprs), ids=list(range(len(exprs))), elements=len(exprs),
               flags=list(flags))  # fmt: skip
    write_cache(name, hyperscan.dumpb(db))
    return db


def make_prefilter(
    keywords: Sequence[str],
    backend: str | None = None,
    extra: Sequence[bytes] = (),
    once: Sequence[bytes] = (),
) -> Prefilter:
    """The fastest available backend (or the one named: "hyperscan", "aho-corasick").

    `extra` regex expressions get ids after the keywords', then `once`
    expressions, reported at their first match only: whether they occur at
    all (hyperscan only; see `Prefilter.patterns`).
    """
    if backend in (None, "hyperscan"):
        try:
            return HyperscanPrefilter(keywords, extra, once)
        except ImportError:
            if backend == "hyperscan":
                raise
    return AhoCorasickPrefilter(keywords)
