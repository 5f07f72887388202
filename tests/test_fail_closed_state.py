"""Fail closed on local state: the map, the index, the key, the audit log.

Every fault is injected into real processes: `pretense-dev init` and `index`
run as subprocesses (SIGINT sent to their process group, as a terminal's Ctrl-C
does), the proxy runs as the daemon `pretense-dev proxy start` launches, SQLite
files are damaged on disk.  Each test asserts three things: nothing reached the
(loopback) upstream unprotected, the audit log and `audit evidence` tell the
truth, and the user got one line naming the fault and the command that fixes it.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest

from pretense_dev import paths
from pretense_dev.proxy import state
from pretense_dev.proxy.replay import BackgroundServer, ReplayUpstream
from tests.conftest import run_cli, write

MSG: Any = [{"role": "user", "content": "why does LedgerReconciler call reconcile_batch?"}]
LEDGER = "class LedgerReconciler:\n    def reconcile_batch(self):\n        pass\n"
HANG_GUARD = 120  # seconds: a hung process fails the test instead of the run


@pytest.fixture
def upstream() -> Iterator[tuple[ReplayUpstream, str]]:
    bg = BackgroundServer()
    up = ReplayUpstream()
    port = bg.serve(up.app)
    try:
        yield up, f"http://127.0.0.1:{port}"
    finally:
        bg.close()


@pytest.fixture
def proxy(upstream: tuple[ReplayUpstream, str]) -> Iterator[tuple[ReplayUpstream, str]]:
    """The real daemon, forwarding to the loopback upstream; yields (upstream, proxy URL)."""
    up, url = upstream
    r = run_cli(
        "proxy", "start", "--port", "0", "--upstream-anthropic", url, "--upstream-openai", url
    )
    assert r.code == 0, r.err
    st = state.running()
    assert st is not None
    try:
        yield up, st.url
    finally:
        run_cli("proxy", "stop")


def _big_repo(root: Path, files: int = 2500) -> None:
    """Enough code that a build with two workers is still running when it is interrupted."""
    body = "".join(
        f"def settlement_step_{j}(amount_cents, ledger_entry):\n    return amount_cents + {j}\n\n"
        for j in range(12)
    )
    write(root, {"billing/ledger.py": LEDGER})
    for i in range(files):
        write(root, {f"pkg_{i % 50}/module_{i}.py": f"class Reconciler{i}:\n    pass\n\n{body}"})


def _init_process(root: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "pretense_dev", "init", "--no-tools", "--no-hooks", *extra],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
        start_new_session=True,
    )


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + HANG_GUARD
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.005)


def _client(url: str, repo: Path) -> anthropic.Anthropic:
    repo_id = (repo / ".pretense" / "repo-id").read_text().strip()
    return anthropic.Anthropic(base_url=f"{url}/r/{repo_id}", api_key="sk-ant-t", max_retries=0)


def _evidence_requests(expected_total: int) -> dict[str, Any]:
    """`audit evidence` request figures once the proxy's audit thread has written them."""
    deadline = time.monotonic() + HANG_GUARD
    while True:
        r = run_cli("audit", "evidence")
        assert r.code == 0, r.err
        requests: dict[str, Any] = json.loads(r.out)["coverage"]["requests"]
        if requests["total"] >= expected_total or time.monotonic() > deadline:
            return requests
        time.sleep(0.05)


def test_ctrl_c_during_init_leaves_no_map_and_nothing_is_forwarded(
    git_repo: Path, proxy: tuple[ReplayUpstream, str]
) -> None:
    up, url = proxy
    _big_repo(git_repo)
    p = _init_process(git_repo, "--jobs", "2")
    _wait_for(git_repo / ".pretense" / "index.db.new")
    os.killpg(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=HANG_GUARD)
    assert p.returncode == 130
    # (click ends the terminal's "^C" line first: one empty line, then the message)
    assert [line for line in err.decode().splitlines() if line] == ["pretense-dev: interrupted"]
    state_dir = git_repo / ".pretense"
    assert not (state_dir / "index.db").exists() and not (state_dir / "index.db.new").exists()

    client = _client(url, git_repo)
    with pytest.raises(anthropic.InternalServerError) as e:
        client.messages.create(model="m", max_tokens=5, messages=MSG)
    assert e.value.status_code == 503
    assert "so nothing was sent — run `pretense-dev index --full` in the repository" in str(e.value)
    assert up.records == []

    v = run_cli("verify", cwd=git_repo)
    assert v.code == 1
    assert v.err.splitlines() == [
        f"FAIL {git_repo} is not initialised for pretense-dev: run `pretense-dev init`"
    ]
    requests = _evidence_requests(1)
    assert (requests["forwarded"], requests["forwarded_protected"], requests["error"]) == (0, 0, 1)

    fixed = run_cli("index", cwd=git_repo)
    assert fixed.code == 0, fixed.err
    client.messages.create(model="m", max_tokens=5, messages=MSG)
    assert len(up.records) == 1
    assert b"LedgerReconciler" not in up.records[0].body
    assert b"reconcile_batch" not in up.records[0].body
    requests = _evidence_requests(2)
    assert (requests["forwarded"], requests["forwarded_protected"]) == (1, 1)


