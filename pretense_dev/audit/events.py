"""The audit event: one row of the user-level, hash-chained log (docs/architecture.md).

This is the contract between every writer (the proxy, the hooks, `verify`) and
the store, the queries, the exports and the TUI.  It holds no prompt text and no
secret value: secrets appear as (rule, fingerprint) only, and identifiers by
name, which is the local repository's own information (the log is 0600 and
stays on the machine unless exported).

Import cost matters: hooks build events on every prompt, so this module only
uses the standard library.
"""

from __future__ import annotations

import dataclasses
import functools
import getpass
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

# event types
REQUEST = "request"  # a model request through the proxy (forwarded, blocked or error)
SESSION_STARTED = "session_started"  # a hook saw a session start
PROMPT_SUBMITTED = "prompt_submitted"  # a hook let a prompt through (Cursor: not mutated)
PROMPT_BLOCKED = "prompt_blocked"  # a hook refused a prompt (secret, proxy down, drift…)
FILE_READ_BLOCKED = "file_read_blocked"  # a hook refused an agent's file read
DRIFT_DETECTED = "drift_detected"  # a tool's config no longer points at the proxy
PROXY_DOWN = "proxy_down"  # verify found no (or the wrong) proxy at session start
VERIFY = "verify"  # a verify run and its result
TOOL_USE = "tool_use"  # a hook let an agent's tool call through (`files`: what it reads)
EVENT_TYPES = (
    REQUEST,
    SESSION_STARTED,
    PROMPT_SUBMITTED,
    PROMPT_BLOCKED,
    FILE_READ_BLOCKED,
    DRIFT_DETECTED,
    PROXY_DOWN,
    VERIFY,
    TOOL_USE,
)

# decisions
FORWARDED = "forwarded"
BLOCKED = "blocked"
ERROR = "error"
ALLOWED = "allowed"  # a hook let something through
DECISIONS = (FORWARDED, BLOCKED, ERROR, ALLOWED)


@dataclass(frozen=True)
class SecretRef:
    """A detected secret as the log may hold it: never the value."""

    rule: str
    fingerprint: str
    where: str = ""  # e.g. "messages[3].content[0]" or "config/.env:4"


# Keys the store adds around an event's fields (audit/chain.py): an event field
# may never take one of these names.
RESERVED_KEYS = ("seq", "hash", "prev_hash")


@dataclass(frozen=True)
class AuditEvent:
    """One event.  Field names are the canonical-JSON keys: renaming one breaks old chains.

    A new field needs a default (old rows were hashed without it and are
    re-verified from their stored bytes, so adding one is safe) and must not
    be one of `RESERVED_KEYS`.
    """

    event: str  # one of EVENT_TYPES
    time: float = field(default_factory=time.time)  # Unix seconds
    session_id: str = ""  # Claude Code: X-Claude-Code-Session-Id / hook session_id
    tool: str = (
        ""  # "claude-code", "codex", "copilot", "gemini-cli", "litellm", "sdk", …; "" unknown
    )
    user: str = field(default_factory=lambda: _user())
    machine: str = field(default_factory=lambda: socket.gethostname())
    repo_id: str = ""
    repo_path: str = ""
    vendor: str = ""  # "anthropic", "openai"
    model: str = ""
    endpoint: str = ""  # e.g. "/v1/messages"
    mutation_active: bool = False
    identifiers_protected: int = 0  # distinct protected names in what was sent
    identifiers: tuple[str, ...] = ()  # which (real names; local information)
    secrets: tuple[SecretRef, ...] = ()
    decision: str = ""  # one of DECISIONS
    reason: str = ""  # one line, never a secret value
    request_bytes: int = 0
    response_bytes: int = 0
    context_bytes: int = 0  # size of the whole conversation sent (large-context alert)
    latency_ms: float = 0.0
    upstream_status: int = 0
    files: tuple[str, ...] = ()  # repo-relative paths the agent read (hooks), for incidents

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (tuples as lists, SecretRef as dicts), as stored and exported.

        Built field by field rather than with `dataclasses.asdict`, whose
        recursive deep copy cost ~45 µs of the store's ~200 µs append
        (bench/audit_append.py); every value is a str, number, bool, or a tuple
        of those or of SecretRef, so the result is the same.
        """
        d = {f.name: getattr(self, f.name) for f in _FIELDS}
        d["identifiers"] = list(self.identifiers)
        d["files"] = list(self.files)
        d["secrets"] = [{f.name: getattr(s, f.name) for f in _SECRET_FIELDS} for s in self.secrets]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AuditEvent:
        """The inverse of `to_dict` (unknown keys refused: they would not be hashed back)."""
        d = dict(d)
        d["identifiers"] = tuple(d.get("identifiers", ()))
        d["files"] = tuple(d.get("files", ()))
        d["secrets"] = tuple(SecretRef(**s) for s in d.get("secrets", ()))
        return cls(**d)


_FIELDS = dataclasses.fields(AuditEvent)
_SECRET_FIELDS = dataclasses.fields(SecretRef)


def canonical_json(data: dict[str, Any]) -> bytes:
    """The bytes that are hashed: sorted keys, compact separators, UTF-8.

    A contract: changing it invalidates every existing chain.
    """
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _user() -> str:
    return _user_once()


@functools.cache
def _user_once() -> str:
    # Once per process: without USER/LOGNAME (containers, services) getuser reads the
    # passwd database, which on the proxy's audit thread cost more than the append.
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return ""
