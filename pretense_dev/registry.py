"""The user-level registry of initialised repositories: repo id → path.

One proxy serves all of a user's repositories and picks the map by the
``/r/<repo-id>`` prefix, so it needs to find a repository from its id.  An
entry may also name upstreams for that repository: a gateway the user already
sent a vendor's traffic to (a corporate LLM gateway in ``ANTHROPIC_BASE_URL``)
stays that traffic's destination, with the proxy in front of it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from pretense_dev import paths
from pretense_dev.errors import PretenseError

REGISTRY_VERSION = 1


@dataclass(frozen=True)
class RegisteredRepo:
    """One entry of the registry."""

    repo_id: str
    path: Path
    registered_at: float
    upstreams: tuple[tuple[str, str], ...] = ()  # (vendor, base URL): this repo's gateways

    def upstream(self, vendor: str) -> str | None:
        """The base URL this repository's `vendor` traffic goes to, if not the default."""
        return dict(self.upstreams).get(vendor)


def registry_path() -> Path:
    """`<user data dir>/repos.json`."""
    return paths.user_data_dir() / "repos.json"


def load() -> dict[str, RegisteredRepo]:
    """Every registered repo by id (empty if none yet)."""
    p = registry_path()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise PretenseError(
            f"{p}: unreadable registry: {e}", "fix or remove it, then run `pretense-dev init`"
        ) from None
    repos = data.get("repos", {}) if isinstance(data, dict) else {}
    return {
        rid: RegisteredRepo(
            rid, Path(v["path"]), float(v.get("registered_at", 0)), _upstreams(v.get("upstreams"))
        )
        for rid, v in repos.items()
        if isinstance(v, dict) and "path" in v
    }


def _upstreams(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in value.items() if isinstance(v, str)))


def _save(repos: dict[str, RegisteredRepo]) -> None:
    data = {
        "version": REGISTRY_VERSION,
        "repos": {
            r.repo_id: {"path": str(r.path), "registered_at": r.registered_at}
            | ({"upstreams": dict(r.upstreams)} if r.upstreams else {})
            for r in sorted(repos.values(), key=lambda r: r.repo_id)
        },
    }
    paths.ensure_private_dir(registry_path().parent)
    paths.atomic_write(registry_path(), json.dumps(data, indent=2) + "\n", mode=0o600)


def register(repo_id: str, root: Path) -> bool:
    """Record a repo; return True if the registry changed."""
    repos = load()
    current = repos.get(repo_id)
    if current is not None and current.path == root:
        return False
    # One id per path: a repo re-initialised with a fresh id replaces its old entry.
    repos = {k: v for k, v in repos.items() if v.path != root}
    repos[repo_id] = RegisteredRepo(repo_id, root, time.time())
    _save(repos)
    return True


def set_upstream(repo_id: str, vendor: str, url: str | None) -> bool:
    """Send `repo_id`'s `vendor` traffic to `url` (None: back to the default); True if changed."""
    repos = load()
    current = repos.get(repo_id)
    if current is None:
        raise PretenseError(
            f"repository {repo_id} is not registered", "run `pretense-dev init` in it"
        )
    table = dict(current.upstreams)
    if table.get(vendor) == url:
        return False
    if url is None:
        table.pop(vendor, None)
    else:
        table[vendor] = url
    repos[repo_id] = RegisteredRepo(
        current.repo_id, current.path, current.registered_at, tuple(sorted(table.items()))
    )
    _save(repos)
    return True


def unregister(repo_id: str) -> bool:
    """Forget a repo; return True if it was registered."""
    repos = load()
    if repos.pop(repo_id, None) is None:
        return False
    _save(repos)
    return True


def lookup(repo_id: str) -> RegisteredRepo | None:
    """The registered repo with this id, if any."""
    return load().get(repo_id)
