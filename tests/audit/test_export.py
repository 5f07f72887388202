"""Exports: JSONL and CSV for a SIEM, OTLP to a loopback collector that decodes what it gets."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pytest

from pretense_dev.audit import chain
from pretense_dev.audit.events import AuditEvent
from pretense_dev.audit.export import (
    CSV_COLUMNS,
    Selection,
    otlp_endpoint,
    send_otlp,
    verify_jsonl,
    write_csv,
    write_jsonl,
)
from pretense_dev.audit.sample import START
from pretense_dev.audit.store import AuditStore
from pretense_dev.errors import PretenseError, UsageError
from tests.conftest import run_cli

from .otlp_collector import attributes, collector


def jsonl(path: Path, sel: Selection | None = None) -> bytes:
    buf = io.BytesIO()
    with AuditStore.open_readonly(path) as store:
        write_jsonl(store.conn, sel or Selection(), buf)
    return buf.getvalue()


def test_jsonl_lines_are_records_with_their_hashes(seeded: Path) -> None:
    lines = jsonl(seeded).splitlines()
    with AuditStore.open_readonly(seeded) as store:
        stored = list(store.events())
    assert len(lines) == len(stored) == 96
    for line, s in zip(lines, stored, strict=True):
        rec = json.loads(line)
        assert (rec.pop("seq"), rec.pop("hash"), rec.pop("prev_hash")) == (
            s.seq,
            s.hash,
            s.prev_hash,
        )
        assert AuditEvent.from_dict(rec) == s.event


def test_a_jsonl_export_verifies_on_its_own(seeded: Path) -> None:
    lines = jsonl(seeded).splitlines()
    problems, rows, start, last = verify_jsonl(iter(lines))
    assert (problems, rows, start) == ([], 96, chain.START)
    assert last is not None and last.seq == 96
    # partial export: links from the row before it
    part = jsonl(seeded, Selection(after_seq=90)).splitlines()
    problems, rows, start, _ = verify_jsonl(iter(part))
    assert problems == [] and rows == 6 and start is not None and start.seq == 90
    # tampering with the file is caught
    bad = [lines[0], lines[2], lines[1], *lines[3:]]
    assert verify_jsonl(iter(bad))[0]
    edited = [*lines[:10], lines[10].replace(b'"dana"', b'"eve"'), *lines[11:]]
    assert [(p.seq, p.kind) for p in verify_jsonl(iter(edited))[0]] == [(11, chain.ALTERED)]


def test_selection_by_time_and_repo(seeded: Path) -> None:
    sel = Selection(since=START + 3600, until=START + 7200, repo="9f2c61d0a4b7e3f5")
    recs = [json.loads(x) for x in jsonl(seeded, sel).splitlines()]
    assert recs and all(START + 3600 <= r["time"] < START + 7200 for r in recs)
    assert {r["repo_id"] for r in recs} == {"9f2c61d0a4b7e3f5"}


def test_csv_has_a_header_and_one_row_per_event(seeded: Path) -> None:
    buf = io.BytesIO()
    with AuditStore.open_readonly(seeded) as store:
        result = write_csv(store.conn, Selection(), buf)
        stored = {s.seq: s for s in store.events()}
    rows = list(csv.DictReader(io.StringIO(buf.getvalue().decode("utf-8"), newline="")))
    assert result.rows == len(rows) == 96
    assert list(rows[0]) == list(CSV_COLUMNS)
    secret_row = next(r for r in rows if r["secrets"])
    s = stored[int(secret_row["seq"])]
    assert secret_row["secrets"] == ";".join(f"{x.rule}:{x.fingerprint}" for x in s.event.secrets)
    assert secret_row["hash"] == s.hash
    assert rows[1]["time"] == "2026-01-01T00:01:17Z"


def test_csv_neutralises_spreadsheet_formulas(db: Path) -> None:
    with AuditStore(db) as store:
        store.append(AuditEvent("prompt_blocked", reason='=HYPERLINK("http://x")', model="@m"))
        buf = io.BytesIO()
        write_csv(store.conn, Selection(), buf)
    (row,) = list(csv.DictReader(io.StringIO(buf.getvalue().decode())))
    assert row["reason"] == '\'=HYPERLINK("http://x")' and row["model"] == "'@m"


def test_otlp_logs_arrive_decoded_at_a_collector(seeded: Path) -> None:
    with AuditStore.open_readonly(seeded) as store, collector() as c:
        result = send_otlp(store.conn, Selection(), c.url, batch_size=40)
        stored = list(store.events())
    assert result.rows == 96 and result.last == chain.Head(96, stored[-1].hash)
    assert c.paths == ["/v1/logs"] * 3  # 40 + 40 + 16
    recs = c.records()
    assert len(recs) == 96
    resource = {
        kv.key: kv.value.string_value for kv in c.requests[0].resource_logs[0].resource.attributes
    }
    assert resource["service.name"] == "pretense-dev"
    for rec, s in zip(recs, stored, strict=True):
        a = attributes(rec)
        assert a["pretense.seq"] == s.seq and a["pretense.hash"] == s.hash
        assert rec.time_unix_nano == round(s.event.time * 1_000_000) * 1000
        assert rec.body.string_value == s.event.event
        assert rec.event_name == f"pretense.audit.{s.event.event}"
        assert a.get("session.id", "") == s.event.session_id
        assert a.get("pretense.identifiers", []) == list(s.event.identifiers)
        assert a.get("pretense.secret_fingerprints", []) == [x.fingerprint for x in s.event.secrets]
        unprotected = (
            s.event.event == "request" and s.event.decision == "forwarded"
            and not s.event.mutation_active
        )  # fmt: skip
        if unprotected:
            assert rec.severity_text == "ERROR"
        elif s.event.decision == "blocked":
            assert rec.severity_text == "WARN"


def test_otlp_failure_is_one_error_with_where_to_resume(seeded: Path) -> None:
    with AuditStore.open_readonly(seeded) as store, collector() as c:
        send_otlp(store.conn, Selection(until=START + 600), c.url)
        sent = len(c.records())
        c.status = 400
        with pytest.raises(PretenseError) as exc:
            send_otlp(store.conn, Selection(after_seq=sent), c.url)
    assert "did not accept the batch starting at row" in exc.value.message
    assert "code: 400" in exc.value.message
    assert sent and exc.value.hint is not None and exc.value.hint.endswith(f"--after {sent}")


def test_otlp_endpoint_gets_the_logs_path() -> None:
    assert otlp_endpoint("http://c:4318") == "http://c:4318/v1/logs"
    assert otlp_endpoint("https://c/") == "https://c/v1/logs"
    assert otlp_endpoint("http://c:4318/custom/logs") == "http://c:4318/custom/logs"
    with pytest.raises(UsageError):
        otlp_endpoint("c:4318")


def test_cli_export_to_a_private_file_and_incrementally(seeded: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "audit.jsonl"
    r = run_cli("audit", "--db", str(seeded), "export", "--output", str(out))
    assert r.code == 0, r.err
    assert r.err.startswith("exported 96 event(s); last row 96:sha256:")
    assert "(next time: --after 96)" in r.err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and r.out == ""
    r = run_cli("audit", "--db", str(seeded), "export", "--format", "csv", "--after", "94")
    assert r.code == 0 and len(r.out.splitlines()) == 3


def test_cli_otlp(seeded: Path) -> None:
    with collector() as c:
        r = run_cli("audit", "--db", str(seeded), "export", "--format", "otlp", "--endpoint", c.url)
        assert r.code == 0, r.err
        assert len(c.records()) == 96
        c.status = 400
        r = run_cli("audit", "--db", str(seeded), "export", "--format", "otlp", "--endpoint", c.url)
    assert r.code == 1
    assert r.err.count("\n") == 1 and r.err.startswith("pretense-dev: the OTLP collector at ")


def test_cli_export_refuses_mixed_options(seeded: Path) -> None:
    r = run_cli("audit", "--db", str(seeded), "export", "--format", "otlp", "--output", "x")
    assert r.code == 2 and "--output is for jsonl and csv" in r.err
    r = run_cli("audit", "--db", str(seeded), "export", "--endpoint", "http://c")
    assert r.code == 2 and "--endpoint is for otlp" in r.err


def test_cli_verifies_an_exported_file(seeded: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    assert run_cli("audit", "--db", str(seeded), "export", "--output", str(out)).code == 0
    r = run_cli("audit", "verify", "--file", str(out))
    assert r.code == 0 and r.out.startswith("intact: 96 rows verified; head 96:sha256:")
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:5] + lines[6:]))
    r = run_cli("audit", "verify", "--file", str(out))
    assert r.code == 1 and r.out == "row 6: missing: row 6 deleted\n"
