"""A file whose name is not valid UTF-8 is left out of the index and said, never a crash.

Found trying the product on a checkout holding a Latin-1 `café.py` (byte E9, as
old repositories made on Windows or with a Latin-1 locale have): `init` and
`index` ended with "internal error (UnicodeEncodeError)", exit 3, and no index,
because the index keeps paths as SQLite text.  Now the file is left out, and
both commands name it and say that the names it defines are not protected;
a name that is UTF-8, accents and all, is indexed as any other.  A real git
repository in a tmp dir, the CLI run as a user runs it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import git, run_cli

LATIN1 = b"caf\xe9_ledger.py"


@pytest.fixture
def repo(git_repo: Path) -> Path:
    try:
        (git_repo / os.fsdecode(LATIN1)).write_bytes(b"def zorblax_total(x):\n    return x\n")
    except OSError as e:  # a file system that only takes UTF-8 names
        pytest.skip(f"this file system refuses a Latin-1 file name: {e}")
    (git_repo / "café_billing.py").write_text("def reconcile_invoices(batch_total):\n    pass\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "two files")
    return git_repo


SAID = (
    "  1 file whose name is not valid UTF-8 and not indexed, so the names it defines are "
    "NOT protected: caf\\xe9_ledger.py — rename it to UTF-8"
)


def test_init_and_index_leave_the_file_out_and_say_so(repo: Path, isolated_user: Path) -> None:
    r = run_cli("init", "--no-tools", "--no-hooks", cwd=repo)
    assert r.code == 0, r.err
    assert "internal error" not in r.err
    assert SAID in r.out.splitlines(), r.out
    assert "  files: 1 (python 1)" in r.out.splitlines()
    # The UTF-8 name with an accent is indexed like any other.
    e = run_cli("explain", "reconcile_invoices", cwd=repo)
    assert e.out.splitlines()[0].startswith("reconcile_invoices: protected"), e.out
    assert "defined at café_billing.py:1" in e.out
    again = run_cli("index", cwd=repo)
    assert again.code == 0, again.err
    assert again.out.splitlines()[1:] == [SAID]
    full = run_cli("index", "--full", cwd=repo)
    assert full.code == 0, full.err
    assert full.out.splitlines()[0].startswith("indexed 1 of 1 files (0 removed)")
    st = run_cli("status", cwd=repo)
    assert st.code == 0 and "files:      1" in st.out.splitlines()
