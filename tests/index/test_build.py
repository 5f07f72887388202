"""index/build.py on real files: salvaged names keep their synthetics, holders see the swap."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pretense_dev.index.build import build
from pretense_dev.index.store import IndexStore
from pretense_dev.lifecycle import init_repo
from pretense_dev.repo import Repo
from tests.conftest import write


def test_a_rebuild_keeps_salvaged_synthetics_and_long_lived_holders_follow_it(
    git_repo: Path,
) -> None:
    write(git_repo, {"ledger.py": "def reconcile_batch():\n    pass\n"})
    init_repo(git_repo, workers=1, configure_tools=False, hooks=False)
    repo = Repo(git_repo)
    # A synthetic that derivation alone would not give again (as after a lost collision).
    with sqlite3.connect(repo.index_path) as conn:
        conn.execute(
            "UPDATE identifiers SET synthetic = 'kept_as_issued' WHERE name = 'reconcile_batch'"
        )
        conn.execute("DROP TABLE meta")  # damage: not an index any more
    conn.close()
    holder = IndexStore.__new__(IndexStore)  # what the watcher holds: the old file's identity
    st = repo.index_path.stat()
    holder.path, holder._ident = repo.index_path, (st.st_dev, st.st_ino)
    assert not holder.replaced()
    report, notes = build(git_repo, repo.index_path, repo.config, repo.key, full=True, workers=1)
    assert report.names_protected >= 1
    assert notes[0].endswith("issued name(s) salvaged from it") and "damaged" in notes[0]
    assert holder.replaced()
    with IndexStore(repo.index_path) as store:
        assert store.load_map().forward["reconcile_batch"] == "kept_as_issued"
        assert store.map_complete()
    assert not (git_repo / ".pretense" / "index.db.new").exists()
