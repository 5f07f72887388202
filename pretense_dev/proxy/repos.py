"""Per-repository state inside the proxy: map, policy, secret detector, leaf cache.

A `RepoContext` is created the first time a repo id is seen and lives as long
as the proxy.  Before each request it polls the index's ``map_version`` (one
indexed SELECT, about 10 µs, skipped while the index's files are unchanged for up
to `POLL_EVERY`) and the config file's stat; when the version moved
it loads the new map in a worker thread and *grows* the session map with it
(`IdentifierMap.grow`): names the index learns while the proxy runs are picked
up without a restart, and a name is never dropped within a session, so a
resent conversation keeps mutating to the same bytes (a name is never taken back mid-conversation).
The leaf cache is cleared when the map grows or the policy changes.

Everything that can fail here raises `Refusal`: the proxy answers with the
API's own error and forwards nothing.  A missing, unreadable or incomplete
index (an `init` interrupted before its map was written) is a 503: no map, no
forward.  The policy and secret checks themselves live in `guard`.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pretense_dev.audit.events import BLOCKED, ERROR
from pretense_dev.config import Config, ProxyConfig, load_config
from pretense_dev.errors import PretenseError
from pretense_dev.index.reader import IndexReader, IndexUnreadable
from pretense_dev.mutation import IdentifierMap

# The guard's names are re-exported: callers that read them from here keep working.
from pretense_dev.proxy.guard import (
    GuardFinding,
    Refusal,
    Scanner,
    ScannerFactory,
    approved,
    blocked_message,
    default_scanner,
    scan,
)
from pretense_dev.proxy.history import HistoryCache
from pretense_dev.proxy.transform import LeafCache

__all__ = [
    "GuardFinding",
    "Refusal",
    "RepoContext",
    "RepoSource",
    "Resolver",
    "Scanner",
    "ScannerFactory",
    "approved",
    "blocked_message",
    "default_scanner",
    "registry_resolver",
    "scan",
]


@dataclass(frozen=True)
class RepoSource:
    """Where a repo id leads: its root and how to get its key."""

    repo_id: str
    root: Path
    key: Callable[[], bytes]
    # (vendor, base URL) for this repository only: the user's own gateway, chained
    # behind the proxy instead of replaced by it (`registry.set_upstream`).
    upstreams: tuple[tuple[str, str], ...] = ()


Resolver = Callable[[str], RepoSource]
# Seconds a map_version read is trusted while the index's files have not changed.
POLL_EVERY = 0.02


def registry_resolver(repo_id: str) -> RepoSource:
    """Resolve through the user registry; refuse ids that do not lead to that repo."""
    from pretense_dev import registry
    from pretense_dev.repo import Repo

    if not repo_id.isalnum():
        raise Refusal(404, f"'{repo_id}' is not a repository id", decision=BLOCKED)
    try:
        entry = registry.lookup(repo_id)
    except PretenseError as e:
        raise Refusal(503, f"the repository registry cannot be read: {e.message}") from None
    if entry is None:
        raise Refusal(
            404,
            f"no repository with id {repo_id} is initialised for pretense-dev on this machine "
            "— run `pretense-dev proxy url` in the repository and use that base URL",
            decision=BLOCKED,
        )
    repo = Repo(entry.path)
    try:
        actual = repo.repo_id
    except PretenseError:
        actual = None
    if actual != repo_id:
        raise Refusal(
            404,
            f"repository {repo_id} ({entry.path}) is no longer initialised "
            "— run `pretense-dev init` in it",
            decision=BLOCKED,
        )
    return RepoSource(repo_id, entry.path, lambda: repo.key, entry.upstreams)


@dataclass
class RepoContext:
    """One repository as the proxy serves it."""

    source: RepoSource
    scanner_factory: ScannerFactory
    mapping: IdentifierMap | None = None
    map_version: int = -1
    config: Config | None = None
    scanner: Scanner | None = None
    key: bytes = b""
    cache: LeafCache = field(default_factory=LeafCache)
    # Resent histories already mutated (`history`): dropped with the leaf cache.
    history: HistoryCache = field(default_factory=HistoryCache)
    _config_stamp: tuple[tuple[int, int, int] | None, ...] | None = None
    _config_error: str | None = None
    _poll: IndexReader | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _baseline: tuple[str, Path] | None = None
    # (index and WAL stat, when, map_version) of the last complete map read
    _polled: tuple[Any, float, int] | None = None

    @property
    def repo_id(self) -> str:
        """The id in the URL."""
        return self.source.repo_id

    @property
    def root(self) -> Path:
        """The work tree."""
        return self.source.root

    # Polled on every request: built once (a pathlib join costs microseconds each time).
    @functools.cached_property
    def index_path(self) -> Path:
        """`.pretense/index.db`."""
        return self.root / ".pretense" / "index.db"

    @functools.cached_property
    def _wal_path(self) -> Path:
        return self.root / ".pretense" / "index.db-wal"

    @functools.cached_property
    def config_path(self) -> Path:
        """`.pretense/config.toml`."""
        return self.root / ".pretense" / "config.toml"

    def close(self) -> None:
        """Close the polling connection."""
        self._polled = None
        if self._poll is not None:
            self._poll.close()
            self._poll = None

    def _version(self) -> int:
        # The file itself, each time: an open connection would keep reading a deleted
        # or replaced (rebuilt) index through its old inode.
        st = os.stat(self.index_path)
        ident = (st.st_dev, st.st_ino)
        if self._poll is not None and ident != self._poll.ident:
            self.close()
        # The index is in WAL mode: every commit writes the -wal file (and a checkpoint
        # the main file), so while neither stat moved the map is the one last read, and
        # the SELECT (most of this poll's cost) is skipped.  A commit that leaves both
        # stats as they were (a restarted WAL rewritten to the same size within one
        # tick of the file clock) is still seen by the SELECT run at least every
        # `POLL_EVERY` seconds, well inside the watcher's own 0.2 s of quiet.
        try:
            wal = os.stat(self._wal_path)
            wal_stamp: tuple[int, int, int] | None = (wal.st_ino, wal.st_size, wal.st_mtime_ns)
        except FileNotFoundError:
            wal_stamp = None
        stamp = (ident, st.st_size, st.st_mtime_ns, wal_stamp)
        now = time.monotonic()
        if (
            self._poll is not None
            and self._polled is not None
            and self._polled[0] == stamp
            and now - self._polled[1] < POLL_EVERY
        ):
            return self._polled[2]
        if self._poll is None:
            # The reader never creates an empty index where one went missing.
            self._poll = IndexReader(self.index_path)
        version, complete = self._poll.map_state()
        self._polled = (stamp, now, version) if complete else None
        if not complete:
            # No map, no forward: an index run that did not finish left only some names.
            raise Refusal(
                503,
                f"the identifier map of repository {self.repo_id} is incomplete (an index "
                "run did not finish), so nothing was sent "
                "— run `pretense-dev index` in the repository",
                audit_reason="identifier map incomplete",
            )
        return version

    def _stamp(self) -> tuple[tuple[int, int, int] | None, ...]:
        """The policy file's and the baseline's stat: a change reloads both."""
        out: list[tuple[int, int, int] | None] = []
        baseline = ".pretense/baseline.json"
        if self.config is not None:
            baseline = self.config.secrets.baseline
        if self._baseline is None or self._baseline[0] != baseline:
            self._baseline = (baseline, self.root / baseline)
        for p in (self.config_path, self._baseline[1]):
            try:
                st = os.stat(p)
            except FileNotFoundError:
                out.append(None)
            else:
                out.append((st.st_mtime_ns, st.st_size, st.st_ino))
        return tuple(out)

    def _load_map(self) -> tuple[IdentifierMap, int]:
        with IndexReader(self.index_path) as reader:
            version, complete = reader.map_state()
            if not complete:
                raise IndexUnreadable(self.index_path, "its identifier map is incomplete")
            forward: dict[str, str] = {}
            issued: dict[str, str] = {}
            for name, synthetic, active in reader.map_rows():
                issued[synthetic] = name
                if active:
                    forward[name] = synthetic
        return IdentifierMap(forward, issued), version

    async def refresh(self) -> None:
        """Bring map, policy and detector up to date; raise Refusal if one cannot be."""
        try:
            version = self._version()
        except IndexUnreadable as e:
            self.close()
            raise Refusal(
                503,
                f"the identifier map of repository {self.repo_id} cannot be read ({e.reason}), "
                "so nothing was sent — run `pretense-dev index --full` in the repository",
                audit_reason="identifier map unreadable",
            ) from None
        except Refusal:
            self.close()
            raise
        except OSError as e:
            self.close()
            raise Refusal(
                503,
                f"the identifier map of repository {self.repo_id} is missing ({e.strerror}), "
                "so nothing was sent — run `pretense-dev index --full` in the repository",
                audit_reason="identifier map missing",
            ) from None
        stamp = self._stamp()
        if (
            version == self.map_version
            and stamp == self._config_stamp
            and self.mapping is not None
            and self.scanner is not None
        ):
            return
        async with self._lock:
            await self._reload(version, stamp)

    async def _reload(self, version: int, stamp: tuple[tuple[int, int, int] | None, ...]) -> None:
        loop = asyncio.get_running_loop()
        if not self.key:
            try:
                self.key = await loop.run_in_executor(None, self.source.key)
            except PretenseError as e:
                raise Refusal(
                    503, f"the key of repository {self.repo_id} cannot be loaded: {e.message}"
                ) from None
        if stamp != self._config_stamp or self.config is None:
            try:
                self.config = load_config(self.config_path)
                self._config_error = None
            except PretenseError as e:
                self._config_error = " ".join(e.message.split())
            self._config_stamp = stamp
            self.scanner = None
            self.forget()
        if self._config_error is not None:
            raise Refusal(
                503, f"this repository's policy is invalid: {self._config_error}", decision=ERROR
            )
        assert self.config is not None
        if self.scanner is None:
            try:
                self.scanner = self.scanner_factory(self.key, self.config, self.root)
            except Exception as e:
                raise Refusal(
                    503,
                    f"the secret detector cannot be loaded ({type(e).__name__}: {e}) "
                    "— run `pretense-dev doctor`",
                ) from None
        if version != self.map_version or self.mapping is None:
            try:
                fresh, loaded_version = await loop.run_in_executor(None, self._load_map)
            except (IndexUnreadable, OSError) as e:
                raise Refusal(
                    503,
                    f"the identifier map of repository {self.repo_id} cannot be loaded "
                    f"({getattr(e, 'reason', e)}), so nothing was sent "
                    "— run `pretense-dev index --full` in the repository",
                    audit_reason="identifier map unreadable",
                ) from None
            if self.mapping is None:
                self.mapping = fresh
            else:
                old = self.mapping
                self.mapping = await loop.run_in_executor(
                    None, lambda: old.grow(fresh.forward, fresh.issued)
                )
                self.forget()
            self.map_version = loaded_version

    def forget(self) -> None:
        """Drop every cached result: the map grew, or the policy or detector changed."""
        self.cache.clear()
        self.history.clear()

    def policy(self) -> ProxyConfig:
        """The loaded policy (after `refresh`)."""
        assert self.config is not None
        return self.config.proxy
