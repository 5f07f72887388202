"""Read-side queries over the audit log: sessions, a session's events, filters.

Every list is paged with indexed keyset queries (``WHERE key < last ORDER BY
key DESC LIMIT n``), never by loading the log: the TUI must paint its first
screen of a 1,000,000-event log in under a second, and Textual's DataTable
costs ~0.13 ms per row (measured with Textual 8.2; bench/audit_tui.py times
the first paint), so a screen holds a page of a few hundred rows.  The
sessions list reads the ``sessions`` summary the writer keeps; a session's
events use the ``(session, seq)`` index.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields
from typing import Any

from pretense_dev.audit.events import BLOCKED, ERROR, FORWARDED

PAGE = 200

# Session "decision" filters: a session matches if it has at least one such event.
SESSION_DECISIONS = {
    FORWARDED: "forwarded > 0",
    BLOCKED: "blocked > 0",
    ERROR: "errors > 0",
    "unprotected": "unprotected > 0",
    "secret": "secrets > 0",
    "drift": "drift > 0",
}


@dataclass(frozen=True)
class Filter:
    """What the sessions list (and the exports) are narrowed to; empty means all."""

    repo: str = ""  # repo id, or a path (exact) or path prefix
    tool: str = ""
    decision: str = ""  # a key of SESSION_DECISIONS
    since: float | None = None  # Unix time: last activity at or after
    until: float | None = None
    search: str = ""  # session id prefix, or part of repo path, model, user or machine


@dataclass(frozen=True)
class SessionRow:
    """One row of the ``sessions`` summary."""

    session: str  # the key (session id, or a per-day group for events without one)
    session_id: str
    first_time: float
    last_time: float
    first_seq: int
    last_seq: int
    tool: str
    user: str
    machine: str
    repo_id: str
    repo_path: str
    vendor: str
    model: str
    events: int
    requests: int
    prompts: int
    forwarded: int
    blocked: int
    errors: int
    unprotected: int
    secrets: int
    drift: int
    names: int  # most identifiers protected in one request (the conversation only grows)
    context_max: int

    @property
    def status(self) -> str:
        """The worst thing that happened in the session."""
        if self.unprotected:
            return "UNPROTECTED"
        if self.secrets:
            return "secret"
        if self.drift:
            return "drift"
        if self.blocked:
            return "blocked"
        if self.errors:
            return "error"
        return "ok"

    @property
    def label(self) -> str:
        """The session id, or a readable name for a group of events without one."""
        if self.session_id:
            return self.session_id
        return f"(no session id) {self.session.rsplit(':', 1)[-1]}"


_SESSION_COLS = ", ".join(f.name for f in fields(SessionRow))


@dataclass(frozen=True)
class EventRow:
    """One event as a list shows it (no identifier names, no reasons: see `detail`)."""

    seq: int
    time: float
    event: str
    decision: str
    tool: str
    vendor: str
    model: str
    endpoint: str
    mutation_active: bool
    identifiers_protected: int
    secrets_count: int
    context_bytes: int
    request_bytes: int
    latency_ms: float
    upstream_status: int
    reason: str


_EVENT_COLS = (
    "seq, time, event, decision, tool, vendor, model, endpoint, mutation_active, "
    "identifiers_protected, secrets_count, context_bytes, "
    "json_extract(data, '$.request_bytes'), json_extract(data, '$.latency_ms'), "
    "json_extract(data, '$.upstream_status'), json_extract(data, '$.reason')"
)


def _event_row(r: Any) -> EventRow:
    return EventRow(
        r[0],
        r[1],
        r[2],
        r[3],
        r[4],
        r[5],
        r[6],
        r[7],
        bool(r[8]),
        r[9] or 0,
        r[10] or 0,
        r[11] or 0,
        r[12] or 0,
        float(r[13] or 0.0),
        r[14] or 0,
        r[15] or "",
    )


def _session_where(flt: Filter) -> tuple[list[str], list[object]]:
    where: list[str] = []
    params: list[object] = []
    if flt.repo:
        where.append("(repo_id = ? OR repo_path = ? OR repo_path LIKE ? ESCAPE '\\')")
        params += [flt.repo, flt.repo.rstrip("/"), _like_prefix(flt.repo.rstrip("/") + "/")]
    if flt.tool:
        where.append("tool = ?")
        params.append(flt.tool)
    if flt.decision:
        cond = SESSION_DECISIONS.get(flt.decision)
        if cond is None:
            raise ValueError(f"unknown decision filter {flt.decision!r}")
        where.append(cond)
    if flt.since is not None:
        where.append("last_time >= ?")
        params.append(flt.since)
    if flt.until is not None:
        where.append("first_time < ?")
        params.append(flt.until)
    if flt.search:
        like = "%" + _like_escape(flt.search) + "%"
        where.append(
            "(session LIKE ? ESCAPE '\\' OR repo_path LIKE ? ESCAPE '\\' OR model LIKE ? "
            "ESCAPE '\\' OR user LIKE ? ESCAPE '\\' OR machine LIKE ? ESCAPE '\\' "
            "OR tool LIKE ? ESCAPE '\\')"
        )
        params += [_like_prefix(flt.search)] + [like] * 5
    return where, params


def sessions(
    conn: sqlite3.Connection,
    flt: Filter = Filter(),
    *,
    limit: int = PAGE,
    before: tuple[float, str] | None = None,
) -> list[SessionRow]:
    """Sessions, most recently active first; `before` is the last row of the previous page."""
    where, params = _session_where(flt)
    if before is not None:
        where.append("(last_time, session) < (?, ?)")
        params += [before[0], before[1]]
    sql = f"SELECT {_SESSION_COLS} FROM sessions"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY last_time DESC, session DESC LIMIT ?"
    return [SessionRow(*r) for r in conn.execute(sql, [*params, limit])]


def session_count(conn: sqlite3.Connection, flt: Filter = Filter()) -> int:
    """How many sessions match."""
    where, params = _session_where(flt)
    sql = "SELECT count(*) FROM sessions"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return int(conn.execute(sql, params).fetchone()[0])


def find_session(conn: sqlite3.Connection, key: str) -> SessionRow | None:
    """A session by its key, or by a unique prefix of its id (like a short git hash).

    Raises ValueError if the prefix is ambiguous.
    """
    row = conn.execute(f"SELECT {_SESSION_COLS} FROM sessions WHERE session = ?", (key,)).fetchone()
    if row is not None:
        return SessionRow(*row)
    rows = conn.execute(
        f"SELECT {_SESSION_COLS} FROM sessions WHERE session LIKE ? ESCAPE '\\' LIMIT 6",
        (_like_prefix(key),),
    ).fetchall()
    if len(rows) > 1:
        shown = ", ".join(r[0] for r in rows[:5])
        raise ValueError(f"session id {key!r} is ambiguous: {shown}…")
    return SessionRow(*rows[0]) if rows else None


def session_events(
    conn: sqlite3.Connection,
    session: str,
    *,
    limit: int = PAGE,
    after_seq: int = 0,
    decision: str = "",
    search: str = "",
) -> list[EventRow]:
    """A session's events in order, a page at a time (`after_seq`: last seq shown)."""
    sql = f"SELECT {_EVENT_COLS} FROM events WHERE session = ? AND seq > ?"
    params: list[object] = [session, after_seq]
    if decision == "unprotected":
        sql += " AND event = 'request' AND decision = 'forwarded' AND NOT mutation_active"
    elif decision == "secret":
        sql += " AND secrets_count > 0"
    elif decision:
        sql += " AND decision = ?"
        params.append(decision)
    if search:
        # Within one session: matches names protected, files, rules, reasons, models.
        sql += " AND data LIKE ? ESCAPE '\\'"
        params.append("%" + _like_escape(search) + "%")
    sql += " ORDER BY seq LIMIT ?"
    return [_event_row(r) for r in conn.execute(sql, [*params, limit])]


def filter_options(conn: sqlite3.Connection) -> tuple[list[tuple[str, str]], list[str]]:
    """(repo id, path) pairs and tools that occur, for the filter menus.

    DISTINCT over the covering indexes, then one indexed lookup per repository:
    ~1 ms on 130k sessions, where a GROUP BY over the table took ~80 ms.
    """
    ids = [r[0] for r in conn.execute("SELECT DISTINCT repo_id FROM sessions WHERE repo_id != ''")]
    repos = []
    for rid in ids:
        row = conn.execute(
            "SELECT repo_path FROM sessions WHERE repo_id = ? ORDER BY last_time DESC LIMIT 1",
            (rid,),
        ).fetchone()
        repos.append((rid, row[0] if row else ""))
    repos.sort(key=lambda r: (r[1], r[0]))
    tools = [
        r[0] for r in conn.execute("SELECT DISTINCT tool FROM sessions WHERE tool != '' ORDER BY 1")
    ]
    return repos, tools


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like_prefix(text: str) -> str:
    return _like_escape(text) + "%"