def test_an_incomplete_map_fails_verify_and_the_proxy(
    git_repo: Path, proxy: tuple[ReplayUpstream, str]
) -> None:
    up, url = proxy
    write(git_repo, {"billing/ledger.py": LEDGER})
    assert run_cli("init", "--no-tools", "--no-hooks", cwd=git_repo).code == 0
    db = git_repo / ".pretense" / "index.db"
    # What an `index` interrupted in place by an older version left: no finished run.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'map_complete'")
    conn.close()
    line = (
        f"the identifier map in {db} is incomplete (an index run did not finish), so "
        "nothing is protected: run `pretense-dev index`"
    )
    v = run_cli("verify", cwd=git_repo)
    assert v.code == 1
    assert v.err.splitlines() == [f"FAIL {line}"]
    # The prompt hook of a routed tool runs the same checks: the prompt is blocked.
    payload = {
        "session_id": "s-incomplete",
        "transcript_path": "/tmp/t.jsonl",
        "cwd": str(git_repo),
        "hook_event_name": "UserPromptSubmit",
        "prompt": "fix reconcile_batch",
    }
    h = run_cli("hook", "claude-code", "UserPromptSubmit", cwd=git_repo, stdin=json.dumps(payload))
    assert h.code == 0
    assert json.loads(h.out) == {"decision": "block", "reason": f"pretense-dev: {line}"}
    with pytest.raises(anthropic.InternalServerError) as e:
        _client(url, git_repo).messages.create(model="m", max_tokens=5, messages=MSG)
    assert e.value.status_code == 503 and "is incomplete" in str(e.value)
    assert up.records == []
    requests = _evidence_requests(1)
    assert (requests["forwarded"], requests["error"]) == (0, 1)
    assert run_cli("index", cwd=git_repo).code == 0
    assert "FAIL the identifier map" not in run_cli("verify", cwd=git_repo).err


