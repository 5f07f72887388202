"""gitleaks' own rule samples, rebuilt at run time from the recipes in gitleaks_samples.json.

`scripts/extract_gitleaks_samples.py` reads gitleaks' rule files
(`cmd/generate/config/rules/*.go`) and writes recipes: literals concealed
(reversed, ROT13/ROT5) and random parts as their regex.  This module turns a
recipe back into the sample gitleaks validates its rule with: literals revealed,
`secrets.NewSecret(regex)` parts drawn from the regex with a seeded generator
(so a run is reproducible), `GenerateSampleSecrets` expanded over gitleaks'
assignment templates, base64 parts encoded.  Used by
`tests/secrets/test_gitleaks_samples.py` and `bench/secrets_samples.py`.
"""

from __future__ import annotations

import base64
import json
import random
import re
import string
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

with warnings.catch_warnings():  # the regex parser's public name (deprecated, still there)
    warnings.simplefilter("ignore", DeprecationWarning)
    import sre_constants as sre_c
    import sre_parse

DATA = Path(__file__).with_name("gitleaks_samples.json")
_ROT = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "nopqrstuvwxyzabcdefghijklmNOPQRSTUVWXYZABCDEFGHIJKLM5678901234",
)
# Go's RE2 classes are ASCII; what a generated character may be drawn from.
_PRINTABLE = string.ascii_letters + string.digits + "-_.+/=~!@#%&*:;,"
_CATEGORY = {
    sre_c.CATEGORY_DIGIT: string.digits,
    sre_c.CATEGORY_NOT_DIGIT: string.ascii_letters + "_-",
    sre_c.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    sre_c.CATEGORY_NOT_WORD: "-.:/+=",
    sre_c.CATEGORY_SPACE: " ",
    sre_c.CATEGORY_NOT_SPACE: string.ascii_letters + string.digits,
}
UNBOUNDED_EXTRA = 3  # `x+`, `x{2,}`: up to this many beyond the minimum (reggen's limit)


def reveal(text: str) -> str:
    """The inverse of the extractor's `conceal` (ROT13/ROT5 are their own inverse)."""
    return text.translate(_ROT)[::-1]


def go_to_python(regex: str) -> str:
    """The few RE2 spellings Python's `re` reads differently."""
    return regex.replace(r"\z", r"\Z").replace("[[:alnum:]]", "[A-Za-z0-9]")


def from_regex(regex: str, rng: random.Random) -> str:
    """A random string that the regex matches in full (like gitleaks' `secrets.NewSecret`)."""
    tree = sre_parse.parse(go_to_python(regex))
    out: list[str] = []
    _emit(list(tree.data), rng, out)
    return "".join(out)


def _emit(items: list[tuple[Any, Any]], rng: random.Random, out: list[str]) -> None:
    for op, av in items:
        if op is sre_c.LITERAL:
            out.append(chr(av))
        elif op is sre_c.NOT_LITERAL:
            out.append(rng.choice([c for c in _PRINTABLE if ord(c) != av]))
        elif op is sre_c.ANY:
            out.append(rng.choice(string.ascii_letters + string.digits))
        elif op is sre_c.IN:
            out.append(_pick_in(av, rng))
        elif op is sre_c.BRANCH:
            _emit(list(rng.choice(av[1])), rng, out)
        elif op is sre_c.SUBPATTERN:
            _emit(list(av[-1]), rng, out)
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None)):
            lo, hi, sub = av
            if hi is sre_c.MAXREPEAT or hi > lo + 64:
                hi = lo + UNBOUNDED_EXTRA
            for _ in range(rng.randint(lo, hi)):
                _emit(list(sub), rng, out)
        elif op in (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT):
            continue  # anchors and look-arounds add no text
        elif op is sre_c.GROUPREF:
            raise ValueError("back-references are not generated")
        else:
            raise ValueError(f"regex element {op} is not generated")


def _pick_in(av: list[tuple[Any, Any]], rng: random.Random) -> str:
    chars: set[str] = set()
    negate = False
    for op, v in av:
        if op is sre_c.NEGATE:
            negate = True
        elif op is sre_c.LITERAL:
            chars.add(chr(v))
        elif op is sre_c.RANGE:
            chars.update(chr(c) for c in range(v[0], min(v[1], 0x7E) + 1))
        elif op is sre_c.CATEGORY:
            chars.update(_CATEGORY[v])
    if negate:
        chars = set(_PRINTABLE) - chars
    return rng.choice(sorted(chars))


@dataclass(frozen=True)
class Sample:
    """One of gitleaks' samples for one of its rules."""

    rule: str  # gitleaks' rule id
    positive: bool
    text: str
    path: str | None  # set for the rules gitleaks validates with file paths
    n: int  # position among the rule's samples of that kind


def build(parts: list[Any], rng: random.Random) -> str:
    """A recipe's text: literals revealed, random parts drawn, base64 parts encoded."""
    out: list[str] = []
    for p in parts:
        if p[0] == "l":
            out.append(reveal(p[1]))
        elif p[0] == "g":
            out.append(from_regex(p[1], rng))
        elif p[0] == "p":  # generic.go's newPlausibleSecret: one with a digit 1-9
            while not re.search("[1-9]", s := from_regex(p[1], rng)):
                pass
            out.append(s)
        elif p[0] == "b64":
            raw = build(p[2], rng).encode()
            enc = {
                "std": base64.standard_b64encode,
                "rawstd": base64.standard_b64encode,
                "url": base64.urlsafe_b64encode,
                "rawurl": base64.urlsafe_b64encode,
            }[p[1]](raw).decode()
            out.append(enc.rstrip("=") if p[1].startswith("raw") else enc)
        else:
            raise ValueError(f"unknown recipe part {p[0]!r}")
    return "".join(out)


@cache
def recipes() -> dict[str, Any]:
    """The committed recipes (read once)."""
    data: dict[str, Any] = json.loads(DATA.read_text("utf-8"))
    return data


def samples(seed: str = "gitleaks") -> list[Sample]:
    """Every sample of every rule, generated with a seed per rule (reproducible)."""
    data = recipes()
    templates = [reveal(t) for _, t in sorted(data["templates"].items())]
    out: list[Sample] = []
    for rule in data["rules"]:
        rng = random.Random(f"{seed}:{rule['id']}:{rule['func']}")
        for positive, key in ((True, "positives"), (False, "negatives")):
            n = 0
            for entry in rule[key]:
                texts: list[str]
                text = entry["text"]
                if isinstance(text, dict):  # GenerateSampleSecrets(identifier, secret)
                    ident = reveal(text["samples"])
                    secret = build(text["secret"], rng)
                    texts = [
                        t.replace("{i}", ident).replace("{I}", ident.upper()).replace("{s}", secret)
                        for t in templates
                    ]
                else:
                    texts = [build(text, rng)]
                for t in texts:
                    out.append(Sample(rule["id"], positive, t, entry.get("path"), n))
                    n += 1
    return out
