"""The chain contract, pinned: what is hashed and how rows link (a change breaks every old log)."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from pretense_dev.audit import chain
from pretense_dev.audit.chain import GENESIS, Head, Problem
from pretense_dev.audit.events import AuditEvent, SecretRef

EVENT = AuditEvent(
    "request",
    time=1767225600.5,
    session_id="s-1",
    tool="claude-code",
    user="dana",
    machine="m1",
    repo_id="r1",
    repo_path="/src/r",
    vendor="anthropic",
    model="claude-sonnet-4-5",
    endpoint="/v1/messages",
    mutation_active=True,
    identifiers_protected=2,
    identifiers=("LedgerStore", "reconcile_ledger"),
    secrets=(SecretRef("github-pat", "fp:0011223344556677", "messages[1]"),),
    decision="forwarded",
    request_bytes=10,
    response_bytes=20,
    context_bytes=30,
    latency_ms=1.5,
    upstream_status=200,
    files=("a.py",),
)
DATA = (
    b'{"context_bytes":30,"decision":"forwarded","endpoint":"/v1/messages","event":"request",'
    b'"files":["a.py"],"identifiers":["LedgerStore","reconcile_ledger"],'
    b'"identifiers_protected":2,"latency_ms":1.5,"machine":"m1","model":"claude-sonnet-4-5",'
    b'"mutation_active":true,"reason":"","repo_id":"r1","repo_path":"/src/r","request_bytes":10,'
    b'"response_bytes":20,"secrets":[{"fingerprint":"fp:0011223344556677","rule":"github-pat",'
    b'"where":"messages[1]"}],"seq":1,"session_id":"s-1","time":1767225600.5,'
    b'"tool":"claude-code","upstream_status":200,"user":"dana","vendor":"anthropic"}'
)
HASH = "sha256:9438f8bcab3feb859b4fd88e5575f90b0a9a4e99ea19a43e7c32e53646db89b2"


def test_genesis_is_documented_value() -> None:
    assert GENESIS == "sha256:" + "0" * 64


def test_record_bytes_are_canonical_json_with_seq() -> None:
    assert chain.encode(1, EVENT) == DATA


def test_hash_is_tagged_sha256_of_prev_then_data() -> None:
    assert chain.link(GENESIS, DATA) == HASH
    assert "sha256:" + hashlib.sha256(GENESIS.encode() + DATA).hexdigest() == HASH


def test_previous_hash_participates() -> None:
    other = "sha256:" + "1" * 64
    assert chain.link(other, DATA) != chain.link(GENESIS, DATA)


def test_position_participates() -> None:
    assert chain.encode(2, EVENT) != chain.encode(1, EVENT)


def test_key_order_of_the_source_does_not_matter() -> None:
    d = chain.record(1, EVENT)
    shuffled = dict(reversed(list(d.items())))
    from pretense_dev.audit.events import canonical_json

    assert canonical_json(shuffled) == DATA


def test_non_ascii_is_kept_as_utf8() -> None:
    e = dataclasses.replace(EVENT, repo_path="/src/café")
    assert "/src/café".encode() in chain.encode(1, e)


def test_export_line_round_trips() -> None:
    line = chain.export_line(DATA, GENESIS, HASH)
    assert chain.split_line(line) == (1, DATA, GENESIS, HASH)


@pytest.mark.parametrize("bad", ["12", "x:sha256:" + "0" * 64, "3:sha256:abc", "3:md5:" + "0" * 64])
def test_head_parse_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError):
        Head.parse(bad)


def test_head_parse_round_trips() -> None:
    assert Head.parse(f"7:{HASH}") == Head(7, HASH)
    assert str(Head(7, HASH)) == f"7:{HASH}"


def _rows(n: int) -> list[tuple[int, int | None, bytes, str, str]]:
    rows: list[tuple[int, int | None, bytes, str, str]] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        data = chain.encode(seq, dataclasses.replace(EVENT, time=1000.0 + seq))
        h = chain.link(prev, data)
        rows.append((seq, seq, data, prev, h))
        prev = h
    return rows


def test_checker_accepts_a_good_chain_in_batches() -> None:
    rows = _rows(10)
    c = chain.Checker()
    c.run(rows[:4])
    c.run(rows[4:])
    assert c.problems == []
    assert c.rows == 10
    assert c.last == Head(10, rows[-1][4])


def test_checker_reports_out_of_order_file_rows_once() -> None:
    rows = _rows(5)
    c = chain.Checker()
    c.run([rows[0], rows[2], rows[1], rows[3], rows[4]])
    assert [(p.seq, p.kind) for p in c.problems] == [(2, chain.MISSING), (2, chain.REORDERED)]


def test_problem_reads_as_one_line() -> None:
    assert str(Problem(3, chain.MISSING, "row 3 deleted")) == "row 3: missing: row 3 deleted"


def test_to_dict_equals_dataclasses_asdict() -> None:
    # AuditEvent.to_dict is hand-rolled for speed; it must equal the generic form.
    d = dataclasses.asdict(EVENT)
    d["identifiers"] = list(EVENT.identifiers)
    d["files"] = list(EVENT.files)
    d["secrets"] = [dataclasses.asdict(s) for s in EVENT.secrets]
    assert EVENT.to_dict() == d
