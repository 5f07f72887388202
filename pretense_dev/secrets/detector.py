"""The detector: prefilter, rules on the lines that need them, second looks, filters.

`Detector.scan_text` / `scan_bytes` is what the proxy (every new outgoing
content block), the language server (every debounced edit), the index (every
re-read file) and `scan` call.  Per call:

1. one prefilter pass finds every rule keyword (prefilter.py);
2. each rule whose keyword occurs runs on the lines that hold it (a few
   rules and analyzers run on the whole text: key blocks, manifests);
3. decoded views (base64, percent, JSON escapes) and joined string literals
   are scanned the same way, up to `MAX_DEPTH` levels (decode.py);
4. candidates pass the filters (placeholders, env references…) and checks
   (checksums), overlapping candidates keep the most specific;
5. inline ignores, the config's allowlists and the baseline drop the
   accepted ones; what is left becomes `Finding`s (fingerprint + redacted
   form, never the value).
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from pretense_dev.secrets import checks, decode, filters, literals
from pretense_dev.secrets.model import Finding, Match, fingerprint, redact
from pretense_dev.secrets.rules import Rule, default_rules

if TYPE_CHECKING:
    from pretense_dev.config import SecretsConfig
    from pretense_dev.secrets.baseline import Baseline
    from pretense_dev.secrets.prefilter import Prefilter

MAX_DEPTH = 2  # decode-then-match levels (base64 of a URL-encoded token is two)
LONG_LINE = 4096  # on longer lines (minified code), rules run on a window around the hit
CONCAT_CONTEXT_LINES = 2  # a split literal's chain may start/end this far from the keyword
# `pretense: allow` on the line of a finding, or alone on the line before it:
# nothing but a comment opener may precede the next-line form, so the allowance
# cannot hide at the end of a long line above the secret.
_ALLOW_SAME = re.compile(rb"pretense:\s*allow\b")
_ALLOW_NEXT = re.compile(rb"^[ \t]*(?:#|//|--|/\*|<!--|;|%|'|\*|REM\b)?[ \t]*pretense:\s*allow\b")


class Engine:
    """The rules, their keyword index and the prefilter: built once, shared, read-only."""

    def __init__(self, rules: Sequence[Rule], backend: str | None = None) -> None:
        from pretense_dev.secrets.prefilter import make_prefilter

        self.rules = list(rules)
        keywords: list[str] = []
        index: dict[str, int] = {}
        self.by_keyword: list[list[Rule]] = []
        for r in self.rules:
            for k in r.keywords:
                if k not in index:
                    index[k] = len(keywords)
                    keywords.append(k)
                    self.by_keyword.append([])
                self.by_keyword[index[k]].append(r)
        self.always = [r for r in self.rules if not r.keywords]  # e.g. key files by name
        # Keywords of assignment rules: their hits' offsets are kept for the analyzer.
        self.named_kids = {
            i for i, rs in enumerate(self.by_keyword) if any(r.analyzer == "assignment" for r in rs)
        }
        # Rules that see the whole text once a keyword occurs anywhere in it.
        self.whole_text = {
            r.priority
            for r in self.rules
            if r.scope == "file"
            or r.multiline
            or (r.analyzer is not None and r.analyzer != "assignment")
        }
        self.prefilter: Prefilter = make_prefilter(
            keywords, backend, extra=[decode.B64_RUN_EXPRESSION], once=[decode.JSON_ESCAPE]
        )
        self.b64_id = len(keywords) if self.prefilter.patterns else -1
        # Whether a JSON escape occurs: found in the same pass, instead of two
        # more passes over every text (`\u`, `\/`) that most texts fail.
        self.escape_id = len(keywords) + 1 if self.prefilter.patterns else -1
        # Per rule priority: the literals its matches hold (read at first use:
        # compiling every regex up front would slow the first scan of a hook).
        self._literals: dict[int, literals.Literals] = {}

    def candidates(self, data: bytes, path: str | None, depth: int = 0) -> list[Match]:
        """Every match in `data` (and its decoded views) after filters and checks."""
        from pretense_dev.secrets.analyzers import ANALYZERS, AnalyzerContext

        out: list[Match] = []
        # keyword → spans around its hits, merged as they come: on one long
        # line the windows of dense hits overlap, and scanning each of them
        # was hits × window (a 2 MB one-line JSON took 2 s).  Per keyword,
        # not per rule, so a hit costs the same however many rules share it.
        windows: dict[int, list[list[int]]] = defaultdict(list)
        kid_hits: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # assignment rules
        hit_lines: list[list[int]] = []  # every line with a keyword (concatenation pass)
        b64_runs: list[int] | None = [] if self.b64_id >= 0 else None
        n = len(data)
        named = self.named_kids
        # The last line's bounds: hits come in order, so each line is measured
        # once (measuring per hit was quadratic on one-line JSON and minified code).
        line_s, line_e, line_x = 0, -1, -1
        escapes: bool | None = False if self.escape_id >= 0 else None  # None: not known
        for kid, end in self.prefilter.scan(data):
            if kid == self.b64_id:
                assert b64_runs is not None
                b64_runs.append(end)
                continue
            if kid == self.escape_id:
                escapes = True
                continue
            if not line_s <= end <= line_e:
                line_s = data.rfind(b"\n", 0, end) + 1
                line_e = data.find(b"\n", end)
                if line_e < 0:
                    line_e = n
                line_x = line_e  # the window's end: the line, or past an XML value below it
                if line_e < n and (data[line_e - 1] == 0x3E or data[line_e - 2 : line_e] == b">\r"):
                    line_x = _xml_value_lines(data, line_s, line_e)
            ls, le = line_s, line_x
            if le - ls > LONG_LINE:
                ls, le = max(ls, end - LONG_LINE // 2), min(le, end + LONG_LINE // 2)
            if hit_lines and hit_lines[-1][0] <= ls <= hit_lines[-1][1]:
                if le > hit_lines[-1][1]:
                    hit_lines[-1][1] = le
            else:
                hit_lines.append([ls, le])
            w = windows[kid]
            if w and w[-1][0] <= ls <= w[-1][1]:
                if le > w[-1][1]:
                    w[-1][1] = le
            else:
                w.append([ls, le])
            if kid in named:
                kid_hits[kid].append((ls, le, end))
        whole: set[int] = set()
        by_priority: dict[int, Rule] = {}
        rule_spans: dict[int, list[list[int]]] = defaultdict(list)
        rule_hits: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for kid, kspans in windows.items():
            for rule in self.by_keyword[kid]:
                p = rule.priority
                by_priority[p] = rule
                if p in self.whole_text:
                    whole.add(p)
                    continue
                rule_spans[p].extend(kspans)
                if rule.analyzer == "assignment":
                    rule_hits[p].extend(kid_hits[kid])
        for rule in self.always:
            by_priority[rule.priority] = rule
            whole.add(rule.priority)
        for p, rule in sorted(by_priority.items()):
            if not rule.applies_to(path):
                continue
            spans = [(0, n)] if p in whole else _merged(rule_spans[p])
            if rule.analyzer is not None:
                analyze = ANALYZERS[rule.analyzer]
                for m in analyze(rule, data, AnalyzerContext(path, spans, rule_hits[p])):
                    if self._keep(rule, m):
                        out.append(m)
                continue
            rx = rule.regex
            lits = self._literals.get(p)
            if lits is None:
                lits = self._literals[p] = literals.analyse(rx)
            for ls, le in spans:
                for rm in literals.finditer(rx, lits, data, ls, le):
                    g = rule.group_of(rm)
                    value = rm.group(g)
                    if not value:
                        continue
                    m = Match(rule.id, rm.start(g), rm.end(g), value, rule.confidence, p)
                    if self._keep(rule, m):
                        out.append(m)
        if depth < MAX_DEPTH:
            out.extend(self._views(data, path, depth, _merged(hit_lines), b64_runs, escapes))
        return out

    def _keep(self, rule: Rule, m: Match) -> bool:
        """Filters and the rule's check; may change the match's confidence."""
        v = m.value
        if rule.analyzer is None:
            if rule.entropy is not None and filters.shannon(v) < rule.entropy:
                return False
            keyed = rule.keys is not None  # the vendor's name and its exact format
            if filters.quiet_reason(v, typed_ok=keyed, formatted=True) is not None:
                return False
            if keyed and filters.is_typed(v):  # kept only if it mixes letters and digits
                m.confidence = "low"
        if rule.allowed(v):
            return False
        if rule.check is not None:
            verdict = checks.CHECKS[rule.check](v)
            if verdict == checks.REJECT:
                return False
            if verdict is not None:
                m.confidence = verdict
        return True

    def _views(
        self,
        data: bytes,
        path: str | None,
        depth: int,
        hit_lines: list[tuple[int, int]],
        b64_runs: list[int] | None,
        escapes: bool | None = None,
    ) -> list[Match]:
        """Matches in the decoded views and joined literals, at their spans in `data`.

        The views are scanned together, a batch of them joined by blank lines
        per `candidates` call: minified code holds a chain of joined literals
        every few dozen bytes, and one call per view cost 60 µs of set-up
        each (1.5 s for 1 MB of minified JS).  A match that crosses from one
        view into the next is dropped: each view alone could not hold it.
        """
        views: list[decode.View] = []
        for found in (
            decode.base64_views(data, b64_runs),
            decode.percent_views(data),
            decode.json_escape_views(data, escapes),
            # Joined literals only in the text as written: a view's copied
            # context holds the chains before it, joining them again at the
            # next depth found nothing new and cost a second pass per chain.
            decode.concat_views(data, _around(data, hit_lines, CONCAT_CONTEXT_LINES))
            if depth == 0
            else (),
        ):
            views.extend(found)
        out: list[Match] = []
        i = 0
        while i < len(views):
            batch: list[decode.View] = []
            starts: list[int] = []
            size = 0
            while i < len(views) and (not batch or size + len(views[i].data) <= VIEW_BATCH):
                starts.append(size)
                batch.append(views[i])
                size += len(views[i].data) + len(_VIEW_GAP)
                i += 1
            joined = batch[0].data if len(batch) == 1 else _VIEW_GAP.join(v.data for v in batch)
            for m in self.candidates(joined, path, depth + 1):
                k = bisect.bisect_right(starts, m.start) - 1
                view, base = batch[k], starts[k]
                if m.end > base + len(view.data):
                    continue  # crosses into the next view
                if view.skip and m.end - base <= view.skip:
                    continue  # found in the copied context: the parent has it already
                m.start, m.end = view.start, view.end
                m.priority += 100_000  # a plain-text match of the same span wins ties
                out.append(m)
        return out


def _xml_value_lines(data: bytes, ls: int, le: int) -> int:
    """A line ending in an opening tag: widen to the value and closing tag below it.

    `<apiToken>` / the value alone on the next line / `</apiToken>` is how
    XML pretty-printers and Jenkins' `credentials.xml` write a value; the
    keyword is on the first line only.  One byte test per hit line, at most two
    more lines (each at most LONG_LINE bytes).
    """
    line = data[ls:le].rstrip(b"\r")
    if not line.endswith(b">") or line.endswith((b"/>", b"->")) or b"<" not in line:
        return le
    end = le
    for _ in range(2):
        nxt = data.find(b"\n", end + 1, end + 1 + LONG_LINE)
        if nxt < 0:
            return min(len(data), end + 1 + LONG_LINE)
        end = nxt
    return end


VIEW_BATCH = 1 << 20  # bytes of views scanned in one call
_VIEW_GAP = b"\n\n"


def _widen(spans: list[list[int]], start: int, end: int) -> None:
    """Add [start, end] to spans that arrive mostly in order, merging overlaps."""
    if spans:
        last = spans[-1]
        if last[0] <= start <= last[1]:
            if end > last[1]:
                last[1] = end
            return
    spans.append([start, end])


def _merged(spans: list[list[int]]) -> list[tuple[int, int]]:
    """`spans` sorted, overlapping ones merged (the prefilter promises no order)."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _around(data: bytes, lines: Iterable[tuple[int, int]], k: int) -> list[tuple[int, int]]:
    """The given lines that hold a quote, widened by `k` lines each way, merged.

    A line without a quote holds no literal to join (Python's `pass` statement
    is a "pass" keyword hit on every tenth line of some files).
    """
    out: list[tuple[int, int]] = []
    for ls, le in sorted(lines):
        if data.find(b'"', ls, le) < 0 and data.find(b"'", ls, le) < 0:
            continue
        # Widened by whole lines, but never more than LONG_LINE bytes each way:
        # on a one-line file the line is the file.
        s = ls
        for _ in range(k):
            if s == 0:
                break
            lo = max(0, s - 1 - LONG_LINE)
            j = data.rfind(b"\n", lo, s - 1)
            if j < 0:
                s = lo
                break
            s = j + 1
        e = le
        for _ in range(k):
            hi = min(len(data), e + 1 + LONG_LINE)
            nxt = data.find(b"\n", e + 1, hi)
            if nxt < 0:
                e = hi
                break
            e = nxt
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def resolve_overlaps(matches: list[Match]) -> list[Match]:
    """One finding per secret: where candidates overlap, the most specific wins."""
    chosen: list[Match] = []
    for m in sorted(matches, key=lambda m: m.rank(), reverse=True):
        if all(m.end <= c.start or m.start >= c.end for c in chosen):
            chosen.append(m)
    return sorted(chosen, key=lambda m: (m.start, m.rule))


