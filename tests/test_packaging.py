"""`pip install .` from a clean clone must give a working tool: every data file is in the wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO_ROOT

# Data every installed pretense-dev reads with importlib.resources.
REQUIRED = [
    "pretense_dev/identifiers/queries/python.scm",
    "pretense_dev/identifiers/queries/tsx.scm",
    "pretense_dev/identifiers/queries/rust.scm",
    "pretense_dev/demo/sample/billing/ledger_reconciler.py",
    "pretense_dev/demo/sample/web/src/components/InvoiceSummaryCard.tsx",
]


def _clean_copy(dest: Path) -> Path:
    """The checkout's files as a clone would have them (uncommitted edits included).

    Building in the checkout itself would leave a `build/` directory there, and
    a stale one puts modules that no longer exist into the next wheel.
    """
    files = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "-z", "--cached", "--others",
         "--exclude-standard"],
        capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for rel in filter(None, files):
        src = REPO_ROOT / rel
        if src.is_file() and not src.is_symlink():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
        elif src.is_symlink():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            (dest / rel).symlink_to(os.readlink(src))
    return dest


def test_wheel_ships_code_data_and_kernel(tmp_path: Path) -> None:
    source = _clean_copy(tmp_path / "src")
    out = tmp_path / "wheels"
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-v",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    # `make demo` starts with this build: setuptools' deprecation and "absent from
    # `packages`" warnings once ran to hundreds of lines before the first demo line.
    log = built.stdout + built.stderr
    assert [line for line in log.splitlines() if "Warning:" in line] == []
    (wheel,) = out.glob("pretense_dev-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [r for r in REQUIRED if r not in names]
    assert missing == []
    assert any(n.startswith("pretense_dev/mutation/_kernel") and n.endswith(".so") for n in names)
    # Tracked data files in the package all ship (queries, stop lists, rules, manifests, sample).
    tracked = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "pretense_dev"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    data = [t for t in tracked if not t.endswith((".py", ".c")) or "/demo/sample/" in t]
    assert [d for d in data if d not in names] == []


def test_an_editable_install_prints_no_warning(tmp_path: Path) -> None:
    """`make demo` and `make test` start with `pip install -e .`: its output must be clean."""
    source = _clean_copy(tmp_path / "src")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--no-deps",
            "-v",
            "-e",
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    log = built.stdout + built.stderr
    assert [line for line in log.splitlines() if "Warning" in line] == []
    assert "Successfully installed pretense-dev" in log
