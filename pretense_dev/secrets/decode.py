r"""Second looks at a text: decoded segments and joined string literals.

Scanners that match only the bytes as written miss a token that is
percent-encoded, JSON-escaped (``\\u0067hp_…``, ``\\/``) or base64-encoded
(a k8s Secret, a docker `auth`, a ``*_B64`` variable), and a token split into
literals joined by ``+``, implicit concatenation, ``concat!``, ``join`` or
``+=``.  Each function here yields `View`s: a derived text plus the span of
the original it stands for.  The detector scans a view like any text and
reports what it finds at the view's span, fingerprinted on the decoded value
(so a token has one identity however it is written).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class View:
    """A derived text standing for data[start:end] of its parent."""

    data: bytes
    start: int
    end: int
    skip: int = 0  # leading bytes of context copied from the parent (not new content)


_B64 = re.compile(rb"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,4096}={0,2}(?![A-Za-z0-9+/=_-])")
_HAS_DIGIT = re.compile(rb"[0-9]")
_HEX_ONLY = re.compile(rb"[0-9a-fA-F]+")
_PRINTABLE = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}


# Where a run of 20+ base64 characters starts: the prefilter (hyperscan) reports
# one match per run for this expression, so runs are found in the same pass as
# the keywords; `_B64` is the fallback (sre, ~30 MB/s, a third of a scan's time).
B64_RUN_EXPRESSION = rb"(?:^|[^A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20}"
B64_RUN_LENGTH = 20
_B64_REST = re.compile(rb"[A-Za-z0-9+/_-]{0,4076}={0,2}")


def base64_views(data: bytes, run_ends: Iterable[int] | None = None) -> Iterator[View]:
    """Base64 runs that decode to mostly printable text.

    `run_ends`: offsets just after the first 20 characters of each run (from
    the prefilter); None to find the runs here.
    """
    spans: Iterable[tuple[int, int]] = (
        (m.span() for m in _B64.finditer(data)) if run_ends is None else _runs(data, run_ends)
    )
    for start, end in _wrapped(data, spans):
        s = data[start:end]
        if b"\n" in s:
            s = b"".join(s.split())
        if _HEX_ONLY.fullmatch(s) or not _HAS_DIGIT.search(s):
            continue  # hex digests, identifiers: never base64 text
        raw = _b64(s)
        if raw is None or len(raw) < 12:
            continue
        printable = sum(1 for b in raw if b in _PRINTABLE)
        if printable < 0.95 * len(raw):
            continue
        yield View(raw, start, end)


_WRAP_GAP = re.compile(rb"\r?\n[ \t]*")
MIN_WRAPPED_LINE = 40  # MIME wraps at 76, PEM at 64: shorter lines are not one value


def _wrapped(data: bytes, spans: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Join runs that continue a wrapped base64 block (MIME, PEM bodies) on the next line."""
    cur: tuple[int, int] | None = None
    for start, end in spans:
        if (
            cur is not None
            and cur[1] - cur[0] >= MIN_WRAPPED_LINE
            and _WRAP_GAP.fullmatch(data, cur[1], start) is not None
            and data[cur[1] - 1] != 0x3D  # padding ends a block
        ):
            cur = (cur[0], end)
            continue
        if cur is not None:
            yield cur
        cur = (start, end)
    if cur is not None:
        yield cur


def _runs(data: bytes, run_ends: Iterable[int]) -> Iterator[tuple[int, int]]:
    for e in sorted(run_ends):
        m = _B64_REST.match(data, e)
        end = m.end() if m else e
        if end < len(data) and data[end] in _B64_CONTINUE:
            continue  # over 4096 characters or odd padding: not a value we decode
        yield e - B64_RUN_LENGTH, end


_B64_CONTINUE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-=")


def _b64(s: bytes) -> bytes | None:
    urlsafe = b"-" in s or b"_" in s
    if urlsafe and (b"+" in s or b"/" in s):
        return None
    body = s.rstrip(b"=")
    if len(body) % 4 == 1:
        return None
    body += b"=" * (-len(body) % 4)
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(body)
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None


_PCT_ESC = re.compile(rb"%[0-9A-Fa-f]{2}")
JSON_ESCAPE = rb"\\u[0-9a-fA-F]{4}|\\/"
_JSON_ESC = re.compile(JSON_ESCAPE)
_U = re.compile(rb"\\u([0-9a-fA-F]{4})")
_DELIMS = frozenset(b" \t\r\n\"'<>`,;()[]{}")
_MAX_SEGMENT = 4096


def _segments(data: bytes, escapes: re.Pattern[bytes]) -> Iterator[tuple[int, int]]:
    """Maximal runs without delimiters around each escape (each run once).

    Escapes are rare, so walking outwards from each one is cheaper than a
    regex over the whole text (which was 1 MB/s on long lines).
    """
    covered = -1
    n = len(data)
    for m in escapes.finditer(data):
        if m.start() < covered:
            continue
        start = m.start()
        while start > 0 and data[start - 1] not in _DELIMS and m.start() - start < _MAX_SEGMENT:
            start -= 1
        end = m.end()
        while end < n and data[end] not in _DELIMS and end - m.end() < _MAX_SEGMENT:
            end += 1
        covered = end
        yield start, end


