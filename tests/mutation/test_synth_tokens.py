"""Scheme-2 synthetics cost what the names they replace cost, in o200k and cl100k tokens.

The tokenizers come from `bench/_tokens.py` (the npm ``tiktoken`` package's
vocabulary files, loaded into Python ``tiktoken``): only tests and benches
tokenize, never the runtime path.
"""

from __future__ import annotations

import pytest

from bench._tokens import ENCODINGS, count, encoding
from pretense_dev.mutation import IdentifierMap, synthesize
from pretense_dev.mutation.synth import HINTS2
from tests.identifiers.cases import CASES
from tests.mutation.test_parses_after_mutation import MIN_LENGTH

KEY = bytes(range(32))


@pytest.mark.parametrize("enc", ENCODINGS)
def test_the_tokenizer_is_the_real_one(enc: str) -> None:
    # Published ids for "hello world" (tiktoken's own test suite).
    expected = {"o200k_base": [24912, 2375], "cl100k_base": [15339, 1917]}[enc]
    assert encoding(enc).encode("hello world") == expected


@pytest.mark.parametrize("enc", ENCODINGS)
def test_every_hint_in_every_shape_and_any_three_digits_is_one_token(enc: str) -> None:
    for hint in set(HINTS2.values()):
        for shaped in (hint, hint.capitalize(), hint.upper(), "_" + hint):
            assert count(enc, shaped) == 1, shaped
    for i in range(1000):
        assert count(enc, f"{i:03d}") == 1
        assert count(enc, f"fn{i:03d}") == 2


class ThreeDigits:
    """Takes every synthetic with 3 digits."""

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and sum(c.isdigit() for c in token) == 3


@pytest.mark.parametrize("enc", ENCODINGS)
@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("reconcile_batch", "method"),
        ("LedgerReconciler", "class"),
        ("MAX_REFUND_CENTS", "constant"),
        ("_customer_tier", "field"),
        ("refundTotalCents", "parameter"),
    ],
)
def test_a_synthetic_is_two_tokens_and_three_once_its_hint_is_full(
    enc: str, name: str, kind: str
) -> None:
    first = synthesize(KEY, name, kind, (), 2)
    second = synthesize(KEY, name, kind, {first}, 2)  # a collision probes another 3 digits
    third = synthesize(KEY, name, kind, ThreeDigits(), 2)  # every 3-digit slot taken
    assert count(enc, first) == count(enc, second) == 2, (first, second)
    assert count(enc, third) == 3, third
    # Scheme 1, which existing repositories keep, for comparison: 4 to 7 tokens.
    assert count(enc, synthesize(KEY, name, kind, (), 1)) >= 4


@pytest.mark.parametrize("enc", ENCODINGS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.language)
def test_mutated_snippets_cost_at_most_three_percent_more(enc: str, case: object) -> None:
    from pretense_dev.identifiers.extract import extract_definitions, module_definitions

    src = case.source.encode()  # type: ignore[attr-defined]
    lang, path = case.language, case.path  # type: ignore[attr-defined]
    defs = extract_definitions(src, lang) + module_definitions(path, lang)
    taken: set[str] = set()
    forward: dict[str, str] = {}
    for d in sorted(defs, key=lambda d: d.name):
        if len(d.name) >= MIN_LENGTH and d.name not in forward:
            forward[d.name] = synthesize(KEY, d.name, d.kind, taken, 2)
            taken.add(forward[d.name])
    assert forward
    text = case.source  # type: ignore[attr-defined]
    before, after = count(enc, text), count(enc, IdentifierMap(forward).mutate(text))
    assert after <= before * 1.03, (before, after)
