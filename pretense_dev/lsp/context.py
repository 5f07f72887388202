"""The repositories the server's documents live in, loaded once each.

A document belongs to the git work tree that contains it, so one server
serves a multi-root workspace and files opened from elsewhere.  Each
repository gets a `WorkspaceRepo`: its key, its policy (re-read when the file
changes, the last valid one kept when an edit breaks it), its secrets
scanner, and two connections to its index — one read on the event loop
(hover, code actions: one indexed lookup each), one written only from the
server's worker thread (buffer names, on-save re-index), so SQLite never sees
a connection shared between threads.

A document outside any initialised repository is still scanned for secrets
(with a per-process random key: its fingerprints are never stored), but no
name is recorded: there is no map to grow.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pretense_dev.config import Config, load_config
from pretense_dev.errors import PretenseError
from pretense_dev.lsp.scanner import SecretScanner, load_scanner
from pretense_dev.repo import Repo

if TYPE_CHECKING:
    from pretense_dev.index.store import IndexStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PolicyState:
    """The policy in force and whether the file on disk currently parses."""

    config: Config
    error: str | None  # the ConfigError text while the file is invalid


class WorkspaceRepo:
    """One repository as the server sees it (see the module docstring)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.repo = Repo(root) if root is not None else None
        self.initialised = self.repo is not None and self.repo.is_initialised()
        self._lock = threading.Lock()
        self._config_stat: tuple[int, int] | None = None
        self._policy: PolicyState | None = None
        self._scanner: tuple[Config, SecretScanner] | None = None
        self._read: IndexStore | None = None
        self._write: IndexStore | None = None
        self._key: bytes | None = None
        self._ever_valid = False

    @property
    def repo_id(self) -> str | None:
        """The proxy's `/r/<id>` for this repo, if initialised."""
        return self.repo.repo_id if self.repo is not None and self.initialised else None

    @property
    def key(self) -> bytes:
        """The repo key, or a per-process random one outside initialised repos."""
        if self._key is None:
            if self.repo is not None and self.initialised:
                self._key = self.repo.key
            else:
                self._key = os.urandom(32)
        return self._key

    def policy(self) -> PolicyState:
        """The policy, re-read if `.pretense/config.toml` changed since last time.

        An invalid file keeps the last valid policy in force (a typo must not
        weaken protection); with none yet, the defaults are used for reading
        and `writable()` is False, so nothing is written to the map.
        """
        with self._lock:
            if self.repo is None:
                if self._policy is None:
                    self._policy = PolicyState(Config(), None)
                return self._policy
            path = self.repo.config_path
            try:
                st = path.stat()
                stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
            except OSError:
                stamp = None
            if self._policy is not None and stamp == self._config_stat:
                return self._policy
            self._config_stat = stamp
            try:
                cfg = load_config(path)
                self._policy = PolicyState(cfg, None)
                self._ever_valid = True
            except PretenseError as e:
                message = "; ".join(e.lines())
                log.warning("policy file is invalid: %s", message)
                if self._policy is None:
                    self._policy = PolicyState(Config(), message)
                else:
                    self._policy = PolicyState(self._policy.config, message)
            return self._policy

    def writable(self) -> bool:
        """Whether the server may write to this repo's index and map now."""
        if not self.initialised:
            return False
        self.policy()
        # Invalid since the server started: we do not know the team's policy, so
        # do not recompute the map with defaults that could unprotect `always` names.
        return self._ever_valid

    def scanner(self) -> SecretScanner:
        """The secrets detector for the current policy (rebuilt when it changes)."""
        cfg = self.policy().config
        with self._lock:
            if self._scanner is None or self._scanner[0] is not cfg:
                self._scanner = (
                    cfg,
                    load_scanner(self.key, cfg, self.root if self.initialised else None),
                )
            return self._scanner[1]

    def read_store(self) -> IndexStore | None:
        """The connection for reads on the event loop (None if not initialised)."""
        if not self.initialised or self.repo is None:
            return None
        if self._read is not None and self._read.replaced():
            self._read.close()  # a rebuild swapped a new index in: follow it
            self._read = None
        if self._read is None:
            self._read = self.repo.open_store()
        return self._read

    def write_store(self) -> IndexStore | None:
        """The connection used only from the worker thread."""
        if not self.initialised or self.repo is None:
            return None
        if self._write is not None and self._write.replaced():
            self._write.close()
            self._write = None
        if self._write is None:
            self._write = self.repo.open_store()
        return self._write

    def relpath(self, path: Path) -> str | None:
        """`path` relative to the root (POSIX), or None if outside it."""
        if self.root is None:
            return None
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None

    def close(self) -> None:
        """Close both connections."""
        for store in (self._read, self._write):
            if store is not None:
                store.close()
        self._read = self._write = None


class Contexts:
    """Every `WorkspaceRepo` by root, plus one for files outside any repository."""

    def __init__(self) -> None:
        self._by_root: dict[Path, WorkspaceRepo] = {}
        self._outside = WorkspaceRepo(None)
        self.folders: list[Path] = []

    def for_path(self, path: Path | None) -> WorkspaceRepo:
        """The context of the work tree containing `path`.

        A document without a path (an untitled buffer) belongs to the first
        initialised workspace folder: names typed in a scratch buffer of a
        project are that project's, and over-protecting is the safe side.
        """
        if path is None:
            for folder in self.folders:
                ctx = self.for_path(folder / ".")
                if ctx.initialised:
                    return ctx
            return self._outside
        from pretense_dev import paths

        try:
            root = paths.find_repo_root(path if path.is_dir() else path.parent)
        except PretenseError:
            return self._outside
        known = self._by_root.get(root)
        if known is not None and (known.initialised or not Repo(root).is_initialised()):
            return known
        if known is not None:  # `init` ran since: start over with its key and store
            known.close()
        ctx = self._by_root[root] = WorkspaceRepo(root)
        return ctx

    def all(self) -> list[WorkspaceRepo]:
        """Every repository context created so far."""
        return list(self._by_root.values())

    def close(self) -> None:
        """Close every store."""
        for ctx in self._by_root.values():
            ctx.close()
