"""Why a name is or is not protected: `pretense-dev explain NAME` and the editor's hover.

Here, beside the store it reads, so the CLI and the language server both use
it without the language server importing `lifecycle` (which sits above it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pretense_dev.index.indexer import allowed, always_names

if TYPE_CHECKING:
    from pretense_dev.config import IdentifiersConfig
    from pretense_dev.index.store import IndexStore
    from pretense_dev.repo import Repo


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
