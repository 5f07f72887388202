"""Shared set-up for the integration benchmarks: a medium repo, a running proxy."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from bench._common import stdlib_dir

# A medium repository: these stdlib packages, about 250 files and 6 MB of Python.
MEDIUM = (
    "asyncio",
    "email",
    "http",
    "json",
    "logging",
    "unittest",
    "xml",
    "concurrent",
    "importlib",
)


def medium_repo(dest: Path) -> tuple[int, int]:
    """Copy MEDIUM into a new git repository with one commit; (files, bytes)."""
    src = stdlib_dir()
    files = size = 0
    for pkg in MEDIUM:
        for p in (src / pkg).rglob("*.py"):
            out = dest / p.relative_to(src)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, out)
            files += 1
            size += out.stat().st_size
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@b",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@b",
    }
    subprocess.run(["git", "init", "-q", str(dest)], check=True)
    subprocess.run(["git", "-C", str(dest), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(dest), "commit", "-qm", "m"], check=True, env=env)
    return files, size


def console_script() -> str:
    """The installed `pretense-dev` launcher next to this interpreter (as the tools run it)."""
    exe = Path(sys.executable).parent / "pretense-dev"
    return str(exe) if exe.exists() else "pretense-dev"


@contextmanager
def running_proxy() -> Iterator[str]:
    """Start the real proxy on a free loopback port; yield its URL; stop it."""
    cli = [sys.executable, "-m", "pretense_dev", "proxy"]
    subprocess.run(
        [*cli, "start", "--port", "0", "--upstream-anthropic", "http://127.0.0.1:9"],
        check=True,
        capture_output=True,
    )
    try:
        from pretense_dev.proxy import state

        st = state.running()
        assert st is not None
        yield st.url
    finally:
        subprocess.run([*cli, "stop"], check=False, capture_output=True)


def wall_times(
    cmds: Mapping[str, tuple[Sequence[str], bytes, Path]], runs: int
) -> dict[str, tuple[float, float]]:
    """Median (wall ms, CPU ms) of each command, runs interleaved so noise hits all alike.

    CPU is the child's user + system time: on a shared, loaded machine wall time
    includes waiting for a core, CPU time does not; both are printed.
    """
    import resource

    times: dict[str, list[tuple[float, float]]] = {k: [] for k in cmds}
    for _ in range(runs):
        for name, (argv, stdin, cwd) in cmds.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(argv, input=stdin, cwd=cwd, capture_output=True, check=False)
            wall = (time.perf_counter() - t) * 1000
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
            times[name].append((wall, cpu))
    return {
        k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
        for k, v in times.items()
    }


def compile_package() -> None:
    """Write .pyc files for pretense_dev, as an installed wheel has them.

    An editable checkout run with PYTHONDONTWRITEBYTECODE (as here) would
    otherwise compile every module from source on every hook call.
    """
    import compileall

    import pretense_dev

    compileall.compile_dir(Path(pretense_dev.__file__).parent, quiet=1)
