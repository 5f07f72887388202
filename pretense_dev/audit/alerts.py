"""Alerts: what a security team wants to look at (docs/architecture.md, the audit chain).

Alerts are derived from the log when read, never stored, so they cannot
disagree with the verified chain and a changed threshold applies to the past.

* ``unprotected`` (critical): a request the proxy forwarded without mutation.
* ``secret``: an event that carried a secret (rule + fingerprint) — critical
  if it went out (forwarded/allowed), high if it was blocked.
* ``drift`` (high): a tool's config no longer points at the proxy.
* ``large_context`` (medium): a session's first request whose whole
  conversation is at least ``large_context_bytes``.

"Unusually large" is a byte threshold on one request's whole conversation
(`AuditEvent.context_bytes`), per repository: ``[audit] large_context_bytes``
in that repository's ``.pretense/config.toml`` (default 1,000,000 bytes, about
250k tokens — more than a standard context window holds).  A fixed threshold,
not a statistic, so that an auditor can restate the rule and a developer can
predict it.  One alert per session: the request that first crossed it.

Each kind is one indexed query (partial indexes on secrets, unprotected
requests, drift and requests of at least 1,000,000 bytes), so listing alerts
stays fast on a large log; a large-context threshold below that reads the table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field

from pretense_dev.audit.queries import _like_prefix
from pretense_dev.audit.store import LARGE_CONTEXT_INDEXED

UNPROTECTED = "unprotected"
SECRET = "secret"
DRIFT = "drift"
LARGE_CONTEXT = "large_context"
KINDS = (UNPROTECTED, SECRET, DRIFT, LARGE_CONTEXT)
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2}

DEFAULT_LARGE_CONTEXT = 1_000_000


@dataclass(frozen=True)
class Thresholds:
    """`large_context_bytes` by repo id, with a default for the rest."""

    default: int = DEFAULT_LARGE_CONTEXT
    per_repo: dict[str, int] = field(default_factory=dict)

    def for_repo(self, repo_id: str) -> int:
        """The threshold that applies to `repo_id`."""
        return self.per_repo.get(repo_id, self.default)


@dataclass(frozen=True)
class Alert:
    """One alert, pointing at the event that raised it."""

    kind: str
    severity: str
    seq: int
    time: float
    session: str
    repo_id: str
    repo_path: str
    tool: str
    title: str

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "seq": self.seq,
            "time": self.time,
            "session": self.session,
            "repo_id": self.repo_id,
            "repo_path": self.repo_path,
            "tool": self.tool,
            "title": self.title,
        }


_COLS = "seq, time, session, repo_id, repo_path, tool"


def alerts(
    conn: sqlite3.Connection,
    thresholds: Thresholds | None = None,
    *,
    since: float | None = None,
    repo: str = "",
    kinds: Iterable[str] = KINDS,
    limit: int = 500,
    before_seq: int | None = None,
) -> list[Alert]:
    """Alerts, newest first (`before_seq`: the last seq of the previous page)."""
    kinds = set(kinds)
    thresholds = thresholds or Thresholds()
    cond = ["1"]
    params: list[object] = []
    if since is not None:
        cond.append("time >= ?")
        params.append(since)
    if repo:
        cond.append("(repo_id = ? OR repo_path = ? OR repo_path LIKE ? ESCAPE '\\')")
        params += [repo, repo.rstrip("/"), _like_prefix(repo.rstrip("/") + "/")]
    if before_seq is not None:
        cond.append("seq < ?")
        params.append(before_seq)
    where = " AND ".join(cond)
    out: list[Alert] = []

    def run(extra: str, select: str, args: list[object] | None = None) -> list[tuple[object, ...]]:
        sql = f"SELECT {_COLS}, {select} FROM events WHERE {extra} AND {where} "
        sql += "ORDER BY seq DESC LIMIT ?"
        return conn.execute(sql, [*(args or []), *params, limit]).fetchall()

    if UNPROTECTED in kinds:
        for r in run(
            "event = 'request' AND decision = 'forwarded' AND NOT mutation_active",
            "endpoint, model",
        ):
            out.append(
                _alert(
                    UNPROTECTED,
                    "critical",
                    r,
                    f"request went out unprotected: {r[6] or '?'} {r[7] or ''}".rstrip(),
                )
            )
    if SECRET in kinds:
        for r in run(
            "secrets_count > 0",
            "event, decision, (SELECT group_concat(rule, ', ') FROM (SELECT DISTINCT "
            "json_extract(value, '$.rule') AS rule FROM json_each(data, '$.secrets')))",
        ):
            went_out = r[7] in ("forwarded", "allowed")
            what = "went out" if went_out else str(r[7] or "seen")
            title = f"secret in {_where(str(r[6]))} ({r[8]}): {what}"
            out.append(_alert(SECRET, "critical" if went_out else "high", r, title))
    if DRIFT in kinds:
        for r in run("event = 'drift_detected'", "json_extract(data, '$.reason')"):
            out.append(_alert(DRIFT, "high", r, f"{r[5] or 'a tool'} config drifted: {r[6]}"))
    if LARGE_CONTEXT in kinds:
        out += _large_context(conn, thresholds, where, params, limit)
    out.sort(key=lambda a: a.seq, reverse=True)
    return out[:limit]


def _large_context(
    conn: sqlite3.Connection,
    thresholds: Thresholds,
    where: str,
    params: list[object],
    limit: int,
) -> list[Alert]:
    out: list[Alert] = []
    groups: dict[int, list[str]] = {}
    for repo_id, t in thresholds.per_repo.items():
        groups.setdefault(t, []).append(repo_id)
    special = list(thresholds.per_repo)
    plan: list[tuple[int, str, list[object]]] = []
    for t, repos in groups.items():
        marks = ",".join("?" * len(repos))
        plan.append((t, f"repo_id IN ({marks})", list(repos)))
    marks = ",".join("?" * len(special))
    plan.append(
        (thresholds.default, f"repo_id NOT IN ({marks})" if special else "1", list(special))
    )
    for t, repo_cond, repo_params in plan:
        # The first crossing per session: min(seq) within the session's large requests.
        # The literal term lets SQLite use the partial index (`store.m002_lean_appends`)
        # when the threshold is at or above what it holds; a lower one reads the table.
        # ``+session``: grouping by the bare column makes SQLite walk the whole
        # (session, seq) index instead (2 s on 1,000,000 rows, 0.1 s this way).
        indexed = (
            f" AND context_bytes >= {LARGE_CONTEXT_INDEXED}" if t >= LARGE_CONTEXT_INDEXED else ""
        )
        sql = (
            f"SELECT {_COLS}, context_bytes FROM events WHERE seq IN ("
            f"SELECT min(seq) FROM events WHERE context_bytes >= ?{indexed} AND {repo_cond} "
            "GROUP BY +session) "
            f"AND {where} ORDER BY seq DESC LIMIT ?"
        )
        for r in conn.execute(sql, [t, *repo_params, *params, limit]):
            title = f"unusually large context: {r[6]:,} bytes in one request (threshold {t:,})"
            out.append(_alert(LARGE_CONTEXT, "medium", r, title))
    return out


def _alert(kind: str, severity: str, r: tuple[object, ...], title: str) -> Alert:
    return Alert(
        kind,
        severity,
        int(r[0]),  # type: ignore[call-overload]
        float(r[1]),  # type: ignore[arg-type]
        str(r[2]),
        str(r[3] or ""),
        str(r[4] or ""),
        str(r[5] or ""),
        title,
    )


def _where(event: str) -> str:
    return {
        "request": "a request",
        "prompt_blocked": "a prompt",
        "prompt_submitted": "a prompt",
        "file_read_blocked": "a file the agent tried to read",
    }.get(event, event)


def resolve_thresholds(conn: sqlite3.Connection, override: int | None = None) -> Thresholds:
    """Thresholds from each logged repository's config (via the registry).

    `override` (the ``--large-context-bytes`` option) applies to every repo.
    A repo that is no longer registered, or whose config cannot be read, gets
    the default: an alert threshold must not make `alerts` fail.
    """
    if override is not None:
        return Thresholds(override, {})
    from pretense_dev import registry
    from pretense_dev.config import load_config
    from pretense_dev.errors import PretenseError

    per_repo: dict[str, int] = {}
    try:
        known = registry.load()
    except PretenseError:
        known = {}
    ids = [r[0] for r in conn.execute("SELECT DISTINCT repo_id FROM sessions WHERE repo_id != ''")]
    for rid in ids:
        reg = known.get(rid)
        if reg is None:
            continue
        try:
            cfg = load_config(reg.path / ".pretense" / "config.toml")
        except PretenseError:
            continue
        if cfg.audit.large_context_bytes != DEFAULT_LARGE_CONTEXT:
            per_repo[rid] = cfg.audit.large_context_bytes
    return Thresholds(DEFAULT_LARGE_CONTEXT, per_repo)
