"""One table test over the whole rules file (rules as data, positives generated at run time).

Every rule fires on positives generated at run time from its format, in the
assignment contexts of the languages we parse, and stays quiet on its
negatives; no test file holds a secret-shaped literal.
"""

from __future__ import annotations

import json
import random

import pytest

from pretense_dev.secrets import Detector
from pretense_dev.secrets.rules import Rule, default_rules, parse_rules
from pretense_dev.secrets.samples import generate

KEY = bytes(range(32))
RULES = default_rules()
SAMPLED = [r for r in RULES if r.sample]


def contexts(rule: Rule, value: str) -> list[tuple[str, str | None]]:
    """(text, path) pairs that put `value` where people put secrets."""
    out: list[tuple[str, str | None]]
    if rule.sample_path:
        out = [(value, rule.sample_path)]
        if rule.family == "private-key":
            out.append((f'{{"key": {json.dumps(value)}}}\n', "key.json"))
        return out
    if "\n" in value:
        return [(value, None), (value, "notes.txt")]
    name = rule.sample_key or "cfg_value"
    if rule.sample_key is None and (" " in value or '"' in value):
        return [(value, None), (f"{value}\n", "notes.md"), (f"x = {json.dumps(value)}\n", "a.py")]
    q = json.dumps(value)
    out = [
        (f"{name} = {q}\n", "settings.py"),
        (f"const {name} = {q};\n", "config.js"),
        (f"export const {name}: string = {q};\n", "config.ts"),
        (f"{name} := {q}\n", "main.go"),
        (f"private static final String {name} = {q};\n", "App.java"),
        (f"var {name} = {q};\n", "App.cs"),
        (f"{name} = '{value}'\n", "config.rb"),
        (f"let {name} = {q};\n", "main.rs"),
        (f"{name}: {value}\n", "values.yaml"),
        (json.dumps({name: value}) + "\n", "config.json"),
        (f"{name.upper()}={value}\n", ".env"),
    ]
    if rule.sample_key is None:
        out.append((f"please use {value} for the deploy", None))
    return out


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(KEY)


@pytest.mark.parametrize("rule", SAMPLED, ids=lambda r: r.id)
def test_rule_fires_on_generated_positives(rule: Rule, detector: Detector) -> None:
    rng = random.Random(f"positive:{rule.id}")
    for _ in range(3):
        assert rule.sample is not None
        value = generate(rule.sample, rng)
        for text, path in contexts(rule, value):
            found = detector.scan_text(text, path)
            rules = [f.rule for f in found]
            assert rule.id in rules, (rule.id, path, text.replace(value, "<generated>"))
            for f in found:
                assert value not in repr(f)  # the value itself is never in a finding


@pytest.mark.parametrize("rule", [r for r in RULES if r.negatives], ids=lambda r: r.id)
def test_rule_quiet_on_negatives(rule: Rule, detector: Detector) -> None:
    rng = random.Random(f"negative:{rule.id}")
    for template in rule.negatives:
        text = generate(template, rng)
        for t, path in ((text, rule.sample_path), (f"x = {json.dumps(text)}\n", "a.py")):
            found = detector.scan_text(t, path)
            assert found == [], (rule.id, template, [f.rule for f in found])


def test_rules_file_compiles_and_every_keyword_occurs_in_a_sample() -> None:
    from importlib import resources

    text = resources.files("pretense_dev.secrets").joinpath("rules.toml").read_text("utf-8")
    rules = parse_rules(text, compile_all=True)
    rng = random.Random("keywords")
    for r in rules:
        if r.sample is None:
            continue
        sample = generate(r.sample, rng).lower()
        context = f"{(r.sample_key or '').lower()} {sample}"
        assert any(k in context for k in r.keywords), r.id


def test_every_gitleaks_default_rule_is_mapped() -> None:
    from tests.secrets.gitleaks_ids import GITLEAKS_DEFAULT_IDS

    mapped = {g for r in RULES for g in r.gitleaks}
    assert GITLEAKS_DEFAULT_IDS - mapped == set()
    assert mapped - GITLEAKS_DEFAULT_IDS == set()
