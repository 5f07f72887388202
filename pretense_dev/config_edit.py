"""Edits to `.pretense/config.toml` that keep the team's comments and layout.

Reading the policy uses tomllib (`config.load_config`, strict); writing uses
tomlkit, which round-trips comments, key order and formatting: a team's file
is theirs, and an edit must not reformat it.
Every edit is validated with the same parser the rest of pretense-dev uses
*before* anything is written, and written with `paths.atomic_write`, so a
failed or refused edit leaves the file exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pretense_dev import paths
from pretense_dev.config import DEFAULT_CONFIG_TEXT, Config, parse_config
from pretense_dev.errors import ConfigError

# (table, key) pairs this module may edit: the identifier lists and the tools `init` set up.
LIST_KEYS = {("identifiers", "never"), ("identifiers", "always"), ("tools", "configured")}


@dataclass(frozen=True)
class EditResult:
    """What an edit did: `changed` is False when the value was already there."""

    changed: bool
    config: Config


def add_to_list(path: Path, table: str, key: str, value: str) -> EditResult:
    """Append `value` to `[table].key` in the policy file at `path`.

    A missing file starts from the default policy text.  Raises ConfigError
    (file, line, key) if the current file is invalid or if the result would
    be — e.g. a `never` entry that is not an identifier — and writes nothing.
    """
    changed, config = edit_list(path, table, key, add=(value,))
    return EditResult(bool(changed), config)


def edit_list(
    path: Path,
    table: str,
    key: str,
    add: Iterable[str] = (),
    drop: Iterable[str] = (),
    *,
    missing_ok: bool = True,
) -> tuple[list[str], Config]:
    """Add and remove values of the list `[table].key`; return (values changed, new policy).

    Writes only if something changed.  With `missing_ok`, a missing file starts
    from the default policy text; otherwise it is an error.
    """
    import tomlkit  # deferred: only edits need the round-trip parser
    from tomlkit.items import Array, Table

    if (table, key) not in LIST_KEYS:
        raise ValueError(f"{table}.{key} is not an editable list")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if not missing_ok:
            raise ConfigError(f"{path}: cannot read: no such file") from None
        text = DEFAULT_CONFIG_TEXT
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    current = parse_config(text, str(path))  # refuse to edit a policy that is already broken
    doc = tomlkit.parse(text)
    section = doc.get(table)
    if section is None:
        section = tomlkit.table()
        doc.add(table, section)
    if not isinstance(section, Table):
        raise ConfigError(f"{path}: {table}: must be a table")
    items = section.get(key)
    if items is None:
        items = tomlkit.array()
        section.add(key, items)
    if not isinstance(items, Array):
        raise ConfigError(f"{path}: {table}.{key}: must be a list")
    changed: list[str] = []
    for value in add:
        if value not in [str(v) for v in items]:
            items.append(value)
            changed.append(value)
    for value in drop:
        while value in [str(v) for v in items]:
            items.remove(value)
            if value not in changed:
                changed.append(value)
    if not changed:
        return [], current
    new_text = tomlkit.dumps(doc)
    config = parse_config(new_text, str(path))  # validate before writing
    paths.atomic_write(path, new_text)
    return changed, config
