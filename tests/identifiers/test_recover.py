"""Definitions in regions the grammar mis-parses are still found (identifiers/recover.py).

Each source below holds constructs real code uses and the installed grammars
get wrong (tree-sitter-kotlin 1.1 on a property named ``set`` and on
``in1.close()``; tree-sitter-cpp on ``extern "C" {`` split across ``#ifdef``s,
on declarations built by macros, and on ``API_MACRO Type name(…)``).  The
tests first check that the grammar does fail there (so that they keep testing
recovery if a grammar is fixed, they say so), then that every name the source
coins is found, and that what the recovery must not add (names in comments
and strings, overrides, extension receivers, forward declarations, a method
defined outside its class) stays out.
"""

from __future__ import annotations

import pytest

from pretense_dev.identifiers.extract import (
    extract_definitions,
    misparsed_regions,
    raw_definitions,
)
from pretense_dev.identifiers.languages import GRAMMARS
from pretense_dev.identifiers.recover import KEYWORDS, PATTERNS

KOTLIN = """\
package com.acmepay.settlement

/** Bitfield of which settlement flags are set; see [SettlementFlags]. */
class SettlementFlags {
  private var set: Int = 0

  operator fun set(flagIndex: Int, flagValue: Int): SettlementFlags {
    val flagBit = 1 shl flagIndex
    set = set or flagBit
    return this
  }

  fun isFlagged(flagIndex: Int): Boolean = set and (1 shl flagIndex) != 0

  override fun reconcilePayouts(): String = "class FakeSettlementName"

  // class NotDeclaredHere
  inner class PayoutWindow(val payoutLimit: Long)

  companion object {
    const val SETTLEMENT_RETRY_LIMIT = 3
  }
}

class PayoutStreamTest {
  fun payoutStreamCloses() {
    val in1 = openPayoutStream()
    in1.close()
    val remainingPayouts = 2
  }

  fun payoutStreamDrains(): Int = ReconcileJob::class.hashCode()
}

@Delete
class LedgerShadowPlatform

@Internal
const val SETTLEMENT_WINDOW_DAYS = 3

private val LogRecord.payoutLevel: Int
  get() = 1
"""

HEADER = """\
#ifndef LEDGER_H
#define LEDGER_H

#ifdef __cplusplus
extern "C" {
#endif

/* struct CommentOnlyLedger { is not code */
struct sockaddr;

#define LEDGER_HANDLE_FIELDS                                                  \\
  void* ledger_data;                                                          \\
  struct ledger_loop_s* ledger_loop;

#define LEDGER_PIPE_PRIVATE_FIELDS                                            \\
  typedef struct ledger_pipe_accept_s {                                       \\
    struct ledger_pipe_accept_s* next_accept;                                 \\
  } ledger_pipe_accept_t;

#define LEDGER_CHECK(cond) do { if (!(cond)) { return LEDGER_EINVAL; } } while (0)

struct ledger_handle_s {
  LEDGER_HANDLE_FIELDS
};

struct ledger_stream_s {
  LEDGER_HANDLE_FIELDS
  size_t write_queue_size;
  LEDGER_PIPE_PRIVATE_FIELDS
};

LEDGER_EXTERN int ledger_loop_init(struct ledger_loop_s* loop);

#ifdef __cplusplus
}
#endif
#endif
"""

CPP = """\
LEDGER_BEGIN_NAMESPACE
struct payout_formatter {
  int payout_width;
};
LEDGER_END_NAMESPACE

struct convertible_to_cents {
  operator const long*() const { return nullptr; }
};

LEDGER_API Cardinality AtLeastCents(int min_cents);
LEDGER_API std::string format_payout(const payout_formatter& pf);

int Ledger::post_entry() { return 0; }
"""


@pytest.mark.parametrize(
    ("source", "language"),
    [(KOTLIN, "kotlin"), (HEADER, "cpp"), (CPP, "cpp")],
    ids=["kotlin", "c-header", "cpp"],
)
def test_the_grammar_does_fail_on_these_sources(source: str, language: str) -> None:
    assert misparsed_regions(source.encode(), language), (
        "the grammar now parses this source: recovery is no longer exercised here"
    )


def test_kotlin_names_in_a_broken_class_are_found() -> None:
    found = {d.name: d.kind for d in extract_definitions(KOTLIN.encode(), "kotlin")}
    assert found == {
        "acmepay": "module",
        "settlement": "module",
        "SettlementFlags": "class",
        "flagIndex": "parameter",
        "flagValue": "parameter",
        "flagBit": "variable",
        "isFlagged": "function",
        "PayoutWindow": "class",
        "payoutLimit": "variable",
        "SETTLEMENT_RETRY_LIMIT": "constant",
        "PayoutStreamTest": "class",
        "payoutStreamCloses": "function",
        "in1": "variable",
        "remainingPayouts": "variable",
        "payoutStreamDrains": "function",
        # annotated body-less class and annotated `const val`: no ERROR, but
        # the grammar reads `class` and `val` as identifiers of an expression
        "LedgerShadowPlatform": "class",
        "SETTLEMENT_WINDOW_DAYS": "constant",
        # an extension property: the receiver is someone else's type
        "payoutLevel": "variable",
    }


