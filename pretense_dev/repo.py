"""A repository as pretense-dev sees it: root, id, policy, key and store.

Everything is loaded on first use, so a hook that only needs the config does
not open SQLite or ask the keyring.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from pretense_dev import paths
from pretense_dev.config import Config, load_config
from pretense_dev.errors import NotInitialisedError, PretenseError

if TYPE_CHECKING:
    from pretense_dev.index.store import IndexStore

GITIGNORE_TEXT = """\
# Written by pretense-dev: everything here except the team policy is local.
# The index and any key must never be committed.
*
!.gitignore
!config.toml
!baseline.json
"""


class Repo:
    """One git work tree, initialised or not."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def discover(cls, start: Path | None = None) -> Repo:
        """The repository containing `start` (default: the cwd)."""
        return cls(paths.find_repo_root(start))

    @property
    def state_dir(self) -> Path:
        """`<root>/.pretense`."""
        return paths.state_dir(self.root)

    @property
    def config_path(self) -> Path:
        """`<root>/.pretense/config.toml` (team policy, committed)."""
        return self.state_dir / paths.CONFIG_NAME

    @property
    def index_path(self) -> Path:
        """`<root>/.pretense/index.db` (local)."""
        return self.state_dir / paths.INDEX_NAME

    @property
    def repo_id_path(self) -> Path:
        """`<root>/.pretense/repo-id`; local, since ids are per clone."""
        return self.state_dir / paths.REPO_ID_NAME

    def is_initialised(self) -> bool:
        """Whether `init` has run here: an id and an index exist."""
        return self.repo_id_path.exists() and self.index_path.exists()

    def require_initialised(self) -> Repo:
        """Raise NotInitialisedError unless `init` has run here."""
        if not self.is_initialised():
            raise NotInitialisedError(str(self.root))
        return self

    @functools.cached_property
    def repo_id(self) -> str:
        """The id in proxy URLs (`/r/<id>`) and the keyring entry name."""
        try:
            value = self.repo_id_path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            raise NotInitialisedError(str(self.root)) from None
        if not value.isalnum():
            raise PretenseError(f"{self.repo_id_path} is corrupt", "run `pretense-dev init` again")
        return value

    def ensure_repo_id(self) -> str:
        """Create the id on first `init`; keep it afterwards."""
        if not self.repo_id_path.exists():
            import secrets  # deferred: only `init` makes an id; hooks load Repo on every prompt

            paths.atomic_write(self.repo_id_path, secrets.token_hex(8) + "\n")
        self.__dict__.pop("repo_id", None)
        return self.repo_id

    @functools.cached_property
    def config(self) -> Config:
        """The validated team policy (defaults if there is no config file)."""
        return load_config(self.config_path)

    @functools.cached_property
    def key(self) -> bytes:
        """The per-repo key (keyring or 0600 file)."""
        from pretense_dev.keys import load_key

        return load_key(self.repo_id)

    def open_store(self) -> IndexStore:
        """Open index.db (creating it if needed)."""
        from pretense_dev.index.store import IndexStore

        return IndexStore(self.index_path)

    def relpath(self, path: Path) -> str:
        """`path` relative to the root, with POSIX separators."""
        return path.resolve().relative_to(self.root).as_posix()
