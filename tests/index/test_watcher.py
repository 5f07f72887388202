"""The index watcher on a real repository: real files, real inotify, real git.

Tests wait for the watcher's own reports (a queue fed by `on_indexed`) until
the index shows what the files say, with a timeout — never a sleep.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pretense_dev.index.watcher import IndexWatcher, WatchReport
from pretense_dev.lifecycle import init_repo
from pretense_dev.repo import Repo
from tests.conftest import git, write

TIMEOUT = 30.0


class Watched:
    """A running watcher plus a way to wait until the index satisfies a check."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.reports: queue.Queue[WatchReport] = queue.Queue()
        self.watcher = IndexWatcher([root], quiet=0.05, workers=1, on_indexed=self.reports.put)

    def wait_until(self, check: Callable[[], bool], timeout: float = TIMEOUT) -> list[WatchReport]:
        """Consume reports until `check()` holds after one; return them."""
        seen: list[WatchReport] = []
        deadline = time.monotonic() + timeout
        while not check():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"index never matched; reports: {seen}")
            try:
                seen.append(self.reports.get(timeout=left))
            except queue.Empty:
                continue
        return seen

    def next_report(
        self, match: Callable[[WatchReport], bool], timeout: float = TIMEOUT
    ) -> WatchReport:
        """The next report that `match`es (earlier ones are dropped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching report")
            try:
                r = self.reports.get(timeout=left)
            except queue.Empty:
                continue
            if match(r):
                return r

    def definitions(self, name: str) -> list[tuple[str, str, int]]:
        with Repo(self.root).open_store() as store:
            return store.definitions_of(name)

    def files(self) -> set[str]:
        with Repo(self.root).open_store() as store:
            return set(store.file_states())

    def active(self, name: str) -> bool:
        with Repo(self.root).open_store() as store:
            row = store.issued([name]).get(name)
        return row is not None and row.active


@pytest.fixture
def watched(git_repo: Path) -> Iterator[Watched]:
    write(git_repo, {"pkg/alpha.py": "def alpha_handler():\n    pass\n"})
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "alpha")
    init_repo(git_repo, workers=1)
    w = Watched(git_repo)
    w.watcher.start()
    # The catch-up run at start is the first report.
    first = w.reports.get(timeout=TIMEOUT)
    assert first.full and first.error is None
    yield w
    w.watcher.stop()


def test_edit_create_delete_rename(watched: Watched) -> None:
    root = watched.root
    # Edit: a new definition in an existing file.
    (root / "pkg" / "alpha.py").write_text(
        "def alpha_handler():\n    pass\n\n\ndef beta_router():\n    pass\n"
    )
    watched.wait_until(lambda: watched.definitions("beta_router") != [])
    assert watched.active("beta_router")
    # Create.
    write(root, {"pkg/gamma.py": "class GammaSettlement:\n    pass\n"})
    watched.wait_until(
        lambda: watched.definitions("GammaSettlement") == [("pkg/gamma.py", "class", 1)]
    )
    # Rename: the old path leaves the index, the new one enters it.
    (root / "pkg" / "gamma.py").rename(root / "pkg" / "delta.py")
    watched.wait_until(
        lambda: "pkg/delta.py" in watched.files() and "pkg/gamma.py" not in watched.files()
    )
    assert watched.definitions("GammaSettlement") == [("pkg/delta.py", "class", 1)]
    # Delete: its names stop being protected.
    (root / "pkg" / "delta.py").unlink()
    watched.wait_until(lambda: "pkg/delta.py" not in watched.files())
    assert watched.definitions("GammaSettlement") == []
    assert not watched.active("GammaSettlement")


def test_directory_rename_and_burst(watched: Watched) -> None:
    root = watched.root
    # A burst, like a code generator: 300 files at once.
    write(root, {f"gen/mod_{i}.py": f"def generated_fn_{i}():\n    pass\n" for i in range(300)})
    reports = watched.wait_until(lambda: len(watched.definitions("generated_fn_299")) == 1)
    assert all(watched.definitions(f"generated_fn_{i}") for i in range(300))
    assert len(reports) < 300, "events were not batched"
    # A directory rename arrives as one event for the directory.
    (root / "gen").rename(root / "generated")
    watched.wait_until(
        lambda: watched.definitions("generated_fn_7") == [("generated/mod_7.py", "function", 1)]
    )
    assert not any(p.startswith("gen/") for p in watched.files())


def test_git_checkout_and_ignored_paths(watched: Watched) -> None:
    root = watched.root
    git(root, "checkout", "-q", "-b", "feature")
    write(root, {"pkg/feature.py": "def feature_toggle_engine():\n    pass\n"})
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "feature")
    watched.wait_until(lambda: watched.definitions("feature_toggle_engine") != [])
    git(root, "checkout", "-q", "main")
    watched.wait_until(lambda: watched.definitions("feature_toggle_engine") == [])
    # Ignored files and the store itself never enter the index.
    write(root, {".gitignore": "build/\n"})
    write(root, {"build/out.py": "def build_artifact_thing():\n    pass\n"})
    write(root, {"pkg/after.py": "def after_ignored_marker():\n    pass\n"})
    watched.wait_until(lambda: watched.definitions("after_ignored_marker") != [])
    assert watched.definitions("build_artifact_thing") == []
    assert not any(p.startswith((".pretense/", ".git/", "build/")) for p in watched.files())


def test_policy_change_applies_and_invalid_policy_weakens_nothing(watched: Watched) -> None:
    root = watched.root
    cfg = root / ".pretense" / "config.toml"
    cfg.write_text(cfg.read_text().replace("never = []", 'never = ["alpha_handler"]'))
    watched.wait_until(lambda: not watched.active("alpha_handler"))
    # A broken policy: the last valid one stays in force and the error is reported.
    cfg.write_text(cfg.read_text().replace("never = [", "nevr = ["))
    bad = watched.next_report(lambda r: r.error is not None)
    assert bad.error is not None and "unknown key 'identifiers.nevr'" in bad.error
    write(root, {"pkg/later.py": "def alpha_handler_two():\n    pass\n"})
    watched.wait_until(lambda: watched.active("alpha_handler_two"))
    assert not watched.active("alpha_handler")


def test_watch_command_runs_until_interrupted(git_repo: Path) -> None:
    write(git_repo, {"a.py": "def first_function():\n    pass\n"})
    init_repo(git_repo, workers=1)
    p = subprocess.Popen(
        [sys.executable, "-m", "pretense_dev", "watch", "--quiet-ms", "50"],
        cwd=git_repo,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert p.stderr is not None
    try:
        assert p.stderr.readline().startswith("watching 1 repository")
        assert p.stderr.readline().strip() == str(git_repo)
        assert "all files" in p.stderr.readline()  # the catch-up run
        write(git_repo, {"b.py": "def second_function():\n    pass\n"})
        line = p.stderr.readline()
        assert "1 changed path(s): 1 indexed" in line, line
        with Repo(git_repo).open_store() as store:
            assert store.definitions_of("second_function") == [("b.py", "function", 1)]
    finally:
        p.send_signal(signal.SIGINT)
        rest = p.communicate(timeout=TIMEOUT)[1]
    assert p.returncode == 0
    assert rest.strip().endswith("stopped")


def test_registered_repositories_and_add_remove(tmp_path: Path) -> None:
    roots = []
    for name in ("one", "two"):
        root = tmp_path / name
        root.mkdir()
        git(root, "init", "-q", "-b", "main")
        write(root, {f"{name}.py": f"def {name}_registered_fn():\n    pass\n"})
        init_repo(root, workers=1)
        roots.append(root.resolve())
    watcher = IndexWatcher.registered(quiet=0.05, workers=1)
    assert sorted(watcher.roots) == sorted(roots)
    reports: queue.Queue[WatchReport] = queue.Queue()
    watcher.on_indexed = reports.put
    watcher.remove(roots[1])
    watcher.start()
    try:
        assert watcher.wait_idle(TIMEOUT)
        assert watcher.errors == {}
        write(roots[1], {"late.py": "def late_two_function():\n    pass\n"})
        watcher.add(roots[1])  # catch-up run indexes what changed meanwhile
        assert watcher.wait_idle(TIMEOUT)
        with Repo(roots[1]).open_store() as store:
            assert store.definitions_of("late_two_function") == [("late.py", "function", 1)]
        seen = set()
        while not reports.empty():
            seen.add(reports.get().root)
        assert seen == set(roots)
    finally:
        watcher.stop()
