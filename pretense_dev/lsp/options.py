"""Typed initialization options, with defaults and one message per problem.

Editors pass `initializationOptions` as free-form JSON.  Every option here is
an editor nicety — how soon diagnostics refresh, whether hovers and messages
show, how loud a finding is.  None of them can switch off what protects code:
buffer names are always recorded into the map, secrets are always scanned,
the on-save re-index always runs.  So an invalid value is replaced by its
default and reported (`window/showMessage`), never fatal; and no value can
lower a finding below a warning.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class InitOptions:
    """What `initializationOptions` may set (camelCase on the wire)."""

    # Scans of one document start at most this often (ms); the latest text is
    # always scanned, and a change after a quiet spell is scanned at once.
    debounce_ms: int = field(default=150, metadata={"wire": "debounceMs", "range": (0, 5000)})
    # How a secret finding is shown; "error" or "warning", never less.
    severity: str = field(default="error", metadata={"wire": "severity", "choices": SEVERITIES})
    # Hover: protected or not, the synthetic name, where defined.
    hover: bool = field(default=True, metadata={"wire": "hover"})
    # Code actions: allow a finding, add a name to `never` / `always`.
    code_actions: bool = field(default=True, metadata={"wire": "codeActions"})
    # `window/showMessage` when the proxy's state changes (the status
    # notification is always sent; the status bar shows it).
    status_messages: bool = field(default=True, metadata={"wire": "statusMessages"})
    # How often the proxy's state is checked (s), besides on start and save.
    status_poll_seconds: int = field(
        default=30, metadata={"wire": "statusPollSeconds", "range": (5, 3600)}
    )


def parse_options(raw: Any) -> tuple[InitOptions, list[str]]:
    """Options from the client's JSON; every problem is a message, the value its default.

    Accepts the options at the top level or under a `pretense` key (VS Code
    extensions commonly nest them).
    """
    problems: list[str] = []
    if raw is None:
        return InitOptions(), problems
    if isinstance(raw, dict) and isinstance(raw.get("pretense"), dict) and len(raw) == 1:
        raw = raw["pretense"]
    if not isinstance(raw, dict):
        problems.append(
            f"initializationOptions must be an object, got {_describe(raw)}; using defaults"
        )
        return InitOptions(), problems
    fields = {f.metadata["wire"]: f for f in dataclasses.fields(InitOptions)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        f = fields.get(key)
        if f is None:
            problems.append(f"unknown option '{key}' ignored (known: {', '.join(sorted(fields))})")
            continue
        problem = _check(f, value)
        if problem is None:
            values[f.name] = value
        else:
            problems.append(f"option '{key}': {problem}; using the default ({_wire(f.default)})")
    return InitOptions(**values), problems


def _check(f: dataclasses.Field[Any], value: Any) -> str | None:
    if f.type in (bool, "bool"):
        return None if isinstance(value, bool) else f"must be true or false, got {_describe(value)}"
    if f.type in (int, "int"):
        if not isinstance(value, int) or isinstance(value, bool):
            return f"must be an integer, got {_describe(value)}"
        lo, hi = f.metadata["range"]
        return None if lo <= value <= hi else f"must be between {lo} and {hi}, got {value}"
    choices = f.metadata["choices"]
    if value not in choices:
        return f"must be one of {', '.join(repr(c) for c in choices)}, got {_describe(value)}"
    return None


def _wire(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


def _describe(value: Any) -> str:
    if isinstance(value, bool | int | float | str) or value is None:
        return "null" if value is None else _wire(value)
    return "an object" if isinstance(value, dict) else "a list"
