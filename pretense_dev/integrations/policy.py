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

from pretense_dev import paths
from pretense_dev.config import parse_config
from pretense_dev.errors import ConfigError

TABLE = "tools"
KEY = "configured"


def _edit(path: Path, add: Iterable[str], drop: Iterable[str]) -> list[str]:
    import tomlkit  # deferred: only init and uninstall edit the policy
    from tomlkit.items import Array, Table

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    parse_config(text, str(path))  # never edit a policy that is already invalid
    doc = tomlkit.parse(text)
    table = doc.get(TABLE)
    if table is None:
        table = tomlkit.table()
        doc.add(TABLE, table)
    if not isinstance(table, Table):
        raise ConfigError(f"{path}: {TABLE}: must be a table")
    items = table.get(KEY)
    if items is None:
        items = tomlkit.array()
        table.add(KEY, items)
    if not isinstance(items, Array):
        raise ConfigError(f"{path}: {TABLE}.{KEY}: must be a list")
    changed: list[str] = []
    for name in add:
        if name not in items:
            items.append(name)
            changed.append(name)
    for name in drop:
        while name in items:
            items.remove(name)
            if name not in changed:
                changed.append(name)
    if not changed:
        return []
    new = tomlkit.dumps(doc)
    parse_config(new, str(path))  # validate the result before writing it
    paths.atomic_write(path, new)
    return changed


def add_configured(path: Path, tools: Iterable[str]) -> list[str]:
    """Add tools to `tools.configured`; return the ones that were not there yet."""
    return _edit(path, tools, ())


def remove_configured(path: Path, tools: Iterable[str]) -> list[str]:
    """Remove tools from `tools.configured`; return the ones that were there."""
    return _edit(path, (), tools)
