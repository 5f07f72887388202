"""Reading git objects for the scanners.

Below both `scan` (staged files, the work tree) and `history` (the lines each
commit adds), so neither imports the other.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from pretense_dev.errors import PretenseError, UsageError


def git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """Run git in `root`; its stdout, or one line naming the failure."""
    try:
        p = subprocess.run(
            ["git", "-C", str(root), "-c", "core.quotePath=false", *args],
            input=stdin,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise PretenseError("git is not installed", "install git and retry") from None
    if p.returncode != 0:
        msg = p.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {args[0]} failed: {msg[-1] if msg else p.returncode}")
    return p.stdout


def read_blobs(root: Path, shas: Sequence[str]) -> dict[str, bytes]:
    """Blob contents by sha, through one `git cat-file --batch`."""
    if not shas:
        return {}
    out = git(root, "cat-file", "--batch", stdin="".join(f"{s}\n" for s in shas).encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    while pos < len(out):
        nl = out.index(b"\n", pos)
        header = out[pos:nl].split()
        pos = nl + 1
        if len(header) < 3 or header[1] != b"blob":
            continue  # "missing" or a non-blob
        size = int(header[2])
        blobs[header[0].decode()] = out[pos : pos + size]
        pos += size + 1
    return blobs
