"""`.pretense/config.toml`: the team's policy, strictly validated.

The file is safe to commit and travels with the repository.  Validation is
strict because a typo in a security policy must not silently weaken it: an
unknown key or a bad value is reported as ``file:line: key: problem``, every
problem at once, and the command exits 2 (bad usage or config).

Each section is a frozen dataclass; a field's ``metadata["check"]`` validates
its value beyond its type.  Reading uses tomllib (fast, strict); the writers in
`integrations/` use tomlkit, which keeps comments.  Add a section by adding a
dataclass and a field on `Config` — nothing else needs to change.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pretense_dev.errors import ConfigError

CURRENT_VERSION = 1
_TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Validator = Callable[[Any], str | None]


def _at_least(n: int) -> Validator:
    def check(v: Any) -> str | None:
        return None if v >= n else f"must be at least {n}, got {v}"

    return check


def _always_entries(v: Any) -> str | None:
    for item in v:
        if not re.search(r"[A-Za-z0-9_]{3,}", item):
            return f"{item!r} has no part of 3 or more letters, digits or underscores to protect"
    return None


def _tokens(v: Any) -> str | None:
    for item in v:
        if not _TOKEN.match(item):
            return f"{item!r} is not an identifier"
    return None


@dataclass(frozen=True)
class IdentifiersConfig:
    """Which names are protected."""

    # Names shorter than this are never mapped (too common to reveal anything).
    min_length: int = field(default=4, metadata={"check": _at_least(1)})
    # Never mapped, whatever defines them.
    never: tuple[str, ...] = field(default=(), metadata={"check": _tokens})
    # Always mapped: code names, customer names, internal hosts.  A host such as
    # "billing.acme-internal.net" protects each distinctive part of it.
    always: tuple[str, ...] = field(default=(), metadata={"check": _always_entries})


@dataclass(frozen=True)
class IndexConfig:
    """Which files are read.  `.gitignore` is always respected."""

    # Extra gitignore-style patterns to skip (vendored or generated trees).
    exclude: tuple[str, ...] = ()
    # Files larger than this are skipped (bytes).
    max_file_bytes: int = field(default=1_000_000, metadata={"check": _at_least(1)})
    # Skip the usual vendored/generated trees (node_modules/, vendor/, *.min.js …).
    skip_vendored: bool = True


def _regexes(v: Any) -> str | None:
    for item in v:
        try:
            re.compile(item)
        except re.error as e:
            return f"{item!r} is not a valid regular expression: {e}"
    return None


def _rule_ids(v: Any) -> str | None:
    if not v:
        return None
    from pretense_dev.secrets.rules import rule_ids  # deferred: reads rules.toml

    known = rule_ids()
    for item in v:
        if item not in known:
            close = difflib.get_close_matches(item, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            return f"{item!r} is not a rule id{hint}; `pretense-dev scan --list-rules` lists them"
    return None


def _repo_relative(v: Any) -> str | None:
    p = Path(v)
    if not v or p.is_absolute() or ".." in p.parts:
        return f"{v!r} must be a path inside the repository, relative to its root"
    return None


# Approved unless the policy says otherwise: the public APIs the tools use out of the box.
VENDORS = ("anthropic", "openai")
# Every vendor the proxy can route to.  The cloud routes are opt-in: a team approves the
# cloud (and so its contract and data residency) by naming it in [proxy] vendors.
KNOWN_VENDORS = (*VENDORS, "bedrock", "vertex", "azure-openai", "gemini")


def _vendors(v: Any) -> str | None:
    for item in v:
        if item not in KNOWN_VENDORS:
            known = ", ".join(KNOWN_VENDORS)
            return f"{item!r} is not a vendor the proxy knows (known: {known})"
    return None


def _model_patterns(v: Any) -> str | None:
    for item in v:
        if not item.strip():
            return "an empty model pattern would approve nothing; remove it"
    return None


@dataclass(frozen=True)
class SecretsConfig:
    """What the secret scanner reports (rules live in the shipped rules.toml)."""

    # gitignore-style patterns of files never scanned (fixtures of a security tool…).
    allow_paths: tuple[str, ...] = ()
    # Regexes; a secret value matching one is not reported.
    allow_regexes: tuple[str, ...] = field(default=(), metadata={"check": _regexes})
    # Accepted findings (fingerprints only), relative to the repository root.
    baseline: str = field(default=".pretense/baseline.json", metadata={"check": _repo_relative})
    # Rule ids that never report.
    disabled_rules: tuple[str, ...] = field(default=(), metadata={"check": _rule_ids})


@dataclass(frozen=True)
class AuditConfig:
    """Alert thresholds for this repository's audit events (`pretense-dev audit alerts`)."""

    # A session is "unusually large" once one request carries a conversation of
    # at least this many bytes: about 250k tokens of code, more than a standard
    # 200k-token context window holds, i.e. a session that has pulled in a large
    # share of the codebase.  Lower it for a small, sensitive repository.
    large_context_bytes: int = field(default=1_000_000, metadata={"check": _at_least(1)})


