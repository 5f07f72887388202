"""Evidence for an auditor and the incident view of one session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pretense_dev.audit.evidence import anchor_from_evidence, build_evidence, render_markdown
from pretense_dev.audit.incident import build_incident, render_text
from pretense_dev.audit.sample import REPOS, START
from pretense_dev.audit.store import AuditStore
from tests.conftest import run_cli

from .conftest import raw

DAY = 86400.0


def evidence(path: Path, **kw: Any) -> dict[str, Any]:
    with AuditStore.open_readonly(path) as store:
        return build_evidence(store, since=START - DAY, until=START + DAY, **kw)


def test_coverage_figures_match_the_events(seeded: Path) -> None:
    doc = evidence(seeded)
    with AuditStore.open_readonly(seeded) as store:
        evs = [s.event for s in store.events()]
    reqs = [e for e in evs if e.event == "request"]
    fwd = [e for e in reqs if e.decision == "forwarded"]
    cov = doc["coverage"]
    assert isinstance(cov, dict)
    assert cov["requests"] == {
        "total": len(reqs),
        "forwarded": len(fwd),
        "forwarded_protected": sum(e.mutation_active for e in fwd),
        "forwarded_unprotected": sum(not e.mutation_active for e in fwd),
        "blocked": sum(e.decision == "blocked" for e in reqs),
        "error": 0,
        "protected_ratio": round(sum(e.mutation_active for e in fwd) / len(fwd), 6),
    }
    assert cov["identifiers_protected"] == len(
        {n for e in fwd if e.mutation_active for n in e.identifiers}
    )
    assert cov["secrets"] == {
        "blocked": sum(len(e.secrets) for e in evs if e.decision == "blocked"),
        "went_out": 0,
    }
    assert cov["drift_events"] == sum(e.event == "drift_detected" for e in evs)
    assert cov["file_reads_blocked"] == sum(e.event == "file_read_blocked" for e in evs)
    assert cov["sessions"] == 15 and cov["sessions_hook_guarded_only"] == 2


def test_sessions_carry_what_an_auditor_asks_for(seeded: Path) -> None:
    doc = evidence(seeded)
    sessions = doc["sessions"]
    assert isinstance(sessions, list)
    s = next(s for s in sessions if s["requests_forwarded_unprotected"])
    asked = ["tools", "users", "machines", "repo_ids", "vendors", "models", "start", "end"]
    asked += ["requests", "identifiers_protected", "secrets_blocked", "drift_events"]
    for key in asked:
        assert key in s
    assert s["users"] == ["dana"] and s["machines"] == ["dana-laptop"]
    assert s["status"] == "exception"


def test_chain_and_controls(seeded: Path) -> None:
    doc = evidence(seeded)
    chain = doc["chain"]
    assert isinstance(chain, dict)
    assert chain["verified"] is True and chain["head"]["seq"] == 96
    controls = {c["id"]: c for c in doc["controls"]}
    assert set(controls) == {
        "SOC 2 CC6.7",
        "ISO/IEC 27001:2022 A.8.12",
        "ISO/IEC 27001:2022 A.5.14",
    }
    assert controls["SOC 2 CC6.7"]["status"] == "exceptions"
    assert controls["SOC 2 CC6.7"]["exceptions"] == {"coverage.requests.forwarded_unprotected": 2}
    assert controls["ISO/IEC 27001:2022 A.5.14"]["exceptions"] == {"coverage.drift_events": 2}


def test_period_and_repository_narrow_the_evidence(seeded: Path) -> None:
    with AuditStore.open_readonly(seeded) as store:
        early = build_evidence(store, since=START, until=START + 3600)
        one_repo = build_evidence(store, since=START, until=START + DAY, repo=REPOS[0][1])
    assert early["coverage"]["sessions"] == 3
    repos = {r for s in one_repo["sessions"] for r in s["repo_paths"]}
    assert repos == {REPOS[0][1]}


def test_a_clean_period_supports_every_control(seeded: Path) -> None:
    with AuditStore.open_readonly(seeded) as store:
        doc = build_evidence(store, since=START, until=START + 1000)
    assert [c["status"] for c in doc["controls"]] == ["supported"] * 3


def test_a_broken_chain_is_an_exception_everywhere(seeded: Path) -> None:
    with raw(seeded) as c:
        c.execute("DELETE FROM events WHERE seq = 2")
    doc = evidence(seeded)
    assert doc["chain"]["verified"] is False
    assert doc["chain"]["problems"] == ["row 2: missing: row 2 deleted"]
    assert all(c["exceptions"].get("chain.verified") is False for c in doc["controls"])


def test_markdown_report_states_the_same(seeded: Path) -> None:
    doc = evidence(seeded)
    md = render_markdown(doc)
    assert "The audit log verifies **intact**: 96 rows re-derived" in md
    assert "| requests forwarded, unprotected | 2 |" in md
    assert "### SOC 2 CC6.7 — exceptions" in md
    assert md.count("| claude-code |") == 12  # 16 sessions: 2 cursor, 2 copilot


def test_cli_evidence_then_verify_against_it(seeded: Path, tmp_path: Path) -> None:
    out = tmp_path / "evidence.json"
    r = run_cli("audit", "--db", str(seeded), "evidence", "--since", "3650d", "--output", str(out))
    assert r.code == 0, r.err
    assert "15 sessions, 71 requests forwarded (97.18% protected), 2 unprotected" in r.err
    doc = json.loads(out.read_text())
    assert anchor_from_evidence(doc).seq == 96
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    r = run_cli("audit", "--db", str(seeded), "verify", "--anchor-file", str(out))
    assert r.code == 0 and "1 recorded head(s) found" in r.out
    with raw(seeded) as c:
        c.execute("DELETE FROM events WHERE seq > 94")
    r = run_cli("audit", "--db", str(seeded), "verify", "--anchor-file", str(out))
    assert r.code == 1 and "row 96: truncated" in r.out
    md = run_cli(
        "audit", "--db", str(seeded), "evidence", "--since", "3650d", "--format", "markdown"
    )
    assert md.code == 0 and md.out.startswith("# AI coding tools: data-protection evidence")


def test_incident_of_a_session_with_an_unprotected_request(seeded: Path) -> None:
    with AuditStore.open_readonly(seeded) as store:
        sid = store.conn.execute(
            "SELECT session FROM sessions WHERE unprotected > 0 ORDER BY first_seq LIMIT 1"
        ).fetchone()[0]
        doc = build_incident(store, sid[:10])
    assert doc["session"] == sid
    assert doc["counts"]["forwarded_unprotected"] == 1
    (u,) = doc["unprotected_requests"]
    assert u["reason"] == "repository not initialised: forwarded without protection"
    assert doc["identifiers_protected"] and doc["files_read"]
    assert doc["chain"]["verified"] is True
    text = render_text(doc)
    assert "UNPROTECTED REQUESTS (1)" in text and f"row {u['seq']}" in text


def test_incident_lists_secrets_by_rule_and_fingerprint(seeded: Path) -> None:
    with AuditStore.open_readonly(seeded) as store:
        sid = store.conn.execute(
            "SELECT session FROM sessions WHERE tool = 'cursor' LIMIT 1"
        ).fetchone()[0]
        doc = build_incident(store, sid)
    (s,) = doc["secrets"]
    assert (s["rule"], s["where"], s["decision"], s["went_out"]) == (
        "dotenv-secret",
        ".env:3",
        "blocked",
        False,
    )
    assert s["fingerprint"].startswith("fp:")
    assert doc["files_read"] == [{"path": ".env", "times": 1}]


def test_incident_cli(seeded: Path) -> None:
    r = run_cli("audit", "--db", str(seeded), "incident", "nope")
    assert r.code == 1 and r.err.startswith("pretense-dev: no session 'nope' in ")
    r = run_cli("audit", "--db", str(seeded), "incident", "cursor-")
    assert r.code == 2 and "ambiguous" in r.err
    with AuditStore.open_readonly(seeded) as store:
        sid = store.conn.execute("SELECT session FROM sessions LIMIT 1").fetchone()[0]
    r = run_cli("audit", "--db", str(seeded), "incident", sid, "--json")
    assert r.code == 0 and json.loads(r.out)["session"] == sid