def _map(db: Path) -> dict[str, str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = dict(conn.execute("SELECT name, synthetic FROM identifiers WHERE active = 1"))
    conn.close()
    return {str(k): str(v) for k, v in rows.items()}


@pytest.mark.parametrize("damage", ["garbage", "no-meta"])
def test_a_damaged_index_is_one_line_everywhere_and_rebuilt_with_the_same_names(
    git_repo: Path, proxy: tuple[ReplayUpstream, str], damage: str
) -> None:
    up, url = proxy
    write(git_repo, {"billing/ledger.py": LEDGER, "app.py": "def settlement_window(): pass\n"})
    assert run_cli("init", "--no-tools", "--no-hooks", cwd=git_repo).code == 0
    db = git_repo / ".pretense" / "index.db"
    before = _map(db)
    assert "LedgerReconciler" in before
    if damage == "garbage":
        for side in ("-wal", "-shm"):
            Path(f"{db}{side}").unlink(missing_ok=True)
        db.write_bytes(b"this is not sqlite" * 300)
    else:
        with sqlite3.connect(db) as conn:
            conn.execute("DROP TABLE meta")
        conn.close()
    for args in (("status",), ("explain", "LedgerReconciler"), ("mutate", "app.py")):
        r = run_cli(*args, cwd=git_repo)
        assert r.code == 1, (args, r.err)
        lines = r.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("pretense-dev: the index "), (args, lines)
        assert lines[0].endswith(
            "— run `pretense-dev index --full` to rebuild it (issued synthetic names are kept)"
        )
    v = run_cli("verify", cwd=git_repo)
    assert v.code == 1 and len(v.err.splitlines()) == 1
    assert v.err.startswith(f"FAIL the index {db} cannot be read (")
    assert v.err.rstrip().endswith(": run `pretense-dev index --full`")
    d = run_cli("doctor", cwd=git_repo)
    assert d.code == 1 and "run `pretense-dev index --full`" in d.out + d.err
    with pytest.raises(anthropic.InternalServerError) as e:
        _client(url, git_repo).messages.create(model="m", max_tokens=5, messages=MSG)
    assert e.value.status_code == 503 and "index --full" in str(e.value)
    assert up.records == []

    r = run_cli("index", "--full", cwd=git_repo)
    assert r.code == 0, r.err
    salvaged = len(before) if damage == "no-meta" else 0
    (note,) = r.err.splitlines()
    assert note.startswith("pretense-dev: the damaged index (") and "was moved to index.db." in note
    assert note.endswith(f"; {salvaged} issued name(s) salvaged from it")
    assert _map(db) == before, "issued synthetic names must stay the same"
    kept = [p for p in db.parent.glob("index.db.damaged-*") if p.name[-4:] not in ("-wal", "-shm")]
    assert len(kept) == 1
    _client(url, git_repo).messages.create(model="m", max_tokens=5, messages=MSG)
    assert len(up.records) == 1 and b"LedgerReconciler" not in up.records[0].body
    requests = _evidence_requests(2)
    assert (requests["forwarded_protected"], requests["error"]) == (1, 1)


def test_two_inits_at_once_the_second_waits(git_repo: Path) -> None:
    _big_repo(git_repo, files=1500)
    first = _init_process(git_repo, "--jobs", "1")
    _wait_for(git_repo / ".pretense" / "index.db.new")
    second = _init_process(git_repo, "--jobs", "1")
    _, err1 = first.communicate(timeout=HANG_GUARD * 2)
    _, err2 = second.communicate(timeout=HANG_GUARD * 2)
    assert first.returncode == 0, err1.decode()
    assert second.returncode == 0, err2.decode()
    assert err2.decode().splitlines()[0] == (
        "pretense-dev: another `pretense-dev init` or `index` is building this repository's "
        "index; waiting for it to finish (Ctrl-C to stop)"
    )
    db = git_repo / ".pretense" / "index.db"
    m = _map(db)
    assert "LedgerReconciler" in m and len(set(m.values())) == len(m)
    v = run_cli("verify", cwd=git_repo)
    assert "index" not in v.err and "IntegrityError" not in err2.decode()


def test_a_deleted_key_is_not_silently_replaced(
    git_repo: Path, proxy: tuple[ReplayUpstream, str]
) -> None:
    up, url = proxy
    write(git_repo, {"billing/ledger.py": LEDGER})
    assert run_cli("init", "--no-tools", "--no-hooks", cwd=git_repo).code == 0
    repo_id = (git_repo / ".pretense" / "repo-id").read_text().strip()
    db = git_repo / ".pretense" / "index.db"
    before = _map(db)
    key_file = paths.user_data_dir() / "keys" / f"{repo_id}.key"
    key_file.unlink()

    with pytest.raises(anthropic.InternalServerError) as e:
        _client(url, git_repo).messages.create(model="m", max_tokens=5, messages=MSG)
    assert e.value.status_code == 503 and "key of repository" in str(e.value)
    assert up.records == []

    r = run_cli("init", "--no-tools", "--no-hooks", cwd=git_repo)
    assert r.code == 1
    assert r.err.splitlines() == [
        f"pretense-dev: no key for repository {repo_id}, but this repository was indexed with "
        "one: a new key would change every synthetic name and secret fingerprint — restore "
        "the key (see `pretense-dev doctor`), or run `pretense-dev init --new-key` to issue a "
        "new one and rebuild the index"
    ]
    assert not key_file.exists() and _map(db) == before

    r = run_cli("init", "--no-tools", "--no-hooks", "--new-key", cwd=git_repo)
    assert r.code == 0, r.err
    after = _map(db)
    assert set(after) == set(before) and all(after[n] != before[n] for n in before)
    assert len(list(db.parent.glob("index.db.old-key-*"))) == 1


def test_an_unwritable_audit_log_stops_forwarding_until_recovered(
    git_repo: Path, proxy: tuple[ReplayUpstream, str]
) -> None:
    up, url = proxy
    write(git_repo, {"billing/ledger.py": LEDGER})
    assert run_cli("init", "--no-tools", "--no-hooks", cwd=git_repo).code == 0
    client = _client(url, git_repo)
    client.messages.create(model="m", max_tokens=5, messages=MSG)
    assert _evidence_requests(1)["forwarded_protected"] == 1
    from pretense_dev.audit.store import AuditStore, default_path

    log = default_path()
    with AuditStore.open_readonly() as store:
        head = store.head()
    assert head is not None
    # The disk returns garbage for the whole file (same inode: the proxy keeps it open).
    size = log.stat().st_size
    with open(log, "r+b") as f:
        f.write(b"\xde\xad" * (size // 2))
    for side in ("-wal", "-shm"):
        Path(f"{log}{side}").unlink(missing_ok=True)

    with pytest.raises(anthropic.InternalServerError) as e:
        client.messages.create(model="m", max_tokens=5, messages=MSG)
    assert e.value.status_code == 503
    assert "pretense-dev cannot write its audit log (" in str(e.value)
    assert "so nothing was sent — run `pretense-dev audit recover`" in str(e.value)
    assert len(up.records) == 1, "nothing more reached the upstream"

    v = run_cli("verify", cwd=git_repo)
    assert v.code == 1
    audit_lines = [line for line in v.err.splitlines() if "audit log" in line]
    assert len(audit_lines) == 1 and audit_lines[0].endswith(": run `pretense-dev audit recover`")
    d = run_cli("doctor", cwd=git_repo)
    assert d.code == 1 and "audit log" in d.out and "pretense-dev audit recover" in d.out
    ev = run_cli("audit", "evidence")
    assert ev.code == 1 and len(ev.err.splitlines()) == 1
    assert "pretense-dev audit recover" in ev.err

    r = run_cli("audit", "recover")
    assert r.code == 0, r.err
    kept = list(log.parent.glob("audit.db.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes()[:2] == b"\xde\xad"
    assert "no row of it verified: the new chain starts from the beginning" in r.out

    client.messages.create(model="m", max_tokens=5, messages=MSG)
    assert len(up.records) == 2
    requests = _evidence_requests(1)
    assert (requests["forwarded_protected"], requests["forwarded_unprotected"]) == (1, 0)
    assert run_cli("audit", "verify").code == 0