# The AI tools pretense-dev can set up (pretense_dev/integrations/).
TOOL_NAMES = ("claude-code", "cursor", "copilot", "codex", "aider", "gemini-cli")


def _known_tools(v: Any) -> str | None:
    for item in v:
        if item not in TOOL_NAMES:
            return f"{item!r} is not a tool pretense-dev knows (known: {', '.join(TOOL_NAMES)})"
    return None


def _model_names(v: Any) -> str | None:
    for item in v:
        if not item.strip() or any(c.isspace() for c in item):
            return f"{item!r} is not a model name"
    return None


@dataclass(frozen=True)
class ToolsConfig:
    """Which AI tools this repository is set up for, and which may be used on it at all."""

    # Set up by `pretense-dev init` (it adds each tool it configures here, so a
    # teammate's `init` sets up the same ones); `verify` checks each still points
    # at the proxy.
    configured: tuple[str, ...] = field(default=(), metadata={"check": _known_tools})
    # Tools that may be used on this repository; a hook refuses the others.
    # Cursor's prompts cannot go through the proxy: they are checked for secrets
    # and sent unmutated.  Remove "cursor" to refuse every Cursor prompt.
    approved: tuple[str, ...] = field(default=TOOL_NAMES, metadata={"check": _known_tools})
    # Models offered in VS Code chat through the proxy (Copilot bring-your-own-key,
    # OpenAI Chat Completions).
    copilot_models: tuple[str, ...] = field(default=("gpt-4.1",), metadata={"check": _model_names})


READ_TIMEOUT_RANGE = (1.0, 86400.0)  # seconds: a second to a day


def _read_timeout(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return f"must be a number, got {_describe(v)}"  # TOML has no null: never None here
    low, high = READ_TIMEOUT_RANGE
    if low <= v <= high:
        return None
    return f"must be between {low:g} and {high:g} seconds, got {v}"


@dataclass(frozen=True)
class ProxyConfig:
    """Which vendors and models this repository's code may be sent to (the team's approval)."""

    # Vendors the proxy may forward this repository's requests to.
    vendors: tuple[str, ...] = field(default=VENDORS, metadata={"check": _vendors})
    # Approved models as shell-style patterns ("claude-sonnet-*"); empty approves every
    # model of an approved vendor.
    models: tuple[str, ...] = field(default=(), metadata={"check": _model_patterns})
    # Seconds without a byte from the upstream before the proxy gives this repository's
    # answer up (the client gets the API's error, or its error event mid-stream).
    # Unset: the proxy's own (`pretense-dev proxy start --read-timeout`, 900 s).
    read_timeout: float | None = field(default=None, metadata={"check": _read_timeout})


@dataclass(frozen=True)
class Config:
    """The whole policy file."""

    version: int = CURRENT_VERSION
    identifiers: IdentifiersConfig = IdentifiersConfig()
    index: IndexConfig = IndexConfig()
    secrets: SecretsConfig = SecretsConfig()
    audit: AuditConfig = AuditConfig()
    proxy: ProxyConfig = ProxyConfig()
    tools: ToolsConfig = ToolsConfig()


DEFAULT_CONFIG_TEXT = """\
# pretense-dev team policy for this repository.  Safe to commit: it holds no key,
# no index and no secret.  Unknown keys are refused, so a typo cannot weaken it.
version = 1

[identifiers]
# Names shorter than this are not protected.
min_length = 4
# Never protect these names, even if this repository defines them.
never = []
# Always protect these: code names, customer names, internal hosts.
always = []

[index]
# Extra gitignore-style patterns to skip; .gitignore is always respected.
exclude = []
# Skip files larger than this many bytes.
max_file_bytes = 1000000
# Skip vendored and generated trees (node_modules/, vendor/, *.min.js, ...).
skip_vendored = true

[secrets]
# Files never scanned for secrets (gitignore-style patterns).
allow_paths = []
# A secret whose value matches one of these regexes is not reported.
allow_regexes = []
# Accepted findings, by fingerprint only (`pretense-dev scan --update-baseline`).
baseline = ".pretense/baseline.json"
# Rule ids that never report (`pretense-dev scan --list-rules`).
disabled_rules = []

[audit]
# Alert when one request of a session carries a conversation this large (bytes).
large_context_bytes = 1000000

[proxy]
# Vendors this repository's code may be sent to ("anthropic", "openai"; the cloud
# routes "bedrock", "vertex", "azure-openai" and "gemini" only when listed here).
vendors = ["anthropic", "openai"]
# Approved models, as shell-style patterns such as "claude-sonnet-*"; empty = any model
# of an approved vendor.  A request for another model is refused with this reason.
models = []

[tools]
# AI tools this repository is set up for ("claude-code", "cursor", "copilot", "codex",
# "aider", "gemini-cli").
# `pretense-dev init` adds what it configures; `pretense-dev verify` checks each.
configured = []
# Tools that may be used on this repository.  Cursor cannot be routed through the
# proxy: its prompts are checked for secrets but sent unmutated.  Remove "cursor"
# to refuse every Cursor prompt.
approved = ["claude-code", "cursor", "copilot", "codex", "aider", "gemini-cli"]
# Models offered in VS Code chat through the proxy (Copilot bring-your-own-key).
copilot_models = ["gpt-4.1"]
"""


def load_config(path: Path) -> Config:
    """Read and validate a config file; a missing file means the defaults."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    return parse_config(text, str(path))


def parse_config(text: str, filename: str) -> Config:
    """Validate TOML text against `Config`; raise ConfigError listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column \d+\)", str(e))
        line = m.group(1) if m else "1"
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        raise ConfigError(f"{filename}:{line}: invalid TOML: {msg}") from None
    problems: list[str] = []
    if "version" not in data:
        # A file without `version` (an empty one included) is not a policy this
        # tool wrote: accepting it would silently apply the defaults to a team
        # that believes its own file is in force.
        raise ConfigError(
            f"{filename}:1: version: missing "
            f"(this pretense-dev writes version = {CURRENT_VERSION})",
            f"add `version = {CURRENT_VERSION}` at the top, or delete the file for the defaults",
        )
    version = data["version"]
    if isinstance(version, int) and not isinstance(version, bool) and version > CURRENT_VERSION:
        raise ConfigError(
            f"{filename}:{_line_of(text, (), 'version')}: version: {version} was written by a "
            f"newer pretense-dev (this one reads up to {CURRENT_VERSION})",
            "upgrade pretense-dev",
        )
    cfg = _build(Config, data, (), text, filename, problems)
    if problems:
        raise ConfigError("\n".join(problems))
    assert isinstance(cfg, Config)
    return cfg


