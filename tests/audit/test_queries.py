"""Queries and alerts: paging, filters, alert kinds and thresholds."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest

from pretense_dev.audit import alerts as al
from pretense_dev.audit import queries as q
from pretense_dev.audit.events import AuditEvent
from pretense_dev.audit.sample import REPOS, START
from pretense_dev.audit.store import AuditStore, StoredEvent
from pretense_dev.lifecycle import init_repo
from tests.conftest import run_cli, write


def session_key(e: AuditEvent) -> str:
    if e.session_id:
        return e.session_id
    day = dt.datetime.fromtimestamp(e.time, dt.UTC).strftime("%Y-%m-%d")
    return f"nosession:{e.tool}:{e.repo_id}:{day}"


def by_session(path: Path) -> dict[str, list[StoredEvent]]:
    out: dict[str, list[StoredEvent]] = defaultdict(list)
    with AuditStore.open_readonly(path) as store:
        for s in store.events():
            out[session_key(s.event)].append(s)
    return out


def test_sessions_newest_first_and_paged_without_gaps(seeded: Path) -> None:
    groups = by_session(seeded)
    expected = sorted(groups, key=lambda k: (groups[k][-1].event.time, k), reverse=True)
    with AuditStore.open_readonly(seeded) as store:
        got: list[str] = []
        before = None
        while True:
            page = q.sessions(store.conn, limit=4, before=before)
            if not page:
                break
            got += [r.session for r in page]
            before = (page[-1].last_time, page[-1].session)
        assert got == expected
        assert q.session_count(store.conn) == len(expected)


def test_session_rows_summarise_their_events(seeded: Path) -> None:
    groups = by_session(seeded)
    with AuditStore.open_readonly(seeded) as store:
        for row in q.sessions(store.conn, limit=100):
            evs = [s.event for s in groups[row.session]]
            reqs = [e for e in evs if e.event == "request"]
            assert row.events == len(evs)
            assert row.requests == len(reqs)
            assert row.blocked == sum(e.decision == "blocked" for e in evs)
            assert row.unprotected == sum(
                e.decision == "forwarded" and not e.mutation_active for e in reqs
            )
            assert row.names == max((e.identifiers_protected for e in evs), default=0)
            assert row.first_seq == groups[row.session][0].seq
            assert row.tool == evs[0].tool


@pytest.mark.parametrize(
    ("flt", "predicate"),
    [
        (q.Filter(tool="cursor"), lambda r: r.tool == "cursor"),
        (q.Filter(repo=REPOS[1][0]), lambda r: r.repo_id == REPOS[1][0]),
        (q.Filter(repo=REPOS[1][1] + "/"), lambda r: r.repo_path == REPOS[1][1]),
        (q.Filter(decision="unprotected"), lambda r: r.unprotected > 0),
        (q.Filter(decision="blocked"), lambda r: r.blocked > 0),
        (q.Filter(decision="drift"), lambda r: r.drift > 0),
        (q.Filter(since=START + 3 * 3600), lambda r: r.last_time >= START + 3 * 3600),
        (q.Filter(search="gpt"), lambda r: "gpt" in r.model),
        (q.Filter(search="cursor-"), lambda r: r.session.startswith("cursor-")),
    ],
)
def test_session_filters(seeded: Path, flt: q.Filter, predicate: object) -> None:
    with AuditStore.open_readonly(seeded) as store:
        every = q.sessions(store.conn, limit=1000)
        want = [r for r in every if predicate(r)]  # type: ignore[operator]
        assert want  # the sample has some of each
        assert q.sessions(store.conn, flt, limit=1000) == want
        assert q.session_count(store.conn, flt) == len(want)


def test_search_treats_wildcards_literally(seeded: Path) -> None:
    with AuditStore.open_readonly(seeded) as store:
        assert q.sessions(store.conn, q.Filter(search="%")) == []
        assert q.sessions(store.conn, q.Filter(search="_")) == []


def test_find_session_by_prefix(seeded: Path) -> None:
    with AuditStore.open_readonly(seeded) as store:
        row = q.sessions(store.conn, q.Filter(tool="claude-code"), limit=1)[0]
        found = q.find_session(store.conn, row.session[:8])
        assert found is not None and found.session == row.session
        assert q.find_session(store.conn, "zzzz") is None
        with pytest.raises(ValueError, match="ambiguous"):
            q.find_session(store.conn, "cursor-")


def test_session_events_paged_and_filtered(seeded: Path) -> None:
    groups = by_session(seeded)
    key = max(groups, key=lambda k: len(groups[k]))
    with AuditStore.open_readonly(seeded) as store:
        seqs: list[int] = []
        after = 0
        while page := q.session_events(store.conn, key, limit=2, after_seq=after):
            seqs += [r.seq for r in page]
            after = page[-1].seq
        assert seqs == [s.seq for s in groups[key]]
        name = groups[key][-1].event.identifiers[0]
        hits = q.session_events(store.conn, key, search=name)
        assert [r.seq for r in hits] == [s.seq for s in groups[key] if name in s.event.identifiers]


def test_alerts_of_every_kind(seeded: Path) -> None:
    with AuditStore.open_readonly(seeded) as store:
        found = al.alerts(store.conn)
        events = {s.seq: s.event for s in store.events()}
    assert [a.seq for a in found] == sorted((a.seq for a in found), reverse=True)
    by_kind: dict[str, list[al.Alert]] = defaultdict(list)
    for a in found:
        by_kind[a.kind].append(a)
    assert {a.seq for a in by_kind["unprotected"]} == {
        s for s, e in events.items()
        if e.event == "request" and e.decision == "forwarded" and not e.mutation_active
    }  # fmt: skip
    assert {a.seq for a in by_kind["secret"]} == {s for s, e in events.items() if e.secrets}
    assert {a.seq for a in by_kind["drift"]} == {
        s for s, e in events.items() if e.event == "drift_detected"
    }
    large = {s for s, e in events.items() if e.context_bytes >= 1_000_000}
    assert {a.seq for a in by_kind["large_context"]} == large
    assert {a.severity for a in by_kind["unprotected"]} == {"critical"}
    assert {a.severity for a in by_kind["secret"]} == {"high"}  # all were blocked
    assert "github-pat" in by_kind["secret"][-1].title


def test_a_secret_that_went_out_is_critical(db: Path) -> None:
    from pretense_dev.audit.events import SecretRef

    with AuditStore(db) as store:
        store.append(
            AuditEvent(
                "prompt_submitted", decision="allowed", secrets=(SecretRef("aws-key", "fp:01"),)
            )
        )
        (a,) = al.alerts(store.conn)
    assert (a.kind, a.severity) == ("secret", "critical")
    assert a.title == "secret in a prompt (aws-key): went out"


def test_large_context_threshold_is_inclusive_and_once_per_session(db: Path) -> None:
    with AuditStore(db) as store:
        for size in (999_999, 1_000_000, 2_000_000):
            store.append(AuditEvent("request", session_id="s", context_bytes=size))
        found = al.alerts(store.conn, kinds=["large_context"])
        assert [a.seq for a in found] == [2]
        lower = al.alerts(store.conn, al.Thresholds(500), kinds=["large_context"])
        assert [a.seq for a in lower] == [1]


def test_thresholds_come_from_each_repositorys_config(git_repo: Path, db: Path) -> None:
    write(git_repo, {"app.py": "def ledger_total():\n    return 1\n"})
    report = init_repo(git_repo, workers=1)
    cfg = git_repo / ".pretense" / "config.toml"
    cfg.write_text(
        cfg.read_text().replace("large_context_bytes = 1000000", "large_context_bytes = 5000")
    )
    with AuditStore(db) as store:
        store.append(
            AuditEvent("request", session_id="a", repo_id=report.repo_id, context_bytes=6000)
        )
        store.append(AuditEvent("request", session_id="b", repo_id="other", context_bytes=6000))
        t = al.resolve_thresholds(store.conn)
        assert t.per_repo == {report.repo_id: 5000}
        assert [a.session for a in al.alerts(store.conn, t)] == ["a"]
        assert al.resolve_thresholds(store.conn, 100).per_repo == {}
    r = run_cli("audit", "--db", str(db), "alerts", "--json")
    assert r.code == 0 and r.err == "1 alert(s)\n"
    r = run_cli("audit", "--db", str(db), "alerts", "--large-context-bytes", "10")
    assert r.code == 0 and r.err == "2 alert(s)\n" and r.out.count("large_context") == 2