def percent_views(data: bytes) -> Iterator[View]:
    """Percent-encoded segments with at least two escapes, decoding to printable text."""
    if b"%" not in data:
        return
    for start, end in _segments(data, _PCT_ESC):
        s = data[start:end]
        if len(_PCT_ESC.findall(s)) < 2:
            continue
        raw = _PCT_ESC.sub(lambda e: bytes([int(e.group()[1:], 16)]), s)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if text.isprintable():
            yield View(raw, start, end)


def json_escape_views(data: bytes, present: bool | None = None) -> Iterator[View]:
    r"""Segments written with JSON escapes (`\u0041`, `\/`).

    `present`: whether `JSON_ESCAPE` occurs in `data`, if the prefilter
    said; None to look here.
    """
    if present is False or (present is None and b"\\u" not in data and b"\\/" not in data):
        return
    for start, end in _segments(data, _JSON_ESC):
        s = data[start:end]
        raw = _U.sub(lambda u: chr(int(u.group(1), 16)).encode("utf-8", "replace"), s)
        raw = raw.replace(b"\\/", b"/")
        if len(raw) >= 8:
            yield View(raw, start, end)


# -- concatenated literals ------------------------------------------------------

_LIT = rb'"(?:[^"\\\n]|\\.){0,400}"|\'(?:[^\'\\\n]|\\.){0,400}\''
# What may join two literals: `+`, `.`, `..`, `&`, `||`, `~`, or nothing, with
# spaces and a line break (or a backslash-continued one) around it.
_SEP = rb"[ \t]*(?:\\?\r?\n)?[ \t]*(?:\+|\.\.?|&|\|\||~)?[ \t]*(?:\r?\n[ \t]*)?"
_OP_CHAIN = re.compile(rb"(?:" + _LIT + rb")(?:" + _SEP + rb"(?:" + _LIT + rb"))+")
_COMMA_OPENER = rb"(?:concat!\(|[Jj]oin\(\s*\[?|implode\(\s*(?:['\"]['\"]\s*,\s*)?\[?|\[|\{)"
_COMMA_CHAIN = re.compile(
    _COMMA_OPENER + rb"\s*(?:" + _LIT + rb")(?:\s*,\s*(?:" + _LIT + rb"))+\s*,?\s*[\])}]"
)
_JOIN_TAIL = re.compile(rb"\s*(?:\.join\(\s*(?:''|\"\")\s*\)|,\s*(?:''|\"\")\s*\)|\))")
_PLUS_EQ_START = re.compile(
    rb"(?m)^[ \t]*(?:(?:var|let|const|my|local)\s+)?\$?(\w+)[ \t]*(?::=|=)[ \t]*("
    + _LIT
    + rb")[ \t]*;?[ \t]*$"
)
_LIT_ONLY = re.compile(_LIT)


def _literal_value(lit: bytes) -> bytes:
    return lit[1:-1]


def concat_views(data: bytes, windows: Iterable[tuple[int, int]]) -> Iterator[View]:
    """Adjacent literals joined by an operator, implicitly, by concat!/join, or by +=.

    Only in `windows` (the lines around keyword hits, see the detector): a chain
    is looked for where a keyword shows that a secret could be near, which
    keeps this pass off the hot path of ordinary code (it was a sixth of the
    scan time when run over whole files).
    """
    scanner: ChainScanner | None = None
    first = True  # the scanner is looked up at the first window: most texts have none
    for ws, we in windows:
        if first:
            scanner, first = chain_scanner(), False
        yield from _concat_in(data, ws, we, scanner)


# Where a chain of literals can be: a quote, what may join two literals, a
# quote (every operator chain holds one); an opener and a quote (every
# comma chain starts so).  Hyperscan finds both in a window at memory speed,
# and the chain expressions then run only where they can match: run over
# the whole window they tried every quote, a third of a scan's time.
_JUNCTION = rb"[\"']" + _SEP + rb"[\"']"
_COMMA_START = _COMMA_OPENER + rb"\s*[\"']"
_QUOTE = re.compile(rb"[\"']")
# A literal is at most 400 characters or escapes, two bytes each, plus its quotes.
_LIT_SPAN = 2 + 2 * 400


