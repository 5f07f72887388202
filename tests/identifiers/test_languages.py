"""What each language's definition query finds, on realistic snippets.

For every language (tests/identifiers/cases.py): the exact set of (name, kind)
after stop lists, that each stopped name was found by the query and is kept
out by the list the case names, that names the code only uses are never
captured, and that overrides / dependency bindings are excluded.
"""

from __future__ import annotations

import pytest

from pretense_dev.identifiers import KINDS
from pretense_dev.identifiers.extract import (
    extract_definitions,
    module_definitions,
    query_source,
    raw_definitions,
)
from pretense_dev.identifiers.languages import GRAMMARS, language_for_path
from pretense_dev.identifiers.stoplists import reason
from tests.identifiers.cases import CASES, Case

REASON_WORDS = {
    "codewords": "generic in code",
    "dunder": "dunder",
    "keywords": "keyword",
    "builtins": "builtin",
    "stdlib": "standard-library",
    "overrides": "usually override",
}


def ids(case: Case) -> str:
    return case.language


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_exact_definitions(case: Case) -> None:
    found = {d.name: d.kind for d in extract_definitions(case.source.encode(), case.language)}
    assert found == case.expected


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_stop_lists_keep_out_what_the_query_finds(case: Case) -> None:
    raw = {n for n, _, _ in raw_definitions(case.source.encode(), case.language)}
    for name, which in case.stopped.items():
        assert name in raw, f"{name} is not even captured: the stop list is not what keeps it out"
        why = reason(name, case.language)
        assert why is not None and REASON_WORDS[which] in why, (name, why)
    # Every language's snippet exercises at least one language list.
    assert set(case.stopped.values()) - {"codewords"}


def test_the_cases_exercise_the_code_words_list() -> None:
    assert sum("codewords" in c.stopped.values() for c in CASES) >= len(CASES) - 1


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_used_names_and_exclusions_are_never_captured(case: Case) -> None:
    raw = {n for n, _, _ in raw_definitions(case.source.encode(), case.language)}
    assert case.used, "each case lists names it only uses"
    for name in case.used:
        assert name in case.source, f"{name} does not occur in the snippet: a vacuous check"
    assert not (case.used & raw)
    assert not (case.excluded & raw)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_every_kind_is_known_and_lines_are_right(case: Case) -> None:
    lines = case.source.splitlines()
    for d in extract_definitions(case.source.encode(), case.language):
        assert d.kind in KINDS
        assert d.name in lines[d.line - 1], (d, lines[d.line - 1])


def test_cases_cover_every_language() -> None:
    assert {c.language for c in CASES} == set(GRAMMARS)
    for c in CASES:
        assert language_for_path(c.path) == c.language


@pytest.mark.parametrize("language", sorted(GRAMMARS))
def test_queries_compile_and_empty_input_defines_nothing(language: str) -> None:
    assert query_source(language).strip()
    assert extract_definitions(b"", language) == []


def test_typescript_and_tsx_share_the_ecma_patterns() -> None:
    shared = query_source("_ecma")
    assert shared in query_source("javascript")
    assert shared in query_source("typescript")
    assert query_source("typescript") in query_source("tsx")


@pytest.mark.parametrize(
    ("language", "source", "name", "kind"),
    [
        # On one node, the specific kind beats the catch-all (extract.SAME_NODE).
        ("javascript", "function f({ refundCents }) {}", "refundCents", "parameter"),
        ("javascript", "const { refundCents } = invoice;", "refundCents", "variable"),
        ("typescript", "function f({ refundCents }: P) {}", "refundCents", "parameter"),
        # Across nodes of one name, the most telling kind wins.
        ("python", "ledger_total = 1\ndef ledger_total(): pass\n", "ledger_total", "function"),
        # ALL_CAPS variables and fields are constants.
        ("go", "var DEFAULT_CURRENCY = 1", "DEFAULT_CURRENCY", "constant"),
        ("java", "class A { static final int RETRY_LIMIT = 3; }", "RETRY_LIMIT", "constant"),
    ],
)
def test_kind_resolution(language: str, source: str, name: str, kind: str) -> None:
    found = {d.name: d.kind for d in extract_definitions(source.encode(), language)}
    assert found[name] == kind


