"""Coverage is stated, never implied: what the map cannot read, said by every command.

init, status, doctor, verify and the compliance evidence each say it.

The repositories mix a language with a grammar (Python) and languages with
none (Swift, Scala), real files in real git repositories, the CLI in a fresh
interpreter.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pretense_dev.audit import events as ev
from pretense_dev.audit.store import AuditStore
from pretense_dev.identifiers.coverage import SOURCE_EXTENSIONS, Coverage, coverage
from tests.conftest import run_cli, write

FILES = {
    "billing/ledger.py": "class LedgerReconciler:\n    def settle_refund(self): pass\n",
    "ios/Tariff.swift": "struct TariffSchedule { let clinicFee: Int }\n",
    "ios/Clinic.swift": "final class ClinicRoster {}\n",
    "ios/Ward.swift": "enum WardKind { case acute }\n",
    "jobs/Refunds.scala": "object RefundBatcher { def run(): Unit = () }\n",
    "README.md": "# Ledger\n",
    "config/app.yml": "name: ledger\n",
    "package.json": '{"name": "ledger-web"}\n',
}
HEADLINE = (
    "coverage: 1 of 5 source files read (20.0%); the names defined in the other 4 are NOT "
    "protected:"
)
SWIFT = (
    "  3 .swift files: pretense-dev cannot read Swift, so the names they define are not protected"
)
SCALA = "  1 .scala file: pretense-dev cannot read Scala, so the names it defines are not protected"
SUMMARY = (
    "4 of 5 source files cannot be read (Swift 3, Scala 1): the names they define are not protected"
)


@pytest.fixture
def mixed(git_repo: Path) -> Path:
    write(git_repo, FILES)
    r = run_cli("init", "--no-tools", "--no-hooks", cwd=git_repo)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    at = lines.index("  names protected: 5")
    assert lines[at + 1 : at + 4] == ["  " + HEADLINE, "  " + SWIFT, "  " + SCALA]
    rest = [line for line in lines[at + 4 :] if not line.startswith("  to do: ")]
    assert rest[0] == "  tools: not configured (--no-tools)"
    return git_repo


def test_init_says_which_languages_it_cannot_read(mixed: Path) -> None:
    pass  # the fixture asserts init's exact lines


def test_status_says_it_too(mixed: Path) -> None:
    r = run_cli("status", cwd=mixed)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[2] == "files:      8"
    assert sorted(lines[3:6]) == ["  npm         1", "  other       6", "  python      1"]
    assert lines[6:] == ["protected:  5 names (map version 1)", HEADLINE, SWIFT, SCALA]


def test_index_adds_one_line(mixed: Path) -> None:
    r = run_cli("index", cwd=mixed)
    assert r.code == 0, r.err
    assert r.out.splitlines()[1:] == [f"  {SUMMARY}"]


def test_doctor_warns(mixed: Path) -> None:
    r = run_cli("doctor", cwd=mixed)
    lines = r.out.splitlines()
    at = lines.index("ok    index: 8 files, 5 names protected (map version 1)")
    assert lines[at + 1] == f"warn  coverage: {SUMMARY}"


def test_verify_warns_in_one_line(mixed: Path) -> None:
    r = run_cli("verify", cwd=mixed)
    assert r.code == 1  # no proxy here: verify fails on that, and also states the coverage
    assert [line for line in r.err.splitlines() if "source files" in line] == [f"warn {SUMMARY}"]
    j = run_cli("verify", "--json", cwd=mixed)
    checks = [c for c in json.loads(j.out)["checks"] if c["name"] == "coverage"]
    assert checks == [
        {
            "name": "coverage",
            "ok": False,
            "problem": SUMMARY,
            "fix": "",
            "warning": True,
            "line": SUMMARY,
        }
    ]


def test_a_repository_read_in_full_says_so_and_verify_adds_nothing(git_repo: Path) -> None:
    write(git_repo, {"billing/ledger.py": FILES["billing/ledger.py"], "README.md": "# x\n"})
    r = run_cli("init", "--no-tools", "--no-hooks", cwd=git_repo)
    assert "  coverage: every source file is read (1)" in r.out.splitlines()
    assert "NOT protected" not in r.out
    d = run_cli("doctor", cwd=git_repo)
    assert "ok    coverage: every source file is read (1)" in d.out.splitlines()
    v = run_cli("verify", "--json", cwd=git_repo)
    assert "coverage" not in {c["name"] for c in json.loads(v.out)["checks"]}


def test_no_source_file_no_coverage_line(git_repo: Path) -> None:
    write(git_repo, {"README.md": "# x\n", "docs/guide.md": "text\n"})
    r = run_cli("init", "--no-tools", "--no-hooks", cwd=git_repo)
    assert r.code == 0, r.err
    assert "coverage" not in r.out
    assert "coverage" not in run_cli("doctor", cwd=git_repo).out


def test_an_index_older_than_a_grammar_says_to_rebuild(mixed: Path) -> None:
    # An index written before Python had a grammar recorded .py files without a language;
    # unchanged files are not re-read, so the fix is a full rebuild.
    conn = sqlite3.connect(mixed / ".pretense/index.db")
    with conn:
        conn.execute("UPDATE files SET language = NULL WHERE path LIKE '%.py'")
    conn.close()
    lines = run_cli("status", cwd=mixed).out.splitlines()
    assert lines[-4:] == [
        "coverage: 0 of 5 source files read (0.0%); the names defined in the other 5 are NOT "
        "protected:",
        SWIFT,
        SCALA,
        "  1 .py file was indexed before pretense-dev could read Python: run "
        "`pretense-dev index --full`",
    ]
    assert run_cli("index", "--full", cwd=mixed).code == 0
    assert run_cli("status", cwd=mixed).out.splitlines()[-3:] == [HEADLINE, SWIFT, SCALA]


def test_evidence_records_each_repositorys_coverage(mixed: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    repo_id = (mixed / ".pretense/repo-id").read_text().strip()
    with AuditStore(db) as store:
        store.append(
            ev.AuditEvent(
                event=ev.REQUEST,
                session_id="s1",
                tool="claude-code",
                repo_id=repo_id,
                repo_path=str(mixed),
                vendor="anthropic",
                mutation_active=True,
                identifiers_protected=2,
                identifiers=("LedgerReconciler", "settle_refund"),
                decision=ev.FORWARDED,
            )
        )
        store.append(
            ev.AuditEvent(
                event=ev.REQUEST,
                session_id="s2",
                repo_id="gone",
                decision=ev.FORWARDED,
                mutation_active=True,
            )
        )
    out = tmp_path / "evidence.json"
    r = run_cli("audit", "--db", str(db), "evidence", "--output", str(out))
    assert r.code == 0, r.err
    assert r.err.endswith(
        "; 4 source files in languages the identifier map cannot read (repositories[])\n"
    )
    doc = json.loads(out.read_text())
    assert doc["repositories"] == [
        {"repo_id": "gone", "repo_path": "", "index": None},
        {
            "repo_id": repo_id,
            "repo_path": str(mixed),
            "index": {
                "files_indexed": 8,
                "source_files": 5,
                "source_files_read": 1,
                "source_files_unread": 4,
                "source_read_ratio": 0.2,
                "unread_by_extension": {".scala": 1, ".swift": 3},
                "stale_by_extension": {},
                "languages_without_grammar": ["Swift", "Scala"],
            },
        },
    ]
    assert doc["coverage"]["source_files_unread"] == 4
    assert doc["coverage"]["repositories_without_index"] == 1
    controls = {c["id"]: c for c in doc["controls"]}
    assert controls["ISO/IEC 27001:2022 A.8.12"]["status"] == "exceptions"
    assert controls["ISO/IEC 27001:2022 A.8.12"]["exceptions"] == {
        "coverage.source_files_unread": 4
    }
    md = run_cli("audit", "--db", str(db), "evidence", "--format", "markdown").out
    assert "## What the identifier map reads" in md
    assert f"| {mixed} | 5 | 1 | 4 | .swift 3, .scala 1 |" in md.splitlines()
    assert "| gone | ? | ? | ? | no index found on this machine |" in md.splitlines()
    assert "LedgerReconciler" not in out.read_text()  # counts only


def test_every_extension_with_a_grammar_counts_as_source() -> None:
    # Else an index made before that grammar existed would not be reported as stale.
    from pretense_dev.identifiers.languages import EXTENSIONS

    assert set(EXTENSIONS) <= set(SOURCE_EXTENSIONS)


def test_what_counts_as_source() -> None:
    cov = coverage(
        [
            ("a.py", "python"),
            ("web/package.json", "npm"),
            ("docs/x.md", None),
            ("data.json", None),
            ("ci.yml", None),
            ("Makefile", None),
            ("app/Http/Kernel.PHP", None),
            ("views/welcome.blade.php", None),
            ("build.gradle.kts", None),
            ("lib/x.h", None),
        ]
    )
    assert (cov.files, cov.read, cov.unread_files, cov.source_files) == (10, 1, 4, 5)


@given(
    st.lists(
        st.tuples(
            st.sampled_from([*sorted(SOURCE_EXTENSIONS), ".md", ".json", ".txt", ""]),
            st.sampled_from([None, "python", "npm"]),
        ),
        max_size=40,
    )
)
def test_every_file_is_counted_once(rows: list[tuple[str, str | None]]) -> None:
    cov = coverage((f"f{i}{ext}", lang) for i, (ext, lang) in enumerate(rows))
    assert cov.files == len(rows)
    assert cov.read == sum(lang == "python" for _, lang in rows)
    assert cov.unread_files == sum(lang is None and ext in SOURCE_EXTENSIONS for ext, lang in rows)
    lines = cov.lines()
    assert bool(lines) == bool(cov.source_files)
    assert ("NOT protected" in "".join(lines)) == bool(cov.unread_files)


def test_partial_coverage_never_rounds_to_all_or_nothing() -> None:
    most = Coverage(files=2001, read=2000, unread=Counter({".swift": 1}))
    assert most.lines()[0].startswith("coverage: 2,000 of 2,001 source files read (>99.9%)")
    few = Coverage(files=2001, read=1, unread=Counter({".swift": 2000}))
    assert few.lines()[0].startswith("coverage: 1 of 2,001 source files read (<0.1%)")


def test_php_kotlin_c_and_cpp_files_are_read_and_their_names_protected(git_repo: Path) -> None:
    write(
        git_repo,
        {
            "app/Refunds.php": "<?php\nclass RefundLedgerPhp { function settlePhpBatch() {} }\n",
            "app/Refunds.kt": "class RefundLedgerKt { fun settleKtBatch() {} }\n",
            "native/refunds.c": "int settle_c_batch(int refund_cents) { return refund_cents; }\n",
            "native/refunds.h": "class RefundLedgerCpp { void settleCppBatch(); };\n",
            "native/refunds.cpp": "namespace tariffs { int clinic_rate = 3; }\n",
        },
    )
    r = run_cli("init", "--no-tools", "--no-hooks", cwd=git_repo)
    assert r.code == 0, r.err
    assert "  coverage: every source file is read (5)" in r.out.splitlines()
    from pretense_dev.repo import Repo

    with Repo(git_repo).open_store() as store:
        protected = set(store.load_map().forward)
    assert {
        "RefundLedgerPhp",
        "settlePhpBatch",
        "RefundLedgerKt",
        "settleKtBatch",
        "settle_c_batch",
        "refund_cents",
        "RefundLedgerCpp",
        "settleCppBatch",
        "tariffs",
        "clinic_rate",
    } <= protected
    e = run_cli("explain", "settleKtBatch", cwd=git_repo)
    assert e.out.startswith("settleKtBatch: protected — "), e.out