class ChainScanner:
    """Junctions in a window (hyperscan); its scratch space is not thread-safe: a lock."""

    def __init__(self) -> None:
        import threading

        import hyperscan

        from pretense_dev.secrets.prefilter import hyperscan_database

        self._db = hyperscan_database([_JUNCTION, _COMMA_START], [0, hyperscan.HS_FLAG_SINGLEMATCH])
        self._lock = threading.Lock()

    def scan(self, window: bytes) -> tuple[list[int], bool]:
        """End offsets of the junctions in `window`, and whether a comma chain can start there."""
        ends: list[int] = []
        comma = False

        def on_match(pid: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
            nonlocal comma
            if pid == 0:
                ends.append(end)
            else:
                comma = True

        with self._lock:
            self._db.scan(window, match_event_handler=on_match)
        return ends, comma


_SCANNER: list[ChainScanner | None] = []


def chain_scanner() -> ChainScanner | None:
    """The process's chain scanner, or None without hyperscan (every quote is tried then)."""
    if not _SCANNER:
        try:
            _SCANNER.append(ChainScanner())
        except ImportError:
            _SCANNER.append(None)
    return _SCANNER[0]


def _op_chains(data: bytes, ws: int, we: int, ends: list[int]) -> Iterator[re.Match[bytes]]:
    """`_OP_CHAIN.finditer(data, ws, we)`, trying only the quotes just before a junction.

    A chain starting at p has its first junction at the first literal's
    closing quote q: p < q, p >= q - _LIT_SPAN, and no line break between
    them.  So the leftmost chain at or after `pos` starts at a quote in
    [max(pos, q - _LIT_SPAN, q's line start), q) for the first junction
    q > pos, or after q; each quote is tried once, in order.
    """
    starts = {_last_quote(data, ws, ws + e - 1) for e in ends}  # e - 1: the second quote
    pos = ws
    for q in sorted(starts):
        if q <= pos:
            continue
        # Searches bounded to the literal's reach: on a one-line file an
        # unbounded rfind per junction would make this pass quadratic.
        lo = max(pos, q - _LIT_SPAN)
        lo = max(lo, data.rfind(b"\n", lo, q) + 1)
        for c in _QUOTE.finditer(data, lo, q):
            m = _OP_CHAIN.match(data, c.start(), we)
            if m is not None:
                yield m
                pos = m.end()
                break
        else:
            pos = q


def _last_quote(data: bytes, lo: int, hi: int) -> int:
    """The last quote of either kind in data[lo:hi], looked for near `hi` first."""
    near = max(lo, hi - 256)
    q = max(data.rfind(b'"', near, hi), data.rfind(b"'", near, hi))
    if q < 0 and near > lo:
        q = max(data.rfind(b'"', lo, near), data.rfind(b"'", lo, near))
    return q


def _concat_in(
    data: bytes, ws: int, we: int, scanner: ChainScanner | None = None
) -> Iterator[View]:
    if scanner is None:
        ops: Iterable[re.Match[bytes]] = _OP_CHAIN.finditer(data, ws, we)
        comma = True
    else:
        ends, comma = scanner.scan(data[ws:we])
        ops = _op_chains(data, ws, we, ends) if ends else ()
    for m in ops:
        yield _chain_view(data, m.start(), m.end(), m.group())
    for m in _COMMA_CHAIN.finditer(data, ws, we) if comma else ():
        opener = m.group()[:1]
        tail = _JOIN_TAIL.match(data, m.end())
        # `[...]` / `{...}` count only when a join follows; concat!/join( are joins themselves.
        if opener in (b"[", b"{") and tail is None:
            continue
        yield _chain_view(data, m.start(), m.end(), m.group())
    if data.find(_PLUS_EQ, ws, we) < 0:
        return  # a `+=` chain needs one: most windows have none, and the search costs
    for m in _PLUS_EQ_START.finditer(data, ws, we):
        var = re.escape(m.group(1))
        parts = [m.group(2)]
        pos = m.end()
        follow = re.compile(
            rb"\r?\n[ \t]*\$?" + var + rb"[ \t]*\+=[ \t]*(" + _LIT + rb")[ \t]*;?[ \t]*(?=\r?\n|$)"
        )
        while (f := follow.match(data, pos, we)) is not None:
            parts.append(f.group(1))
            pos = f.end()
        if len(parts) > 1:
            yield _chain_view(data, m.start(2), pos, b" ".join(parts))


_PLUS_EQ = b"+="


CHAIN_CONTEXT = 96  # bytes of the chain's line copied before it: enough for the name


def _chain_view(data: bytes, start: int, end: int, chain: bytes) -> View:
    """The joined literals, after at most `CHAIN_CONTEXT` bytes of their line.

    The context gives the name the chain is assigned to (`password = "a" + "b"`).
    Copying the whole line instead made each chain of a minified file cost
    the length of the line: quadratic (a 5 KB line of `"a"+"b"` pairs took 3.7 s).
    """
    joined = b"".join(_literal_value(lit.group()) for lit in _LIT_ONLY.finditer(chain))
    floor = max(0, start - CHAIN_CONTEXT)
    line_start = data.rfind(b"\n", floor, start) + 1 or floor
    context = data[line_start:start]
    return View(context + b'"' + joined + b'"', start, end, skip=len(context))
