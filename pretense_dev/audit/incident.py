"""The incident-response view of one session (``pretense-dev audit incident ID``).

What a security team pulls in the first hours after a suspected leak: who,
where, which tool and vendor, when; the files the agent read; how many and
which identifiers went out protected; secrets detected and what happened to
them; any request that went out unprotected; and whether the log rows behind
all this verify.  Identifier names appear here (they are the repository's own
information, and the team needs them to judge exposure); secret values never
exist in the log, only rule and fingerprint.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pretense_dev.audit.queries import find_session
from pretense_dev.audit.store import AuditStore
from pretense_dev.audit.timespec import duration, iso
from pretense_dev.errors import PretenseError, UsageError


def build_incident(
    store: AuditStore, session: str, *, check_archives: bool = True
) -> dict[str, Any]:
    """The incident document for one session (key or unique id prefix)."""
    try:
        row = find_session(store.conn, session)
    except ValueError as exc:
        raise UsageError(str(exc), "give more characters of the session id") from None
    if row is None:
        raise PretenseError(
            f"no session {session!r} in {store.path}",
            "list sessions with `pretense-dev audit` or `pretense-dev audit export`",
        )
    key = row.session
    timeline: list[dict[str, Any]] = []
    files: Counter[str] = Counter()
    protected: Counter[str] = Counter()
    secrets: list[dict[str, Any]] = []
    unprotected: list[dict[str, Any]] = []
    tools, users, machines, repos, vendors, models = (set[str]() for _ in range(6))
    first = last = None
    for stored in store.events("session = ?", (key,)):
        e = stored.event
        first = first if first is not None else stored
        last = stored
        for s, v in (
            (tools, e.tool),
            (users, e.user),
            (machines, e.machine),
            (repos, e.repo_path or e.repo_id),
            (vendors, e.vendor),
            (models, e.model),
        ):
            if v:
                s.add(v)
        files.update(e.files)
        forwarded = e.event == "request" and e.decision == "forwarded"
        if forwarded and e.mutation_active:
            protected.update(e.identifiers)
        if forwarded and not e.mutation_active:
            unprotected.append(
                {
                    "seq": stored.seq,
                    "time": iso(e.time),
                    "vendor": e.vendor,
                    "model": e.model,
                    "endpoint": e.endpoint,
                    "request_bytes": e.request_bytes,
                    "reason": e.reason,
                }
            )
        for ref in e.secrets:
            secrets.append(
                {
                    "seq": stored.seq,
                    "time": iso(e.time),
                    "event": e.event,
                    "rule": ref.rule,
                    "fingerprint": ref.fingerprint,
                    "where": ref.where,
                    "decision": e.decision,
                    "went_out": e.decision in ("forwarded", "allowed"),
                }
            )
        timeline.append(
            {
                "seq": stored.seq,
                "time": iso(e.time),
                "event": e.event,
                "decision": e.decision,
                "vendor": e.vendor,
                "model": e.model,
                "endpoint": e.endpoint,
                "mutation_active": e.mutation_active,
                "identifiers_protected": e.identifiers_protected,
                "secrets": len(e.secrets),
                "files": len(e.files),
                "request_bytes": e.request_bytes,
                "context_bytes": e.context_bytes,
                "upstream_status": e.upstream_status,
                "latency_ms": e.latency_ms,
                "reason": e.reason,
                "hash": stored.hash,
            }
        )
    assert first is not None and last is not None
    result = store.verify(check_archives=check_archives)
    in_session = [str(p) for p in result.problems if row.first_seq <= p.seq <= row.last_seq]
    return {
        "schema": "pretense-dev/incident/v1",
        "session": key,
        "session_id": row.session_id or None,
        "tools": sorted(tools),
        "users": sorted(users),
        "machines": sorted(machines),
        "repositories": sorted(repos),
        "vendors": sorted(vendors),
        "models": sorted(models),
        "start": iso(first.event.time),
        "end": iso(last.event.time),
        "duration_seconds": round(last.event.time - first.event.time, 3),
        "counts": {
            "events": len(timeline),
            "requests": sum(1 for t in timeline if t["event"] == "request"),
            "forwarded_protected": sum(
                1
                for t in timeline
                if t["event"] == "request" and t["decision"] == "forwarded" and t["mutation_active"]
            ),
            "forwarded_unprotected": len(unprotected),
            "blocked": sum(1 for t in timeline if t["decision"] == "blocked"),
            "secrets_detected": len(secrets),
            "secrets_blocked": sum(1 for s in secrets if s["decision"] == "blocked"),
            "secrets_went_out": sum(1 for s in secrets if s["went_out"]),
            "files_read": len(files),
            "identifiers_protected": len(protected),
        },
        "files_read": [{"path": p, "times": n} for p, n in sorted(files.items())],
        "identifiers_protected": [{"name": n, "requests": c} for n, c in sorted(protected.items())],
        "secrets": secrets,
        "unprotected_requests": unprotected,
        "timeline": timeline,
        "chain": {
            "verified": result.ok,
            "problems_in_session": in_session,
            "problems_total": len(result.problems),
            "first": {"seq": first.seq, "hash": first.hash},
            "last": {"seq": last.seq, "hash": last.hash},
            "head": None
            if result.head is None
            else {"seq": result.head.seq, "hash": result.head.hash},
        },
    }


def render_text(doc: dict[str, Any]) -> str:
    """The incident as text for a terminal or a ticket."""
    c = doc["counts"]
    out: list[str] = []
    add = out.append
    add(f"session      {doc['session_id'] or doc['session']}")
    add(f"when         {doc['start']} → {doc['end']} ({duration(doc['duration_seconds'])})")
    add(f"who          {', '.join(doc['users']) or '?'} on {', '.join(doc['machines']) or '?'}")
    add(f"tool         {', '.join(doc['tools']) or '?'}")
    add(f"repository   {', '.join(doc['repositories']) or '?'}")
    add(f"vendor       {', '.join(doc['vendors']) or '-'}  model {', '.join(doc['models']) or '-'}")
    add(
        f"requests     {c['requests']} ({c['forwarded_protected']} protected, "
        f"{c['forwarded_unprotected']} UNPROTECTED, {c['blocked']} blocked)"
    )
    ch = doc["chain"]
    if ch["verified"]:
        add(f"log          intact; rows {ch['first']['seq']}–{ch['last']['seq']}")
    else:
        n_in = len(ch["problems_in_session"])
        add(f"log          BROKEN: {ch['problems_total']} problem(s), {n_in} in this session")
        for p in ch["problems_in_session"]:
            add(f"               {p}")
    add("")
    add(f"UNPROTECTED REQUESTS ({len(doc['unprotected_requests'])})")
    for u in doc["unprotected_requests"]:
        add(
            f"  row {u['seq']}  {u['time']}  {u['vendor']} {u['model']} {u['endpoint']}  "
            f"{u['request_bytes']} bytes"
        )
        if u["reason"]:
            add(f"      {u['reason']}")
    if not doc["unprotected_requests"]:
        add("  none")
    add("")
    add(
        f"SECRETS ({c['secrets_detected']} detected, {c['secrets_blocked']} blocked, "
        f"{c['secrets_went_out']} went out)"
    )
    for s in doc["secrets"]:
        fate = "WENT OUT" if s["went_out"] else s["decision"] or "seen"
        where = f" at {s['where']}" if s["where"] else ""
        add(
            f"  row {s['seq']}  {s['time']}  {s['rule']} {s['fingerprint']}{where}  "
            f"[{s['event']}: {fate}]"
        )
    if not doc["secrets"]:
        add("  none")
    add("")
    add(f"FILES THE AGENT READ ({c['files_read']})")
    for f in doc["files_read"]:
        add(f"  {f['path']}" + (f"  ×{f['times']}" if f["times"] > 1 else ""))
    if not doc["files_read"]:
        add("  none recorded")
    add("")
    add(f"IDENTIFIERS THAT WENT OUT PROTECTED ({c['identifiers_protected']})")
    names = [i["name"] for i in doc["identifiers_protected"]]
    line = " "
    for n in names:
        if len(line) + len(n) + 1 > 100:
            add(line)
            line = " "
        line += " " + n
    if names:
        add(line)
    else:
        add("  none")
    add("")
    add(f"TIMELINE ({c['events']} events)")
    for t in doc["timeline"]:
        what = t["event"] if t["event"] != "request" else f"request {t['endpoint']}".rstrip()
        bits = [t["decision"] or "-"]
        if t["event"] == "request":
            bits.append("protected" if t["mutation_active"] else "UNPROTECTED")
            bits.append(f"{t['identifiers_protected']} names")
        if t["secrets"]:
            bits.append(f"{t['secrets']} secret(s)")
        add(f"  row {t['seq']:<8} {t['time']}  {what:<28} {', '.join(bits)}")
        if t["reason"]:
            add(f"  {'':<8}   {t['reason']}")
    return "\n".join(out) + "\n"
