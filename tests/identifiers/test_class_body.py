"""Python class bodies: what the body block itself defines, and nothing deeper.

Methods, fields and enum members are read from the captured body block
(`extract._class_body_members`) rather than by query patterns; these pin the
boundary those patterns had.
"""

from __future__ import annotations

from pretense_dev.identifiers.extract import extract_definitions

SOURCE = b"""
import enum

class Ledger(Base):
    ledger_limit: int = 5
    ledger_rate = 0.1
    ledger_count += 1

    def settle_ledger(self, ledger_amount):
        ledger_local = ledger_amount
        def ledger_inner():
            pass

    @staticmethod
    def reopen_ledger():
        pass

    if ledger_flag:
        def ledger_conditional():
            pass
        ledger_branch_value = 2

    class LedgerEntry:
        entry_total = 3
        def entry_method(self):
            pass

class LedgerTier(enum.Enum):
    GOLD_TIER = 1
    silver_tier = 2

    def tier_describe(self):
        pass

class LedgerFlags(Flag):
    flag_audit = 1
"""


def test_class_body_kinds() -> None:
    found = {d.name: d.kind for d in extract_definitions(SOURCE, "python")}
    assert found["ledger_limit"] == "field"
    assert found["ledger_rate"] == "field"
    assert found["ledger_count"] == "variable"  # augmented: not a body definition
    assert found["settle_ledger"] == "method"
    assert found["reopen_ledger"] == "method"
    assert found["ledger_local"] == "variable"
    assert found["ledger_inner"] == "function"  # nested in a method
    assert found["ledger_conditional"] == "function"  # under an `if` in the body
    assert found["ledger_branch_value"] == "variable"
    assert found["entry_total"] == "field"  # a nested class's own body
    assert found["entry_method"] == "method"
    assert found["GOLD_TIER"] == "member"
    assert found["silver_tier"] == "member"
    assert found["tier_describe"] == "method"
    assert found["flag_audit"] == "member"
