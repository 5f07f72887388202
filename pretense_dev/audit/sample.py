"""Simulated audit events: the demo, the tests' seeded logs and the benchmarks.

Deterministic for a given seed and start time, so snapshot tests render the
same screen every run.  Secrets appear only as rule + fingerprint, exactly as
real writers record them; nothing here is, or looks like, a secret value.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from pretense_dev.audit import events as ev
from pretense_dev.audit.events import AuditEvent, SecretRef

START = 1767225600.0  # 2026-01-01T00:00:00Z

NAMES = (
    "LedgerReconciler",
    "reconcile_ledger",
    "InvoiceSummaryCard",
    "DunningScheduler",
    "TaxJurisdictionResolver",
    "ProrationCalculator",
    "LedgerStore",
    "apply_credit_note",
    "settlement_window",
    "compute_dunning_steps",
    "resolve_jurisdiction",
    "InvoiceLine",
    "CreditNote",
    "BillingCycle",
    "usage_rollup",
    "MAX_RETRY_WINDOW",
)
FILES = (
    "billing/ledger_reconciler.py",
    "services/ledger/ledger_store.go",
    "web/src/components/InvoiceSummaryCard.tsx",
    "android/DunningScheduler.java",
    "dotnet/TaxJurisdictionResolver.cs",
    "ruby/lib/proration_calculator.rb",
    "payments/src/lib.rs",
)
REPOS = (
    ("9f2c61d0a4b7e3f5", "/home/dana/src/nimbus-billing"),
    ("3a8e0c7715d94b22", "/home/dana/src/nimbus-web"),
)
USER = "dana"
MACHINE = "dana-laptop"


def sample_events(
    sessions: int = 12,
    *,
    start: float = START,
    seed: int = 7,
    requests: tuple[int, int] = (3, 9),
) -> list[AuditEvent]:
    """A small, varied log: every alert kind and every event type occurs."""
    return list(iter_sample_events(sessions, start=start, seed=seed, requests=requests))


def iter_sample_events(
    sessions: int,
    *,
    start: float = START,
    seed: int = 7,
    requests: tuple[int, int] = (3, 9),
) -> Iterator[AuditEvent]:
    """Sessions one after another, 20 minutes apart; see `sample_events`."""
    rng = random.Random(seed)
    for i in range(sessions):
        t = start + i * 1200.0
        repo_id, repo_path = REPOS[i % len(REPOS)]
        kind = i % 8
        common: dict[str, Any] = {
            "user": USER,
            "machine": MACHINE,
            "repo_id": repo_id,
            "repo_path": repo_path,
        }
        if kind == 3:
            yield from _cursor_session(rng, i, t, common)
            continue
        tool = "copilot" if kind == 7 else "claude-code"
        session_id = "" if kind == 7 else f"{rng.getrandbits(128):032x}"
        session_id = (
            f"{session_id[:8]}-{session_id[8:12]}-{session_id[12:16]}-"
            f"{session_id[16:20]}-{session_id[20:]}"
            if session_id
            else ""
        )
        base: dict[str, Any] = dict(common, session_id=session_id, tool=tool)
        vendor, model = (
            ("openai", "gpt-5") if tool == "copilot" else ("anthropic", "claude-sonnet-4-5")
        )
        if tool == "claude-code":
            yield AuditEvent(ev.SESSION_STARTED, time=t, decision=ev.ALLOWED, **base)
        if kind == 5:
            yield AuditEvent(
                ev.DRIFT_DETECTED,
                time=t + 1,
                decision=ev.BLOCKED,
                reason="~/.claude/settings.json: ANTHROPIC_BASE_URL no longer points at the proxy",
                **base,
            )
        context = rng.randint(20_000, 60_000)
        n = rng.randint(*requests)
        for j in range(n):
            t += rng.uniform(20, 90)
            context += rng.randint(2_000, 40_000)
            if kind == 6 and j == n - 1:
                context = 1_400_000
            used = rng.sample(NAMES, rng.randint(3, min(len(NAMES), 4 + j)))
            decision, mutated, reason, status = ev.FORWARDED, True, "", 200
            secrets: tuple[SecretRef, ...] = ()
            if kind == 2 and j == 1:
                decision, status = ev.BLOCKED, 0
                secrets = (
                    SecretRef(
                        "github-pat", f"fp:{rng.getrandbits(64):016x}", "messages[4].content[0]"
                    ),
                )
                reason = "secret in the prompt (github-pat at messages[4].content[0])"
            if kind == 4 and j == 2:
                mutated = False
                used = []
                reason = "repository not initialised: forwarded without protection"
            yield AuditEvent(
                ev.REQUEST,
                time=t,
                vendor=vendor,
                model=model,
                endpoint="/v1/chat/completions" if vendor == "openai" else "/v1/messages",
                mutation_active=mutated,
                identifiers_protected=len(used),
                identifiers=tuple(sorted(used)),
                secrets=secrets,
                decision=decision,
                reason=reason,
                request_bytes=rng.randint(2_000, 30_000),
                response_bytes=rng.randint(500, 12_000) if decision == ev.FORWARDED else 0,
                context_bytes=context,
                latency_ms=round(rng.uniform(300, 4000), 1) if decision == ev.FORWARDED else 0.4,
                upstream_status=status,
                files=tuple(sorted(rng.sample(FILES, rng.randint(0, 2)))),
                **base,
            )


def _cursor_session(
    rng: random.Random, i: int, t: float, common: dict[str, Any]
) -> Iterator[AuditEvent]:
    sid = f"{rng.getrandbits(64):016x}"
    base: dict[str, Any] = dict(common, session_id=f"cursor-{sid}", tool="cursor")
    yield AuditEvent(ev.SESSION_STARTED, time=t, decision=ev.ALLOWED, **base)
    for _ in range(rng.randint(2, 5)):
        t += rng.uniform(20, 90)
        yield AuditEvent(
            ev.PROMPT_SUBMITTED,
            time=t,
            decision=ev.ALLOWED,
            reason="Cursor sends prompts from its servers: secret-scanned, not mutated",
            **base,
        )
    yield AuditEvent(
        ev.FILE_READ_BLOCKED,
        time=t + 5,
        decision=ev.BLOCKED,
        secrets=(SecretRef("dotenv-secret", f"fp:{rng.getrandbits(64):016x}", ".env:3"),),
        files=(".env",),
        reason="the agent tried to read .env, which holds a secret",
        **base,
    )