@pytest.mark.parametrize(
    ("language", "source", "names"),
    [
        # Sigils and suffixes are not part of the token.
        (
            "ruby",
            "def invoice_paid?; end\ndef settle_ledger!; end",
            {"invoice_paid", "settle_ledger"},
        ),
        ("ruby", "attr_reader :invoice_total\n", {"invoice_total"}),
        ("javascript", "class A { #secretLedger = 1 }", {"secretLedger"}),
        # Dotted package / namespace / module names define each part.
        ("java", "package com.acmepay.ledger.core;", {"acmepay", "ledger"}),
        ("csharp", "namespace AcmePay.Ledger.Reconciliation { }", {"AcmePay", "Ledger"}),
        ("ruby", "module AcmePay::Ledger; end", {"AcmePay", "Ledger"}),
        ("typescript", "namespace AcmePay.Ledger {}", {"AcmePay", "Ledger"}),
        ("rust", "mod ledger_core;", {"ledger_core"}),
        ("go", "package ledgerd", {"ledgerd"}),
    ],
)
def test_token_and_dotted_names(language: str, source: str, names: set[str]) -> None:
    found = {d.name for d in extract_definitions(source.encode(), language)}
    assert names <= found


def test_non_ascii_names_are_skipped() -> None:
    found = {d.name for d in extract_definitions("überweisung_total = 1\n".encode(), "python")}
    assert found == set()


def test_a_repo_trait_defines_the_methods_its_impls_override() -> None:
    src = (
        b"trait LedgerSink { fn record_payout(&self); }\n"
        b"impl LedgerSink for X { fn record_payout(&self) {} }\n"
        b"impl Iterator for X { fn next_payout(&mut self) {} }\n"
    )
    found = {d.name for d in extract_definitions(src, "rust")}
    assert "record_payout" in found
    assert "next_payout" not in found


def test_a_php_override_is_excluded_and_its_interface_still_defines_it() -> None:
    src = (
        b"<?php\ninterface LedgerSink { public function recordPayout(): void; }\n"
        b"class A implements LedgerSink { #[\\Override] public function recordPayout(): void {} }\n"
        b"class B extends Base { #[Override] public function settleBatch(): void {} }\n"
    )
    found = {d.name for d in extract_definitions(src, "php")}
    assert "recordPayout" in found
    assert "settleBatch" not in found


def test_kotlin_overrides_are_excluded() -> None:
    src = (
        b"class A : Base() {\n"
        b"    override fun settleBatch() {}\n"
        b"    override val ledgerLabel = 1\n"
        b"    fun reopenBatch() {}\n"
        b"}\n"
        b"class B(override val payoutLimit: Int) : Limits\n"
    )
    found = {d.name for d in extract_definitions(src, "kotlin")}
    assert "reopenBatch" in found
    assert not found & {"settleBatch", "ledgerLabel", "payoutLimit"}
    assert language_for_path("build.gradle.kts") == "kotlin"


def test_php_inside_html_is_read() -> None:
    src = b"<html><?php foreach ($invoiceLines as $invoiceLine): ?><b><?= $invoiceLine ?></b>"
    src += b"<?php endforeach; ?></html>"
    assert {d.name for d in extract_definitions(src, "php")} == {"invoiceLine"}
    assert language_for_path("resources/views/receipt.phtml") == "php"
    assert language_for_path("resources/views/receipt.blade.php") == "php"


@pytest.mark.parametrize(
    ("relpath", "language", "names"),
    [
        ("billing/ledger_reconciler.py", "python", {"billing", "ledger_reconciler"}),
        # Conventional parts (src, utils) and common words (client) define nothing.
        ("acmepay-client/src/utils/refundQueue.ts", "typescript", {"acmepay", "refundQueue"}),
        # `retry` is a Ruby keyword: every language's lists apply to every file.
        ("services/dunning/retry.go", "go", {"dunning"}),
        # A manifest's own file name is not a module of the repository.
        ("settlement_engine/Cargo.toml", "cargo", {"settlement_engine"}),
        ("go.mod", "gomod", set()),
    ],
)
def test_module_definitions(relpath: str, language: str, names: set[str]) -> None:
    found = {d.name for d in module_definitions(relpath, language)}
    assert found == names
    assert all(d.kind == "module" for d in module_definitions(relpath, language))
