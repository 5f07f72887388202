"""Shared bench helpers: an isolated user dir, a stdlib corpus, medians."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def isolated_user() -> Iterator[Path]:
    """Point HOME/XDG at a temp dir and use the key-file fallback, like the tests."""
    base = Path(tempfile.mkdtemp(prefix="pretense-bench-"))
    saved = dict(os.environ)
    os.environ["HOME"] = str(base / "home")
    for var in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = str(base / "home" / var.lower())
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    try:
        yield base
    finally:
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(base, ignore_errors=True)


def stdlib_dir() -> Path:
    """The running interpreter's standard library."""
    return Path(sysconfig.get_paths()["stdlib"])


def copy_stdlib(dest: Path) -> int:
    """Copy every stdlib .py file (no site-packages) into a new git repo; return bytes."""
    src = stdlib_dir()
    total = 0
    for p in src.rglob("*.py"):
        rel = p.relative_to(src)
        if rel.parts[0] in ("site-packages", "dist-packages") or not p.is_file():
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, out)
        total += out.stat().st_size
    subprocess.run(["git", "init", "-q", str(dest)], check=True)
    return total


def median_time(fn: Callable[[], object], runs: int) -> float:
    """Median wall time of `fn` over `runs` runs, in seconds."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)
