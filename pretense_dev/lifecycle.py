"""`init`: set a repository up (config, id, key, registry, index); `status`; `explain`.

Re-running `init` is safe: each step checks what is there and changes only what
is missing or wrong (STYLE 13), and the config is validated before anything
is written, so a bad policy file stops `init` with nothing changed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pretense_dev import paths, registry
from pretense_dev.config import DEFAULT_CONFIG_TEXT, IdentifiersConfig, load_config
from pretense_dev.index.indexer import IndexReport, allowed, always_names, run_index
from pretense_dev.keys import KeyInfo, ensure_key
from pretense_dev.repo import GITIGNORE_TEXT, Repo

if TYPE_CHECKING:
    from pretense_dev.index.store import IndexStore


@dataclass
class InitReport:
    """What `init` did and found."""

    root: Path
    repo_id: str
    created: list[str] = field(default_factory=list)  # files and entries written
    key: KeyInfo | None = None
    index: IndexReport | None = None
    seconds: float = 0.0
    secret_files: int = 0  # indexed files holding at least one secret finding
    notes: list[str] = field(default_factory=list)  # steps left to the user


def init_repo(root: Path, *, workers: int | None = None, hooks: bool = True) -> InitReport:
    """Initialise (or repair) `root`; see the module docstring."""
    t0 = time.perf_counter()
    repo = Repo(root)
    # Validate an existing policy before touching anything.
    config = load_config(repo.config_path)
    created: list[str] = []
    repo.state_dir.mkdir(exist_ok=True)
    gi = repo.state_dir / ".gitignore"
    if not gi.exists() or gi.read_text(encoding="utf-8") != GITIGNORE_TEXT:
        paths.atomic_write(gi, GITIGNORE_TEXT)
        created.append(".pretense/.gitignore")
    if not repo.config_path.exists():
        paths.atomic_write(repo.config_path, DEFAULT_CONFIG_TEXT)
        created.append(".pretense/config.toml")
    had_id = repo.repo_id_path.exists()
    repo_id = repo.ensure_repo_id()
    if not had_id:
        created.append(".pretense/repo-id")
    key, info = ensure_key(repo_id)
    if registry.register(repo_id, root):
        created.append(f"registry entry {repo_id}")
    notes: list[str] = []
    if hooks:
        # Secret scanning on commit and push (not an AI-tool setting: --no-tools keeps it).
        from pretense_dev.integrations import precommit

        plan = precommit.apply(root)
        created += plan.steps
        notes += plan.notes
    with repo.open_store() as store:
        report = run_index(root, store, config, key, workers=workers)
        secret_files = len(store.files_with_findings())
    return InitReport(
        root, repo_id, created, info, report, time.perf_counter() - t0, secret_files, notes
    )


@dataclass
class Explanation:
    """Why a name is or is not protected."""

    name: str
    protected: bool
    synthetic: str | None
    reason: str
    definitions: list[tuple[str, str, int]]  # (path, kind, line)


def explain(
    repo: Repo,
    name: str,
    *,
    store: IndexStore | None = None,
    config: IdentifiersConfig | None = None,
) -> Explanation:
    """Whether `name` is protected and why (defined where, or what keeps it out).

    The language server passes its open `store` and current policy `config`
    (hover); the CLI lets this open the store and read the policy file.
    """
    from pretense_dev.identifiers import stoplists

    cfg = config if config is not None else repo.config.identifiers
    if store is None:
        with repo.open_store() as own:
            issued = own.issued([name]).get(name)
            defs = own.definitions_of(name)
    else:
        issued = store.issued([name]).get(name)
        defs = store.definitions_of(name)
    syn = issued.synthetic if issued else None
    if issued is not None and issued.active:
        if name in always_names(cfg.always):
            why = "it is in the `always` list of .pretense/config.toml"
        else:
            why = f"this repository defines it ({len(defs)} definition{'s' * (len(defs) != 1)})"
        return Explanation(name, True, syn, why, defs)
    if name in cfg.never:
        why = "it is in the `never` list of .pretense/config.toml"
    elif defs and not allowed(name, cfg):
        why = f"it is shorter than identifiers.min_length ({cfg.min_length})"
    elif (r := stoplists.reason(name)) is not None:
        why = f"it is {r}; such names are never protected"
    elif len(name) < cfg.min_length:
        why = f"it is shorter than identifiers.min_length ({cfg.min_length})"
    elif issued is not None:
        why = "no file defines it any more (its synthetic is kept, inactive)"
    else:
        why = (
            "this repository does not define it "
            "(names only used from dependencies are not protected)"
        )
    return Explanation(name, False, syn, why, defs)
