"""The lean index reader agrees with what the store wrote, and says when the map is incomplete."""

from __future__ import annotations

import contextlib
import random
import sqlite3
from pathlib import Path

import pytest

from pretense_dev.index.reader import IndexReader, IndexUnreadable, index_problem
from pretense_dev.index.store import MIGRATIONS, IndexStore
from pretense_dev.lifecycle import init_repo
from pretense_dev.repo import Repo
from pretense_dev.secrets.samples import generate
from pretense_dev.sqlite import Migrations, open_database
from tests.conftest import write

LEDGER = "class LedgerReconciler:\n    def reconcile_batch(self, cents):\n        pass\n"


def test_reader_matches_the_store(git_repo: Path) -> None:
    token = generate("gh" + "p_{b62:30}{ghcrc}", random.Random(7))
    write(git_repo, {"ledger.py": LEDGER, "app/settings.py": f'GH = "{token}"\n'})
    init_repo(git_repo, workers=1, configure_tools=False, hooks=False)
    repo = Repo(git_repo)
    with repo.open_store() as store, IndexReader(repo.index_path) as reader:
        assert reader.map_state() == (store.map_version(), True)
        m = store.load_map()
        rows = list(reader.map_rows())
        assert {n: s for n, s, a in rows if a} == m.forward
        assert {s: n for n, s, _ in rows} == m.issued
        assert reader.active_count() == store.active_count() == len(m.forward)
        st = (git_repo / "ledger.py").stat()
        assert reader.file_stat("ledger.py") == (st.st_size, st.st_mtime_ns)
        assert reader.file_stat("nope.py") is None
        stored = store.findings_for("app/settings.py")
        assert reader.findings("app/settings.py") == [
            (f.rule, f.fingerprint, f.line, f.redacted) for f in stored
        ]
        assert stored and token not in repr(reader.findings("app/settings.py"))
        pairs = reader.sample_active(2, include=("reconcile_batch",))
        assert len(pairs) == 3 and ("reconcile_batch", m.forward["reconcile_batch"]) in pairs
    assert index_problem(repo.index_path) is None


def test_a_store_no_run_finished_is_incomplete(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    with IndexStore(path) as store:
        store.update_identifiers([("reconcile_batch", "xq_a", "function")], [], [], "fp")
        assert not store.map_complete()
    with IndexReader(path) as r:
        assert r.map_state() == (1, False)
    problem = index_problem(path)
    assert problem is not None and "incomplete" in problem
    assert problem.endswith("run `pretense-dev index` in the repository to complete it")
    with IndexStore(path) as store:
        store.mark_complete()
    assert index_problem(path) is None


@pytest.mark.parametrize("finished", [True, False])
def test_a_store_older_than_the_flag(tmp_path: Path, finished: bool) -> None:
    old = Migrations()
    old.steps = MIGRATIONS.steps[:2]
    path = tmp_path / "index.db"
    with contextlib.closing(open_database(path, old)) as conn:
        if finished:
            conn.execute("INSERT INTO meta VALUES ('config_fingerprint', 'abc')")
    with IndexReader(path) as r:
        assert r.map_complete() is finished
    with IndexStore(path) as store:  # migrates: the same answer, now from the flag
        assert store.map_complete() is finished
    with IndexReader(path) as r:
        assert r.map_complete() is finished


def test_missing_or_corrupt_index_is_one_line_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    with pytest.raises(IndexUnreadable) as e:
        IndexReader(path)
    assert not path.exists(), "the reader must never create an index"
    assert str(e.value).endswith("run `pretense-dev index --full` in the repository to rebuild it")
    path.write_bytes(b"this is not sqlite" * 300)
    problem = index_problem(path)
    assert problem is not None and "\n" not in problem
    assert "file is not a database" in problem and "index --full" in problem
    with contextlib.closing(sqlite3.connect(tmp_path / "other.db")) as c:
        c.execute("CREATE TABLE t (x)")
    assert "no such table: meta" in (index_problem(tmp_path / "other.db") or "")


def test_reader_imports_only_the_standard_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pretense_dev.index.reader; "
        "print(sorted(m for m in sys.modules if m.startswith('pretense_dev')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = ["pretense_dev", "pretense_dev.index", "pretense_dev.index.reader"]
    assert out.stdout.strip() == repr(loaded)