def test_recovered_names_carry_their_line() -> None:
    lines = {d.name: d.line for d in extract_definitions(KOTLIN.encode(), "kotlin")}
    source_lines = KOTLIN.splitlines()
    for name in ("SettlementFlags", "PayoutWindow", "payoutStreamDrains", "LedgerShadowPlatform"):
        assert name in source_lines[lines[name] - 1], name


def test_kotlin_recovery_adds_no_override_comment_string_or_receiver() -> None:
    raw = {n for n, _, _ in raw_definitions(KOTLIN.encode(), "kotlin")}
    # `set` is found (a property named so) and kept out by the keyword list
    assert "set" in raw
    for name in (
        "reconcilePayouts",  # override fun, in the broken region
        "FakeSettlementName",  # in a string
        "NotDeclaredHere",  # in a comment
        "ReconcileJob",  # `ReconcileJob::class` is a use
        "LogRecord",  # extension receiver
        "Delete",
        "openPayoutStream",
    ):
        assert name not in raw, name


def test_c_header_structs_built_by_macros_are_found() -> None:
    found = {d.name: d.kind for d in extract_definitions(HEADER.encode(), "cpp")}
    assert found == {
        "LEDGER_H": "constant",
        "LEDGER_HANDLE_FIELDS": "constant",
        "LEDGER_PIPE_PRIVATE_FIELDS": "constant",
        # after `extern "C" {` the whole header is one ERROR region
        "ledger_handle_s": "class",
        "ledger_stream_s": "class",
        "write_queue_size": "field",
        # defined inside a macro's body, which the grammar keeps as text
        "ledger_pipe_accept_s": "class",
        "ledger_pipe_accept_t": "type",
        "ledger_data": "field",
        "ledger_loop": "field",
        "next_accept": "field",
        "LEDGER_CHECK": "function",
        "ledger_loop_init": "method",
    }
    raw = {n for n, _, _ in raw_definitions(HEADER.encode(), "cpp")}
    # a forward declaration names a type defined elsewhere (often a library's)
    assert not raw & {"sockaddr", "CommentOnlyLedger", "LEDGER_EXTERN", "LEDGER_EINVAL"}


def test_cpp_declarations_after_macros_are_found() -> None:
    found = {d.name: d.kind for d in extract_definitions(CPP.encode(), "cpp")}
    assert found == {
        "payout_formatter": "class",
        "payout_width": "variable",
        # `LEDGER_END_NAMESPACE struct x {…}` reads as a function x
        "convertible_to_cents": "class",
        # `LEDGER_API Type name(…)` reads as `Type::name` with a missing `::`
        "AtLeastCents": "function",
        "min_cents": "parameter",
        "format_payout": "function",
        "pf": "parameter",
    }
    raw = {n for n, _, _ in raw_definitions(CPP.encode(), "cpp")}
    # a method defined outside its class is declared by its class
    assert not raw & {"post_entry", "Ledger", "Cardinality", "LEDGER_API"}


# One broken source per language where the grammar loses a definition the
# recovery finds; the names the grammar still finds are not listed.
BROKEN = {
    "javascript": (
        "const rates = {;\nclass PayoutLedger {\n}\nfunction settlePayouts( {\n}\n",
        {"settlePayouts"},
    ),
    "go": (
        "package ledger\nfunc (l *Ledger) settlePayouts( {\n}\ntype PayoutLedger struct {\n",
        {"settlePayouts", "PayoutLedger"},
    ),
    "csharp": (
        "#if NET6_0\nnamespace Acme.Ledger\n{\n#else\nnamespace Acme.LedgerLegacy\n{\n#endif\n"
        "    public class PayoutLedger { }\n}\n",
        {"Ledger"},
    ),
    "ruby": (
        "class PayoutLedger < Base\n  def settle_payouts(\n  end\nend\n",
        {"PayoutLedger", "settle_payouts"},
    ),
}


@pytest.mark.parametrize("language", sorted(BROKEN))
def test_other_languages_recover_what_their_grammar_loses(language: str) -> None:
    source, recovered = BROKEN[language]
    assert misparsed_regions(source.encode(), language)
    found = {d.name for d in extract_definitions(source.encode(), language)}
    assert recovered <= found, recovered - found


def test_every_grammar_has_recovery_patterns() -> None:
    assert set(PATTERNS) == set(GRAMMARS)
    assert set(KEYWORDS) == set(GRAMMARS)
