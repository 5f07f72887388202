r"""What every match of a rule's regex must hold, read from the regex itself.

A rule runs on the lines around its keyword, and Python's `re` tries a match
at every position of them: a regex that starts with `\b` or a look-behind
gets no literal-prefix search from `re`, so `\bcurl\b…` over a file that
mentions curl once, or `\b(SK[0-9a-f]{32})` over every line with "sk" in
it (ask, task, disk), was a third of a scan's time.  From the parsed regex:

* `required`: literal byte strings that every match contains (case-sensitive
  parts only).  A span lacking one cannot hold a match and is skipped;
* `start`: the literal every match begins with, after zero-width
  assertions.  Matches can only start where it occurs, so `finditer`
  jumps between its occurrences (`bytes.find`) and tries `match` there.

Both only skip positions where `re` could not match: the matches found are
the same, in the same order (tests/secrets/test_fast_paths.py checks every
shipped rule).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# The parser `re` itself uses (private, but its layout is stable across
# 3.11-3.13); anything unexpected in it means no shortcut, never a wrong one.
_parser: Any
C: Any
try:
    _parser = importlib.import_module("re._parser")
    C = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - another implementation
    _parser = C = None


@dataclass(frozen=True)
class Literals:
    """See the module docstring; empty when nothing could be read."""

    required: tuple[bytes, ...] = ()
    start: bytes | None = None


NONE = Literals()
_ZERO_WIDTH: tuple[Any, ...] = () if C is None else (C.AT, C.ASSERT, C.ASSERT_NOT)


def analyse(rx: re.Pattern[bytes]) -> Literals:
    """The literals of `rx` (NONE when its form is not one read here)."""
    if _parser is None or not isinstance(rx.pattern, bytes):
        return NONE
    try:
        tree = _parser.parse(rx.pattern, rx.flags)
        ignore = bool(tree.state.flags & re.IGNORECASE)
        runs: list[bytes] = []
        _required(list(tree.data), ignore, runs)
        start, _ = _start(list(tree.data), ignore)
    except Exception:  # an unexpected parse tree: no shortcut, never a wrong one
        return NONE
    required = tuple(sorted({r for r in runs if r}, key=lambda r: (-len(r), r)))
    return Literals(required, start if start and len(start) >= 2 else None)


def _cased(c: int) -> bool:
    return 65 <= c <= 90 or 97 <= c <= 122


def _scoped(ignore: bool, add: int, delete: int) -> bool:
    if add & re.IGNORECASE:
        return True
    if delete & re.IGNORECASE:
        return False
    return ignore


def _required(items: list[tuple[Any, Any]], ignore: bool, out: list[bytes]) -> None:
    """Append the literal runs every match of the sequence `items` holds."""
    run = bytearray()

    def flush() -> None:
        if run:
            out.append(bytes(run))
            run.clear()

    for op, av in items:
        if op is C.LITERAL:
            assert isinstance(av, int)
            if ignore and _cased(av):
                flush()
            else:
                run.append(av)
            continue
        flush()
        if op is C.SUBPATTERN:
            _group, add, delete, sub = av
            _required(list(sub), _scoped(ignore, add, delete), out)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo, _hi, sub = av
            if lo >= 1:
                _required(list(sub), ignore, out)
        elif op is C.ATOMIC_GROUP:
            _required(list(av), ignore, out)
        # anything else (a class, a branch, an assertion): nothing required
    flush()


def _start(items: list[tuple[Any, Any]], ignore: bool) -> tuple[bytes, bool]:
    """The literal every match of `items` starts with; True if `items` is that literal."""
    lit = bytearray()
    for op, av in items:
        if op in _ZERO_WIDTH and not lit:
            continue  # consumes nothing: the match still starts at the next item
        if op is C.LITERAL:
            assert isinstance(av, int)
            if ignore and _cased(av):
                return bytes(lit), False
            lit.append(av)
            continue
        if op is C.SUBPATTERN:
            _group, add, delete, sub = av
            inner, whole = _start(list(sub), _scoped(ignore, add, delete))
            lit += inner
            if whole:
                continue
        return bytes(lit), False
    return bytes(lit), True


def finditer(
    rx: re.Pattern[bytes], lits: Literals, data: bytes, pos: int, endpos: int
) -> Iterator[re.Match[bytes]]:
    """`rx.finditer(data, pos, endpos)`, skipping where `lits` show no match can be."""
    for lit in lits.required:
        if data.find(lit, pos, endpos) < 0:
            return
    start = lits.start
    if start is None:
        yield from rx.finditer(data, pos, endpos)
        return
    # Every match begins with `start`: try `match` at its occurrences only.
    # (Non-empty matches, so after one the next search starts at its end.)
    i = data.find(start, pos, endpos)
    while i >= 0:
        m = rx.match(data, i, endpos)
        if m is not None:
            yield m
            i = data.find(start, m.end(), endpos)
        else:
            i = data.find(start, i + 1, endpos)
