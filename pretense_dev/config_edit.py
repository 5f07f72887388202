"""Edits to `.pretense/config.toml` that keep the team's comments and layout.

Reading the policy uses tomllib (`config.load_config`, strict); writing uses
tomlkit, which round-trips comments, key order and formatting (STYLE 13).
Every edit is validated with the same parser the rest of pretense-dev uses
*before* anything is written, and written with `paths.atomic_write`, so a
failed or refused edit leaves the file exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pretense_dev import paths
from pretense_dev.config import DEFAULT_CONFIG_TEXT, Config, parse_config
from pretense_dev.errors import ConfigError

# (table, key) pairs this module may append to: the identifier lists.
LIST_KEYS = {("identifiers", "never"), ("identifiers", "always")}


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
    import tomlkit  # deferred: only this edit needs the round-trip parser
    from tomlkit.items import Array, Table

    if (table, key) not in LIST_KEYS:
        raise ValueError(f"{table}.{key} is not an editable list")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
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
    if value in [str(v) for v in items]:
        return EditResult(False, current)
    items.append(value)
    new_text = tomlkit.dumps(doc)
    config = parse_config(new_text, str(path))  # validate before writing
    paths.atomic_write(path, new_text)
    return EditResult(True, config)