def _build(
    cls: type[Any],
    data: dict[str, Any],
    table: tuple[str, ...],
    text: str,
    filename: str,
    problems: list[str],
) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        dotted = ".".join((*table, key))
        line = _line_of(text, table, key)
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(f"{filename}:{line}: unknown key '{dotted}'{hint}")
            continue
        f = fields[key]
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            if not isinstance(value, dict):
                problems.append(f"{filename}:{line}: {dotted}: must be a table")
                continue
            values[key] = _build(
                typing.cast(type[Any], tp), value, (*table, key), text, filename, problems
            )
            continue
        problem = _type_problem(tp, value)
        if problem is None:
            check: Validator | None = f.metadata.get("check")
            if check is not None:
                problem = check(value)
        if problem is not None:
            problems.append(f"{filename}:{line}: {dotted}: {problem}")
            continue
        values[key] = tuple(value) if isinstance(value, list) else value
    return cls(**values)


def _type_problem(tp: Any, value: Any) -> str | None:
    origin = typing.get_origin(tp)
    if origin is tuple:
        (inner, _) = typing.get_args(tp)
        if not isinstance(value, list):
            return f"must be a list, got {_describe(value)}"
        for item in value:
            if _type_problem(inner, item) is not None:
                return f"every item must be {_name(inner)}, got {_describe(item)}"
        return None
    if origin in (types.UnionType, typing.Union):
        if any(_type_problem(a, value) is None for a in typing.get_args(tp)):
            return None
        return (
            f"must be {' or '.join(_name(a) for a in typing.get_args(tp))}, got {_describe(value)}"
        )
    if tp is int and (not isinstance(value, int) or isinstance(value, bool)):
        return f"must be an integer, got {_describe(value)}"
    if tp is float and (not isinstance(value, int | float) or isinstance(value, bool)):
        return f"must be a number, got {_describe(value)}"
    if tp is bool and not isinstance(value, bool):
        return f"must be true or false, got {_describe(value)}"
    if tp is str and not isinstance(value, str):
        return f"must be a string, got {_describe(value)}"
    return None


def _name(tp: Any) -> str:
    return {int: "an integer", str: "a string", bool: "true or false", float: "a number"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return str(value)


def _line_of(text: str, table: tuple[str, ...], key: str) -> int:
    """The 1-based line where `key` is set inside `[table]`, for error messages.

    A small scanner rather than a position-tracking parser: it understands
    `[a.b]` headers, `key = ...` and dotted `a.key = ...` at the top level,
    which covers how people write this file.  A key that is a table is found at
    its own header.  Falls back to the enclosing table's header.
    """
    current: tuple[str, ...] = ()
    header_line = 1
    key_re = re.compile(r"^\s*(?:\"?)([A-Za-z0-9_.\-\"]+?)(?:\"?)\s*=")
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("["):
            current = tuple(p.strip().strip('"') for p in line.strip("[] ").split("."))
            if current == table:
                header_line = n
            elif current[: len(table) + 1] == (*table, key):
                return n  # `key` is itself a table: `[key]`, `[key.sub]` or `[[key]]`
            continue
        m = key_re.match(raw)
        if not m:
            continue
        parts = tuple(p.strip('"') for p in m.group(1).split("."))
        if (*current, *parts) == (*table, key):
            return n
    return header_line
