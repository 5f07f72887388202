"""The CLI as a user runs it: a fresh interpreter, real git repositories, exact output."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path

from pretense_dev import paths
from tests.conftest import run_cli, write

LEDGER = """\
class LedgerReconciler:
    def reconcile_batch(self, refund_total_cents):
        return refund_total_cents
"""


def _user_files(home: Path) -> set[str]:
    return {str(p.relative_to(home)) for p in home.rglob("*") if p.is_file()}


def test_init_outside_git_repo_fails_cleanly(tmp_path: Path, isolated_user: Path) -> None:
    d = tmp_path / "plain"
    d.mkdir()
    before = _user_files(isolated_user)
    r = run_cli("init", cwd=d)
    assert r.code == 2
    assert r.out == ""
    assert r.err == (
        f"pretense-dev: {d} is not inside a git repository — run this in a git repository\n"
    )
    assert list(d.iterdir()) == []
    assert _user_files(isolated_user) == before


def test_init_in_a_bare_repository_says_so(tmp_path: Path, isolated_user: Path) -> None:
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    before = sorted(p.name for p in bare.iterdir())
    for cwd in (bare, bare / "refs"):
        r = run_cli("init", cwd=cwd)
        assert r.code == 2
        assert r.out == ""
        assert r.err == (
            f"pretense-dev: {bare} is a bare git repository: it has no work tree to protect"
            f" — run this in a clone with a work tree (git clone {bare})\n"
        )
    assert sorted(p.name for p in bare.iterdir()) == before


def test_init_reports_and_is_idempotent(git_repo: Path) -> None:
    write(git_repo, {"billing/ledger_reconciler.py": LEDGER})
    r = run_cli("init", cwd=git_repo)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].startswith(f"pretense-dev initialised {git_repo} (repo id ")
    assert "  wrote .pretense/.gitignore" in lines
    assert "  wrote .pretense/config.toml" in lines
    assert any(line.startswith("  key: file — ") for line in lines)
    assert "  files: 1 (python 1)" in lines
    assert "  tools:" in lines  # each tool: configured, or "not detected" with the command
    assert "not available yet" not in r.out
    snapshot = {p: p.read_bytes() for p in (git_repo / ".pretense").iterdir() if p.is_file()}
    r2 = run_cli("init", cwd=git_repo)
    assert r2.code == 0
    assert not [line for line in r2.out.splitlines() if line.startswith("  wrote")]
    for p, data in snapshot.items():
        if p.name != "index.db" and not p.name.startswith("index.db-"):
            assert p.read_bytes() == data, p


def test_store_is_gitignored(git_repo: Path) -> None:
    write(git_repo, {"app.py": "def settlement_window(): pass\n"})
    assert run_cli("init", cwd=git_repo).code == 0
    from tests.conftest import git

    status = git(git_repo, "status", "--porcelain", "--untracked-files=all")
    tracked_candidates = {line[3:] for line in status.splitlines()}
    assert ".pretense/config.toml" in tracked_candidates
    assert ".pretense/.gitignore" in tracked_candidates
    assert not any(p.startswith(".pretense/index.db") for p in tracked_candidates)
    assert ".pretense/repo-id" not in tracked_candidates


def test_key_file_fallback_is_private(git_repo: Path) -> None:
    write(git_repo, {"app.py": "def settlement_window(): pass\n"})
    assert run_cli("init", cwd=git_repo).code == 0
    repo_id = (git_repo / ".pretense/repo-id").read_text().strip()
    key = paths.user_data_dir() / "keys" / f"{repo_id}.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    # Never in the repo.
    assert not any(
        key.read_text().strip() in p.read_text(errors="ignore")
        for p in git_repo.rglob("*")
        if p.is_file() and ".git" not in p.parts
    )
    d = run_cli("doctor", cwd=git_repo)
    assert d.code == 0, d.out
    assert f"ok    key: 0600 file (no OS keyring backend here): {key}" in d.out.splitlines()


def test_key_in_os_keyring_when_there_is_one(
    git_repo: Path, monkeypatch: object, tmp_path: Path
) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    store = tmp_path / "keyring.json"
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_backend.TmpFileKeyring")
    monkeypatch.setenv("PRETENSE_TEST_KEYRING", str(store))
    write(git_repo, {"app.py": "def settlement_window(): pass\n"})
    r = run_cli("init", cwd=git_repo)
    assert r.code == 0, r.err
    repo_id = (git_repo / ".pretense/repo-id").read_text().strip()
    assert list(json.loads(store.read_text())) == [f"pretense-dev/{repo_id}"]
    assert not (paths.user_data_dir() / "keys").exists()
    assert "key: keyring (tests.keyring_backend.TmpFileKeyring)" in r.out
    # The key is used: mutate works through the keyring.
    m = run_cli("mutate", "-", cwd=git_repo, stdin="settlement_window()")
    assert m.code == 0 and "settlement_window" not in m.out


def test_mutate_unmutate_round_trip_from_a_subdirectory(git_repo: Path) -> None:
    write(git_repo, {"billing/ledger_reconciler.py": LEDGER, "docs/notes.md": "x"})
    assert run_cli("init", cwd=git_repo).code == 0
    sub = git_repo / "docs"
    m = run_cli("mutate", "../billing/ledger_reconciler.py", cwd=sub)
    assert m.code == 0, m.err
    assert "LedgerReconciler" not in m.out and "refund_total_cents" not in m.out
    u = run_cli("unmutate", "-", cwd=sub, stdin=m.out)
    assert u.code == 0
    assert u.out == LEDGER


def test_mutate_is_byte_exact_on_non_utf8(git_repo: Path) -> None:
    write(git_repo, {"app.py": "def settlement_window(): pass\n"})
    assert run_cli("init", cwd=git_repo).code == 0
    raw = b"\xff\xfe settlement_window \xe9\x80"
    m = run_cli("mutate", cwd=git_repo, stdin=raw)
    assert b"settlement_window" not in m.out.encode("utf-8", "surrogateescape")
    import sys

    p = subprocess.run(
        [sys.executable, "-m", "pretense_dev", "mutate"],
        cwd=git_repo,
        input=raw,
        capture_output=True,
    )
    back = subprocess.run(
        [sys.executable, "-m", "pretense_dev", "unmutate"],
        cwd=git_repo,
        input=p.stdout,
        capture_output=True,
    )
    assert back.stdout == raw


def test_commands_need_init(git_repo: Path) -> None:
    for args in (("status",), ("index",), ("explain", "x"), ("mutate", "-")):
        r = run_cli(*args, cwd=git_repo, stdin="")
        assert r.code == 1, args
        assert r.err == (
            f"pretense-dev: {git_repo} is not initialised for pretense-dev — "
            "run `pretense-dev init` in it\n"
        )


def test_mutate_missing_file(git_repo: Path) -> None:
    assert run_cli("init", cwd=git_repo).code == 0
    r = run_cli("mutate", "nope.py", cwd=git_repo)
    assert r.code == 1
    assert r.err == "pretense-dev: cannot read nope.py: No such file or directory\n"


def test_explain(git_repo: Path) -> None:
    write(git_repo, {"billing/ledger_reconciler.py": LEDGER})
    assert run_cli("init", cwd=git_repo).code == 0
    r = run_cli("explain", "LedgerReconciler", cwd=git_repo)
    lines = r.out.splitlines()
    assert lines[0] == "LedgerReconciler: protected — this repository defines it (1 definition)"
    assert re.fullmatch(r"  sent as: Cls\d{3}", lines[1]), lines[1]
    assert lines[2] == "  class defined at billing/ledger_reconciler.py:1"
    r = run_cli("explain", "requests_session_factory", cwd=git_repo)
    assert r.out == (
        "requests_session_factory: not protected — this repository does not define it "
        "(names only used from dependencies are not protected)\n"
    )
    # Every language's lists apply: Python's `json` module, PowerShell's `param` blocks.
    for name, why in (
        ("json", "a go, javascript and python standard-library or framework API name"),
        ("param", "a csharp, kotlin and PowerShell keyword"),
        ("notmatch", "a PowerShell keyword"),
    ):
        r = run_cli("explain", name, cwd=git_repo)
        assert r.out == f"{name}: not protected — it is {why}; such names are never protected\n"
    r = run_cli("explain", "__init__", cwd=git_repo)
    assert r.out == (
        "__init__: not protected — it is a dunder name (a Python protocol method); "
        "such names are never protected\n"
    )


def test_status(git_repo: Path) -> None:
    write(git_repo, {"billing/ledger_reconciler.py": LEDGER})
    assert run_cli("init", cwd=git_repo).code == 0
    r = run_cli("status", cwd=git_repo)
    assert r.code == 0
    assert f"repository: {git_repo}" in r.out
    assert "files:      1" in r.out


def test_bug_gives_exit_3_and_a_log_not_a_traceback(git_repo: Path) -> None:
    # A bug injected into a real CLI process: discovering the repository divides by zero.
    code = (
        "import sys, pretense_dev.cli as c, pretense_dev.repo as r; "
        "r.Repo.discover = classmethod(lambda cls, start=None: 1 / 0); "
        "sys.exit(c.main(['status']))"
    )
    p = subprocess.run([sys.executable, "-c", code], cwd=git_repo, capture_output=True, text=True)
    assert p.returncode == 3
    assert "Traceback" not in p.stderr
    assert p.stderr.startswith("pretense-dev: internal error (ZeroDivisionError); details in ")
    log = Path(p.stderr.rsplit("details in ", 1)[1].strip())
    assert "Traceback" in log.read_text()


def test_usage_error_exit_2() -> None:
    r = run_cli("index", "--jobs", "0")
    assert r.code == 2
    assert "Invalid value for '--jobs'" in r.err


def test_purge_says_what_it_kept(git_repo: Path) -> None:
    write(git_repo, {"app.py": "def settlement_window(): pass\n"})
    assert run_cli("init", "--no-tools", cwd=git_repo).code == 0
    state = git_repo / ".pretense"
    (state / "baseline.json").write_text('{"version": 1, "findings": []}\n')
    (state / "notes.txt").write_text("ours\n")
    r = run_cli("uninstall", "--purge", cwd=git_repo)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert "  deleted .pretense/index.db" in lines
    assert "  deleted .pretense/config.toml (the unchanged default)" in lines
    assert (
        "  kept .pretense/baseline.json (your team's accepted secret findings; delete it yourself)"
    ) in lines
    assert "  kept .pretense/notes.txt (not written by pretense-dev)" in lines
    assert sorted(p.name for p in state.iterdir()) == ["baseline.json", "notes.txt"]
