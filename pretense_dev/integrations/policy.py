"""Recording which tools are configured in the team policy, `.pretense/config.toml`.

`tools.configured` is what makes a teammate's `init` set up the same tools and
what `verify` checks.  The file is the team's, with their comments: it is
edited with tomlkit (round-trip), validated with the same strict parser as
everything else before anything is written, written with temp file + rename,
and only when something changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

TABLE = "tools"
KEY = "configured"


def _edit(path: Path, add: Iterable[str], drop: Iterable[str]) -> list[str]:
    from pretense_dev.config_edit import edit_list  # deferred: tomlkit, only init/uninstall

    return edit_list(path, TABLE, KEY, add, drop, missing_ok=False)[0]


def add_configured(path: Path, tools: Iterable[str]) -> list[str]:
    """Add tools to `tools.configured`; return the ones that were not there yet."""
    return _edit(path, tools, ())


def remove_configured(path: Path, tools: Iterable[str]) -> list[str]:
    """Remove tools from `tools.configured`; return the ones that were there."""
    return _edit(path, (), tools)
