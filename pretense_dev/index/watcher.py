"""Keep indexes current while files change outside an editor (git checkout, codegen).

`IndexWatcher` watches one or more repositories with watchdog and re-indexes
only what changed, in batches:

* the observer's thread only records paths in a set (O(1) per event), so a
  burst of thousands of events — a branch switch, a code generator — never
  backs up the observer;
* one worker thread takes a repository's batch once it has been quiet for
  `quiet` seconds (or `max_wait` after its first event, so a stream that never
  pauses is still indexed), asks git which paths it ignores, and runs
  `run_index(only=batch)`; a batch larger than `FULL_BATCH`, a directory
  created/deleted/moved, or a changed `.gitignore` runs the stat-based
  incremental index over the whole tree instead, which is what it costs anyway;
* `.git/` and `.pretense/` are ignored — except `.pretense/config.toml`, whose
  change re-applies the policy (an invalid policy keeps the last valid one and
  indexes nothing with a weaker one).

Everything the worker does — SQLite included — happens on its own thread, so
the proxy daemon can run a watcher beside its event loop without blocking it:

    watcher = IndexWatcher.registered()   # every repository `init` registered
    watcher.start()
    ...
    watcher.stop()

The first batch of every repository is a catch-up run: files changed while
nobody watched are indexed at start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from pretense_dev.config import Config, load_config
from pretense_dev.errors import PretenseError
from pretense_dev.index.indexer import IndexReport, run_index
from pretense_dev.index.retry import retry_on_conflict
from pretense_dev.repo import Repo
from pretense_dev.worktree import git_ignored

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver, ObservedWatch

    from pretense_dev.index.store import IndexStore

log = logging.getLogger(__name__)

POLICY_REL = ".pretense/config.toml"
FULL_BATCH = 2000  # paths; beyond this one stat pass over the tree is as cheap
IGNORED_EVENTS = {"opened", "closed_no_write"}


@dataclass
class WatchReport:
    """One batch: which repository, which paths triggered it, what the index did."""

    root: Path
    paths: list[str]
    full: bool
    policy: bool
    index: IndexReport | None  # None if the batch needed no index run
    error: str | None = None


@dataclass
class _Pending:
    paths: set[str] = field(default_factory=set)
    full: bool = False
    policy: bool = False
    first: float = 0.0
    last: float = 0.0


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: IndexWatcher, root: Path) -> None:
        self.watcher = watcher
        self.root = root

    def on_any_event(self, event: FileSystemEvent) -> None:
        self.watcher._note(self.root, event)


@dataclass
class _RepoState:
    repo: Repo
    watch: ObservedWatch | None = None
    config: Config | None = None  # the last valid policy
    store: IndexStore | None = None  # opened and used on the worker thread only
    key: bytes | None = None


class IndexWatcher:
    """Watches repositories and keeps their indexes current (see the module docstring)."""

    def __init__(
        self,
        roots: Iterable[Path] = (),
        *,
        quiet: float = 0.2,
        max_wait: float = 2.0,
        workers: int | None = None,
        on_indexed: Callable[[WatchReport], None] | None = None,
    ) -> None:
        self.quiet = quiet
        self.max_wait = max_wait
        self.workers = workers
        self.on_indexed = on_indexed
        self._cond = threading.Condition()
        self._pending: dict[Path, _Pending] = {}
        self._repos: dict[Path, _RepoState] = {}
        self._busy = False
        self._stopping = False
        self._observer: BaseObserver | None = None
        self._worker: threading.Thread | None = None
        self._retired: list[_RepoState] = []  # removed repos whose store the worker closes
        # Repositories that could not be watched (e.g. the inotify watch limit), by root.
        self.errors: dict[Path, str] = {}
        for root in roots:
            self._repos[root.resolve()] = _RepoState(Repo(root.resolve()))

    @classmethod
    def registered(cls, **kwargs: object) -> IndexWatcher:
        """A watcher for every registered repository that is still initialised."""
        from pretense_dev import registry

        roots = [r.path for r in registry.load().values() if Repo(r.path).is_initialised()]
        return cls(roots, **kwargs)  # type: ignore[arg-type]

    @property
    def roots(self) -> list[Path]:
        """The repositories being watched."""
        return list(self._repos)

    # -- life cycle ---------------------------------------------------------

    def start(self) -> None:
        """Start the observer and the worker thread (returns at once)."""
        self._observer = Observer()
        self._observer.daemon = True
        for root in list(self._repos):
            self._schedule(root)
        self._observer.start()
        self._worker = threading.Thread(target=self._work, name="pretense-watch", daemon=True)
        self._worker.start()

    def stop(self, timeout: float | None = 10) -> None:
        """Stop watching; a batch being indexed finishes first."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._worker is not None:
            self._worker.join(timeout)

    def add(self, root: Path) -> None:
        """Watch one more repository (e.g. one `init` registered while running)."""
        root = root.resolve()
        with self._cond:
            if root in self._repos:
                return
            self._repos[root] = _RepoState(Repo(root))
        if self._observer is not None:
            self._schedule(root)

    def remove(self, root: Path) -> None:
        """Stop watching a repository (its store is closed by the worker)."""
        root = root.resolve()
        with self._cond:
            st = self._repos.pop(root, None)
            self._pending.pop(root, None)
            if st is not None:
                self._retired.append(st)
                self._cond.notify_all()
        if st is not None and st.watch is not None and self._observer is not None:
            self._observer.unschedule(st.watch)

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is pending or being indexed; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _schedule(self, root: Path) -> None:
        assert self._observer is not None
        st = self._repos[root]
        try:
            st.watch = self._observer.schedule(_Handler(self, root), str(root), recursive=True)
        except OSError as e:  # one repository failing must not stop the others (or the proxy)
            self.errors[root] = f"cannot watch {root}: {e.strerror or e}"
            log.warning("%s", self.errors[root])
            return
        self.errors.pop(root, None)
        with self._cond:  # catch-up: whatever changed while nobody watched
            p = self._pending.setdefault(root, _Pending(first=time.monotonic()))
            p.full = True
            p.last = time.monotonic()
            self._cond.notify_all()

    # -- observer thread: record only ----------------------------------------

    def _note(self, root: Path, event: FileSystemEvent) -> None:
        if event.event_type in IGNORED_EVENTS:
            return
        raw = [event.src_path]
        if event.event_type == "moved" and event.dest_path:
            raw.append(event.dest_path)
        full = policy = False
        rels: list[str] = []
        for r in raw:
            path = r.decode() if isinstance(r, bytes) else r
            try:
                rel = Path(path).relative_to(root).as_posix()
            except ValueError:
                continue
            if rel in (".", "") or rel == ".git" or rel.startswith(".git/"):
                continue
            if rel == POLICY_REL:
                policy = True
                continue
            if rel == ".pretense" or rel.startswith(".pretense/"):
                continue
            if event.is_directory:
                if event.event_type in ("created", "deleted", "moved"):
                    full = True
                continue
            if rel == ".gitignore" or rel.endswith("/.gitignore"):
                full = True
            rels.append(rel)
        if not (rels or full or policy):
            return
        now = time.monotonic()
        with self._cond:
            if root not in self._repos:
                return
            p = self._pending.get(root)
            if p is None:
                p = self._pending[root] = _Pending(first=now)
            p.paths.update(rels)
            p.full |= full
            p.policy |= policy
            p.last = now
            self._cond.notify_all()

    # -- worker thread ------------------------------------------------------------

    def _next_batch(self) -> tuple[Path, _Pending] | None:
        """Wait for a ready batch; None when stopping."""
        with self._cond:
            while not self._stopping:
                for st in self._retired:
                    if st.store is not None:
                        st.store.close()
                        st.store = None
                self._retired.clear()
                now = time.monotonic()
                wait = None
                for root, p in self._pending.items():
                    ready_at = min(p.last + self.quiet, p.first + self.max_wait)
                    if ready_at <= now:
                        self._busy = True
                        return root, self._pending.pop(root)
                    wait = ready_at - now if wait is None else min(wait, ready_at - now)
                self._cond.wait(wait)
            return None

    def _work(self) -> None:
        try:
            while (batch := self._next_batch()) is not None:
                root, pending = batch
                try:
                    report = self._process(root, pending)
                except Exception as e:  # one bad batch must not stop the watcher
                    log.exception("indexing %s failed", root)
                    report = WatchReport(
                        root,
                        sorted(pending.paths),
                        pending.full,
                        pending.policy,
                        None,
                        error=f"{type(e).__name__}: {e}",
                    )
                finally:
                    with self._cond:
                        self._busy = False
                        self._cond.notify_all()
                if self.on_indexed is not None:
                    try:
                        self.on_indexed(report)
                    except Exception:
                        log.exception("on_indexed callback failed")
        finally:
            for st in [*self._repos.values(), *self._retired]:
                if st.store is not None:
                    st.store.close()
                    st.store = None

    def _process(self, root: Path, p: _Pending) -> WatchReport:
        st = self._repos.get(root)
        paths = sorted(p.paths)
        if st is None or not st.repo.is_initialised():
            return WatchReport(root, paths, p.full, p.policy, None, error="not initialised")
        error = None
        if p.policy or st.config is None:
            try:
                st.config = load_config(st.repo.config_path)
            except PretenseError as e:
                error = "; ".join(e.lines())
                log.warning("%s: %s", root, error)
                if st.config is None:  # never valid: do not index with a weaker default
                    return WatchReport(root, paths, p.full, p.policy, None, error=error)
        if st.key is None:
            st.key = st.repo.key
        if st.store is not None and st.store.replaced():
            st.store.close()  # `index --full` rebuilt it: follow the new file
            st.store = None
        if st.store is None:
            st.store = st.repo.open_store()
        only: list[str] | None
        if p.full or len(paths) > FULL_BATCH:
            only = None
        else:
            ignored = git_ignored(root, paths)
            only = [x for x in paths if x not in ignored]
            if not only and not p.policy:
                return WatchReport(root, paths, False, False, None, error=error)
        cfg, key, store = st.config, st.key, st.store
        report = retry_on_conflict(
            lambda: run_index(root, store, cfg, key, only=only, workers=self.workers)
        )
        return WatchReport(root, paths, only is None, p.policy, report, error=error)


def run_foreground(roots: list[Path], quiet: float, echo: Callable[[str], None]) -> int:
    """`pretense-dev watch`: watch until ^C or SIGTERM, one line per batch on `echo`."""
    import signal

    stop = threading.Event()

    def show(r: WatchReport) -> None:
        name = r.root.name
        if r.error:
            echo(f"{name}: {r.error}")
        if r.index is None:
            return
        i = r.index
        what = "all files" if r.full else f"{len(r.paths)} changed path(s)"
        echo(
            f"{name}: {what}: {i.files_parsed} indexed, {i.files_removed} removed in "
            f"{i.seconds * 1000:.0f} ms; {i.names_protected} names protected "
            f"(+{i.names_added} −{i.names_removed})"
        )

    watcher = IndexWatcher(roots, quiet=quiet, on_indexed=show)
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        watcher.start()
        echo(f"watching {len(roots)} repositor{'y' if len(roots) == 1 else 'ies'} (Ctrl-C stops)")
        for root in roots:
            echo(f"  {root}")
        stop.wait()
    finally:
        watcher.stop()
        for s, h in previous.items():
            signal.signal(s, h)
    echo("stopped")
    return 0
