"""The rules file (`rules.toml`, shipped in the wheel) and the one generic rule type.

Every regex-shaped detector is a `Rule` built from data; a "keyed" rule (a
vendor word, an assignment, a value) is a regex too, assembled from
`KEYED_TEMPLATE`.  Rules whose check cannot be a regex name an analyzer
(`analyzers.py`) instead.  Patterns are compiled on first use: a pre-commit hook
that scans one small file compiles only the few rules whose keywords it holds
(compiling all ~150 costs about 60 ms, more than half the hook budget).

Validation mirrors gitleaks' `config/rule.go: Validate` in spirit: a rule that
could never fire, or whose test data cannot be generated, is refused when the
file loads, with the rule id in the message.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pretense_dev.paths import read_cache, write_cache
from pretense_dev.secrets.model import CONFIDENCES

# A vendor word where a word or a camelCase part starts (so `okta` is not read
# in `rookTable`, nor `etsy` in `SetSysctl`), up to 25 more name characters,
# an optional type annotation (`: string`, `: &str`, Go's `name string`), an
# assignment operator of any of the languages and formats we read (=, :=, :,
# =>, ?=, <-, a JSON/XML/argument separator, `:::=` of GNU make 4.4, PHP's
# `.=`, an XML tag with the value on the next line), optional quotes, then the
# value.  The value is matched without regard to case, like the vendor word.
KEYED_TEMPLATE = (
    r"""(?:(?<![A-Za-z])|(?<=[a-z0-9])(?=[A-Z]))(?i:(?:{keys}))[\w.-]{{0,25}}?["'\]]{{0,2}}"""
    r"""(?::\s{{0,3}}&?(?:'static\s+)?[\w.<>\[\]|]{{1,30}}|\s+[\w.\[\]*]{{1,30}})?\s{{0,3}}"""
    r"""(?:=|:=|::=|:::=|\.=|:|=>|\?=|,|\|\||<-|>[ \t]*\r?\n[ \t]{{0,40}}|>)\s{{0,3}}"""
    r"""["'`]{{0,3}}\s{{0,2}}((?i:{value}))(?![\w-])"""
)

KNOWN_KEYS = {
    "id", "description", "family", "regex", "keys", "value", "analyzer", "secret_group",
    "keywords", "entropy", "check", "confidence", "allow", "paths", "multiline", "scope",
    "gitleaks", "gitleaks_disagree", "allow_sha256", "sample", "sample_key", "sample_path",
    "negatives",
}  # fmt: skip


@dataclass
class Rule:
    """One detector from rules.toml."""

    id: str
    description: str
    family: str
    keywords: tuple[str, ...]
    priority: int  # position in the file: earlier rules win overlapping matches
    pattern: str | None = None  # regex source (str; compiled for bytes)
    secret_group: int | None = None  # None: 1 if the pattern has groups, else 0; -1: first set
    analyzer: str | None = None
    keys: str | None = None  # keyed rules and the assignment analyzer: name regex
    entropy: float | None = None
    check: str | None = None
    confidence: str = "medium"
    allow: tuple[str, ...] = ()
    # Published example values (SDK samples, documentation), as SHA-256 hex
    # digests so the rules file holds no secret-shaped literal.
    allow_sha256: frozenset[str] = frozenset()
    paths: tuple[str, ...] = ()
    multiline: bool = False
    scope: str = "line"  # "line": run on the lines holding a keyword; "file": whole text
    gitleaks: tuple[str, ...] = ()
    # gitleaks id → why we deliberately do not report that rule's own samples
    # (bench/secrets_samples.py leaves them out of the recall goal, and says so).
    gitleaks_disagree: dict[str, str] = field(default_factory=dict)
    sample: str | None = None
    sample_key: str | None = None
    sample_path: str | None = None
    negatives: tuple[str, ...] = ()
    _compiled: re.Pattern[bytes] | None = field(default=None, repr=False)
    _allow: tuple[re.Pattern[bytes], ...] | None = field(default=None, repr=False)
    _paths: tuple[re.Pattern[str], ...] | None = field(default=None, repr=False)

    @property
    def regex(self) -> re.Pattern[bytes]:
        """The compiled pattern (bytes), compiled on first use."""
        if self._compiled is None:
            assert self.pattern is not None, self.id
            self._compiled = re.compile(self.pattern.encode("utf-8"))
        return self._compiled

    def group_of(self, m: re.Match[bytes]) -> int:
        """Which group of a match is the secret."""
        if self.secret_group == -1:
            return next((i for i in range(1, (m.lastindex or 0) + 1) if m.group(i)), 0)
        if self.secret_group is not None:
            return self.secret_group
        return 1 if self.regex.groups else 0

    def allowed(self, value: bytes) -> bool:
        """True if the rule's own allowlist accepts this value."""
        if self.allow_sha256 and hashlib.sha256(value).hexdigest() in self.allow_sha256:
            return True
        if not self.allow:
            return False
        if self._allow is None:
            self._allow = tuple(re.compile(a.encode()) for a in self.allow)
        return any(a.search(value) for a in self._allow)

    def applies_to(self, path: str | None) -> bool:
        """A `paths` rule runs only on matching paths (never on prompt text)."""
        if not self.paths:
            return True
        if path is None:
            return False
        if self._paths is None:
            self._paths = tuple(re.compile(p) for p in self.paths)
        return any(p.search(path) for p in self._paths)


class RulesError(ValueError):
    """The rules file is invalid (a bug in what we ship, or in a user's extra rules)."""


def parse_rules(text: str, source: str = "rules.toml", *, compile_all: bool = False) -> list[Rule]:
    """Parse and validate a rules file; raise RulesError naming the rule.

    `compile_all` also compiles every pattern (tests do; a scan compiles lazily).
    """
    return rules_from_data(tomllib.loads(text), source, compile_all=compile_all)