_ENGINE_LOCK = threading.Lock()
_ENGINES: dict[tuple[tuple[str, ...], str | None], Engine] = {}


def shared_engine(disabled: Iterable[str] = (), backend: str | None = None) -> Engine:
    """The engine for the shipped rules minus `disabled`, built once per process.

    Building compiles the prefilter (5 ms); the proxy and the language server
    construct a Detector per repository but share this immutable part.
    """
    key = (tuple(sorted(disabled)), backend)
    with _ENGINE_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            off = set(disabled)
            engine = Engine([r for r in default_rules() if r.id not in off], backend)
            _ENGINES[key] = engine
    return engine


class Detector:
    """Scans text for secrets with one repository's key, policy and baseline."""

    def __init__(
        self,
        key: bytes | Callable[[], bytes],
        config: SecretsConfig | None = None,
        baseline: Baseline | None = None,
        *,
        engine: Engine | None = None,
    ) -> None:
        from pretense_dev.config import SecretsConfig

        # A callable is asked only when a finding needs a fingerprint: a clean
        # commit then never touches the keyring (40+ ms to import on macOS).
        self._key: bytes | Callable[[], bytes] = key
        self.config = config or SecretsConfig()
        self.baseline = baseline
        self.engine = engine or shared_engine(self.config.disabled_rules)
        self._allow_values = [re.compile(r.encode()) for r in self.config.allow_regexes]
        self._allow_paths = None
        if self.config.allow_paths:
            from pretense_dev.worktree import PathFilter

            self._allow_paths = PathFilter(self.config.allow_paths)

    @property
    def key(self) -> bytes:
        """The repository key (resolved on first use)."""
        if callable(self._key):
            self._key = self._key()
        return self._key

    def path_allowed(self, path: str | None) -> bool:
        """True if the config allowlists this path (it is then not scanned at all)."""
        return path is not None and self._allow_paths is not None and self._allow_paths(path)

    def scan_text(self, text: str, path: str | None = None) -> list[Finding]:
        """Findings in `text` (a prompt, a buffer, a file's content); see the module doc."""
        return self.scan_bytes(text.encode("utf-8", "surrogatepass"), path)

    def scan_bytes(self, data: bytes, path: str | None = None) -> list[Finding]:
        """Findings in UTF-8 (or any ASCII-compatible) bytes."""
        if self.path_allowed(path):
            return []
        matches = resolve_overlaps(self.engine.candidates(data, path))
        out: list[Finding] = []
        for m in matches:
            if any(a.search(m.value) for a in self._allow_values):
                continue
            if _inline_allowed(data, m.start):
                continue
            fp = fingerprint(self.key, m.value)
            if self.baseline is not None and self.baseline.contains(path, m.rule, fp):
                continue
            line = data.count(b"\n", 0, m.start) + 1
            end_line = line + data.count(b"\n", m.start, max(m.start, m.end - 1))
            out.append(Finding(m.rule, path, line, end_line, fp, redact(m.value), m.confidence))
        return out


def _inline_allowed(data: bytes, pos: int) -> bool:
    ls = data.rfind(b"\n", 0, pos) + 1
    le = data.find(b"\n", pos)
    if _ALLOW_SAME.search(data, ls, len(data) if le < 0 else le):
        return True
    if ls == 0:
        return False
    ps = data.rfind(b"\n", 0, ls - 1) + 1
    return _ALLOW_NEXT.match(data[ps : ls - 1]) is not None
