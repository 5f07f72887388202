"""Findings in the index: m002 schema, written by the indexer in the same read."""

from __future__ import annotations

import contextlib
import random
import sqlite3
from pathlib import Path

from pretense_dev.config import Config
from pretense_dev.index.indexer import index_file, run_index
from pretense_dev.index.store import MIGRATIONS, IndexStore
from pretense_dev.secrets import Detector
from pretense_dev.secrets.samples import generate
from pretense_dev.sqlite import Migrations, open_database, schema
from tests.conftest import git, write

KEY = bytes(range(32))
RNG = random.Random(4)

FINDINGS_SQL = (
    "CREATE TABLE findings ( path TEXT NOT NULL, rule TEXT NOT NULL, fingerprint TEXT NOT NULL, "
    "line INTEGER NOT NULL, end_line INTEGER NOT NULL, redacted TEXT NOT NULL, "
    "confidence TEXT NOT NULL, PRIMARY KEY (path, rule, fingerprint) ) WITHOUT ROWID"
)


def tok() -> str:
    return generate("gh" + "p_{b62:30}{ghcrc}", RNG)


def test_fresh_and_upgraded_schema_have_the_findings_table(tmp_path: Path) -> None:
    with contextlib.closing(open_database(tmp_path / "fresh.db", MIGRATIONS)) as conn:
        fresh = schema(conn)
    assert ("table", "findings", FINDINGS_SQL) in fresh
    # A database made before m002 is upgraded to the same schema.
    old = Migrations()
    old.steps = MIGRATIONS.steps[:1]
    with contextlib.closing(open_database(tmp_path / "old.db", old)) as conn:
        assert "findings" not in {n for _, n, _ in schema(conn)}
    with contextlib.closing(open_database(tmp_path / "old.db", MIGRATIONS)) as conn:
        assert schema(conn) == fresh
        names = [n for (n,) in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert names == ["m001_initial", "m002_findings", "m003_map_complete"]


def test_index_run_stores_findings_and_replaces_them(git_repo: Path) -> None:
    t1, t2 = tok(), tok()
    write(git_repo, {"app/settings.py": f'GH = "{t1}"\n', "app/clean.py": "x = 1\n"})
    git(git_repo, "add", ".")
    with IndexStore(git_repo / ".pretense" / "index.db") as store:
        run_index(git_repo, store, Config(), KEY)
        found = store.findings_for("app/settings.py")
        assert [(f.rule, f.line, f.redacted) for f in found] == [("github-pat", 1, "ghp_…(40)")]
        assert store.findings_for("app/clean.py") == []
        assert store.files_with_findings() == {"app/settings.py"}
        # Edit: the file's findings are replaced, not added to.
        write(git_repo, {"app/settings.py": f'\n\nGH = "{t2}"\n'})
        run_index(git_repo, store, Config(), KEY, only=["app/settings.py"])
        found = store.findings_for("app/settings.py")
        assert [(f.line, f.fingerprint) for f in found] == [
            (3, Detector(KEY).scan_text(t2)[0].fingerprint)
        ]
        # Delete: its findings leave with it.
        (git_repo / "app/settings.py").unlink()
        run_index(git_repo, store, Config(), KEY, only=["app/settings.py"])
        assert store.findings() == []
    # No value anywhere in the database file.
    raw = (git_repo / ".pretense" / "index.db").read_bytes()
    assert t1.encode() not in raw and t2.encode() not in raw
    with contextlib.closing(sqlite3.connect(git_repo / ".pretense" / "index.db")) as conn:
        dump = "\n".join(conn.iterdump())
    assert t1 not in dump and t2 not in dump


def test_index_file_keeps_its_old_signature(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": f'T = "{tok()}"\n'})
    rec = index_file(str(tmp_path), "a.py", 1, 1, True)
    assert rec is not None and rec.findings is None
    rec = index_file(str(tmp_path), "a.py", 1, 1, True, Detector(KEY))
    assert rec is not None and rec.findings is not None
    assert [f.rule for f in rec.findings] == ["github-pat"]