def rules_from_data(
    data: dict[str, Any], source: str = "rules.toml", *, compile_all: bool = False
) -> list[Rule]:
    """Build and validate rules from the parsed file (see `parse_rules`)."""
    from pretense_dev.secrets import analyzers, checks

    if data.get("version") != 1:
        raise RulesError(f"{source}: version must be 1")
    out: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("rules", [])):
        rid = raw.get("id")
        where = f"{source}: rule {rid or i}"
        if not isinstance(rid, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", rid):
            raise RulesError(f"{where}: id must be lower-case letters, digits and dashes")
        if rid in seen:
            raise RulesError(f"{where}: duplicate id")
        seen.add(rid)
        unknown = set(raw) - KNOWN_KEYS
        if unknown:
            raise RulesError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        kinds = [k for k in ("regex", "value", "analyzer") if k in raw]
        if len(kinds) != 1:
            raise RulesError(f"{where}: needs exactly one of regex, keys+value, analyzer")
        pattern: str | None = raw.get("regex")
        if "value" in raw:
            if "keys" not in raw:
                raise RulesError(f"{where}: a keyed rule needs `keys`")
            pattern = KEYED_TEMPLATE.format(keys=raw["keys"], value=raw["value"])
        keywords = tuple(raw.get("keywords", ()))
        if any(k != k.lower() or not k for k in keywords):
            raise RulesError(f"{where}: keywords must be non-empty and lower-case")
        analyzer = raw.get("analyzer")
        if analyzer is not None and analyzer not in analyzers.ANALYZERS:
            raise RulesError(f"{where}: unknown analyzer {analyzer!r}")
        if not keywords and analyzer != "key-file":
            raise RulesError(f"{where}: without keywords this rule would never run")
        check = raw.get("check")
        if check is not None and check not in checks.CHECKS:
            raise RulesError(f"{where}: unknown check {check!r}")
        confidence = raw.get("confidence", "medium")
        if confidence not in CONFIDENCES:
            raise RulesError(f"{where}: confidence must be one of {', '.join(CONFIDENCES)}")
        if raw.get("scope", "line") not in ("line", "file"):
            raise RulesError(f"{where}: scope must be 'line' or 'file'")
        rule = Rule(
            id=rid,
            description=str(raw.get("description", "")),
            family=str(raw.get("family", "other")),
            keywords=keywords,
            priority=i,
            pattern=pattern,
            secret_group=raw.get("secret_group"),
            analyzer=analyzer,
            keys=raw.get("keys"),
            entropy=raw.get("entropy"),
            check=check,
            confidence=confidence,
            allow=tuple(raw.get("allow", ())),
            allow_sha256=frozenset(raw.get("allow_sha256", ())),
            paths=tuple(raw.get("paths", ())),
            multiline=bool(raw.get("multiline", False)),
            scope=raw.get("scope", "line"),
            gitleaks=tuple(raw.get("gitleaks", ())),
            gitleaks_disagree=dict(raw.get("gitleaks_disagree", {})),
            sample=raw.get("sample"),
            sample_key=raw.get("sample_key"),
            sample_path=raw.get("sample_path"),
            negatives=tuple(raw.get("negatives", ())),
        )
        if set(rule.gitleaks_disagree) - set(rule.gitleaks) or not all(
            isinstance(v, str) and v for v in rule.gitleaks_disagree.values()
        ):
            raise RulesError(
                f"{where}: gitleaks_disagree names a rule it does not cover, or no reason"
            )
        if not rule.description:
            raise RulesError(f"{where}: needs a description")
        if compile_all:
            _validate_pattern(rule, where)
        out.append(rule)
    return out


def _validate_pattern(rule: Rule, where: str) -> None:
    if rule.pattern is None:
        return
    try:
        rx = re.compile(rule.pattern.encode("utf-8"))
    except re.error as e:
        raise RulesError(f"{where}: regex does not compile: {e}") from None
    g = rule.secret_group
    if g is not None and g != -1 and not 0 <= g <= rx.groups:
        raise RulesError(f"{where}: secret_group {g} but the regex has {rx.groups} groups")


@functools.cache
def default_rules() -> tuple[Rule, ...]:
    """The shipped rules, parsed once per process (immutable data, not state).

    Parsing the TOML takes 25-30 ms, a fifth of the hook budget, so the parsed
    form is cached (marshal, keyed by the file's SHA-256) in the user cache
    dir: loading it takes 0.5 ms.
    """
    raw = rules_bytes()
    name = f"rules-{hashlib.sha256(raw).hexdigest()[:16]}.marshal"
    cached = read_cache(name)
    if cached is not None:
        try:
            data = marshal.loads(cached)
            return tuple(rules_from_data(data))
        except (ValueError, EOFError, TypeError, KeyError, RulesError):
            pass  # a stale or damaged cache: parse again
    data = tomllib.loads(raw.decode("utf-8"))
    rules = tuple(rules_from_data(data))
    write_cache(name, marshal.dumps(data))
    return rules


def rules_bytes() -> bytes:
    """The shipped rules.toml.

    Read beside this module when installed as files (importing
    importlib.resources costs 16-20 ms on a hook's start-up); through
    importlib.resources otherwise (zip imports).
    """
    here = Path(__file__).with_name("rules.toml")
    try:
        return here.read_bytes()
    except OSError:
        from importlib import resources

        return resources.files("pretense_dev.secrets").joinpath("rules.toml").read_bytes()


def rule_ids() -> frozenset[str]:
    """Every shipped rule id (config validation of `disabled_rules`)."""
    return frozenset(r.id for r in default_rules())
