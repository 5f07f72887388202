"""``pretense-dev audit …``: wiring only; the logic lives in the audit modules.

Without a subcommand it opens the Textual browser; that is the only path that
imports textual (tests/audit/test_cli.py checks each subcommand's imports).
Every subcommand opens the log read-only except ``archive``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from pretense_dev.errors import EXIT_OK, PretenseError, UsageError


def _db(ctx: click.Context) -> Path:
    from pretense_dev.audit.store import default_path

    db = ctx.find_root().meta.get("pretense.audit.db")
    return db if isinstance(db, Path) else default_path()


def _since(text: str | None) -> float | None:
    from pretense_dev.audit.timespec import parse_since

    return None if text is None else parse_since(text, time.time())


def _out(line: str = "") -> None:
    click.echo(line)


def _err(line: str) -> None:
    click.echo(line, err=True)


@click.group(invoke_without_command=True)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The audit log to read (default: the user's audit.db).",
)
@click.pass_context
def audit(ctx: click.Context, db: Path | None) -> int | None:
    """The audit log: browse it (no subcommand), verify, alerts, evidence, export."""
    if db is not None:
        ctx.find_root().meta["pretense.audit.db"] = db
    if ctx.invoked_subcommand is not None:
        return None
    # Deferred: textual costs ~100 ms to import and only the browser needs it.
    from pretense_dev.tui.app import run

    return run(_db(ctx))


@audit.command()
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    metavar="SEQ:HASH",
    help="A head recorded earlier (evidence, export): it must still be in the chain.",
)
@click.option(
    "--anchor-file",
    "anchor_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An evidence JSON document whose chain.head must still be in the chain.",
)
@click.option(
    "--file",
    "file_",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Verify a JSONL export instead of the log.",
)
@click.option("--no-archives", is_flag=True, help="Do not re-derive archived rows.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def verify(
    ctx: click.Context,
    anchors: tuple[str, ...],
    anchor_files: tuple[Path, ...],
    file_: Path | None,
    no_archives: bool,
    as_json: bool,
) -> int:
    """Re-derive the hash chain; list every broken, missing or moved row (exit 1)."""
    from pretense_dev.audit.chain import Head
    from pretense_dev.audit.store import AuditStore, ChainReport

    heads: list[Head] = []
    for a in anchors:
        try:
            heads.append(Head.parse(a))
        except ValueError as e:
            raise UsageError(str(e)) from None
    for f in anchor_files:
        from pretense_dev.audit.evidence import anchor_from_evidence

        try:
            heads.append(anchor_from_evidence(json.loads(f.read_text(encoding="utf-8"))))
        except (ValueError, OSError) as e:
            raise UsageError(
                f"{f}: {e}", "pass an evidence document from `audit evidence`"
            ) from None

    if file_ is not None:
        from pretense_dev.audit.export import verify_jsonl

        with open(file_, "rb") as fh:
            problems, rows, start, last = verify_jsonl(iter(fh))
        result = ChainReport(tuple(problems), rows, 0, last, 0, 0)
        where = f"{file_} (links from row {start.seq})" if start and start.seq else str(file_)
    else:
        db = _db(ctx)
        if not db.exists():
            if heads:
                raise PretenseError(
                    f"no audit log at {db}, but a recorded head expects row {max(heads).seq}",
                    "the log was deleted or moved",
                )
            _err(f"no audit log at {db}: nothing has been recorded yet")
            return EXIT_OK
        with AuditStore.open_readonly(db) as store:
            result = store.verify(anchors=heads, check_archives=not no_archives)
        where = str(db)
    if as_json:
        _out(
            json.dumps(
                {
                    "verified": result.ok,
                    "rows": result.rows,
                    "archived_rows": result.archived_rows,
                    "head": None
                    if result.head is None
                    else {"seq": result.head.seq, "hash": result.head.hash},
                    "anchors_checked": result.anchors,
                    "problems": [
                        {"seq": p.seq, "kind": p.kind, "message": p.message}
                        for p in result.problems
                    ],
                    "notes": list(result.notes),
                },
                indent=2,
            )
        )
    else:
        for p in result.problems:
            _out(str(p))
        for n in result.notes:
            _err(f"note: {n}")
    if not result.ok:
        raise PretenseError(
            f"{where} does not verify: {len(result.problems)} problem(s)",
            "the rows listed were edited, deleted, moved or removed at the end; keep a copy "
            "of the file for investigation",
        )
    if not as_json:
        archived = f" and {result.archived_rows:,} archived" if result.archived_rows else ""
        head = f"head {result.head}" if result.head else "empty"
        anchored = f"; {result.anchors} recorded head(s) found" if result.anchors else ""
        _out(f"intact: {result.rows:,} rows{archived} verified; {head}{anchored}")
    return EXIT_OK


@audit.command()
@click.option("--since", default=None, help="Only alerts after this (e.g. 7d, 2026-01-31).")
@click.option("--repo", default="", help="Only this repository (id or path).")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(["unprotected", "secret", "drift", "large_context"]),
    help="Only these kinds (repeatable).",
)
@click.option(
    "--large-context-bytes",
    type=click.IntRange(1),
    default=None,
    help="Override every repository's [audit] large_context_bytes.",
)
@click.option("--limit", type=click.IntRange(1), default=500, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def alerts(
    ctx: click.Context,
    since: str | None,
    repo: str,
    kinds: tuple[str, ...],
    large_context_bytes: int | None,
    limit: int,
    as_json: bool,
) -> int:
    """Secrets in prompts, unprotected requests, large contexts, drifted tools."""
    from pretense_dev.audit import alerts as mod
    from pretense_dev.audit.store import AuditStore
    from pretense_dev.audit.timespec import short

    with AuditStore.open_readonly(_db(ctx)) as store:
        found = mod.alerts(
            store.conn,
            mod.resolve_thresholds(store.conn, large_context_bytes),
            since=_since(since),
            repo=repo,
            kinds=kinds or mod.KINDS,
            limit=limit,
        )
    for a in found:
        if as_json:
            _out(json.dumps(a.to_dict(), sort_keys=True))
        else:
            _out(
                f"{short(a.time)}  {a.severity:<8} {a.kind:<13} row {a.seq:<8} "
                f"{a.session[:36]:<36}  {a.title}"
            )
    _err(f"{len(found)} alert(s)")
    return EXIT_OK


@audit.command()
@click.option("--since", default="90d", show_default=True, help="Period start (90d, 2026-01-01).")
@click.option("--until", default=None, help="Period end (default: now).")
@click.option("--repo", default="", help="Only this repository (id or path).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "markdown"]),
    default="json",
    show_default=True,
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (atomically) instead of stdout.",
)
@click.option("--large-context-bytes", type=click.IntRange(1), default=None)
@click.option("--no-archives", is_flag=True, help="Do not re-derive archived rows.")
@click.pass_context
def evidence(
    ctx: click.Context,
    since: str,
    until: str | None,
    repo: str,
    fmt: str,
    output: Path | None,
    large_context_bytes: int | None,
    no_archives: bool,
) -> int:
    """Compliance evidence for a period: per session, coverage, chain, controls."""
    from pretense_dev.audit.alerts import resolve_thresholds
    from pretense_dev.audit.evidence import build_evidence, render_markdown
    from pretense_dev.audit.store import AuditStore
    from pretense_dev.paths import atomic_write

    now = time.time()
    start = _since(since)
    end = _since(until) if until else now
    assert start is not None and end is not None
    with AuditStore.open_readonly(_db(ctx)) as store:
        doc = build_evidence(
            store,
            since=start,
            until=end,
            repo=repo,
            thresholds=resolve_thresholds(store.conn, large_context_bytes),
            check_archives=not no_archives,
            index_coverage=_index_coverage,
        )
    text = json.dumps(doc, indent=2) + "\n" if fmt == "json" else render_markdown(doc)
    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write(output, text, mode=0o600)
    cov = doc["coverage"]
    ratio = cov["requests"]["protected_ratio"]
    chain = doc["chain"]
    _err(
        f"evidence: {cov['sessions']} sessions, {cov['requests']['forwarded']} requests forwarded "
        f"({'n/a' if ratio is None else f'{ratio:.2%}'} protected), "
        f"{cov['requests']['forwarded_unprotected']} unprotected; chain "
        f"{'intact' if chain['verified'] else 'BROKEN'}"
        + (f", head {chain['head']['seq']}:{chain['head']['hash']}" if chain["head"] else "")
        + (
            f"; {cov['source_files_unread']} source files in languages the identifier map "
            "cannot read (repositories[])"
            if cov["source_files_unread"]
            else ""
        )
    )
    return EXIT_OK


def _index_coverage(repo_id: str, repo_path: str) -> dict[str, Any] | None:
    """A repository's index coverage now: at the path the log recorded, else the registry's."""
    from pretense_dev import registry
    from pretense_dev.index.coverage import index_coverage
    from pretense_dev.repo import Repo

    roots = [Path(repo_path)] if repo_path else []
    entry = registry.lookup(repo_id) if repo_id else None
    if entry is not None:
        roots.append(entry.path)
    for root in roots:
        cov = index_coverage(Repo(root).index_path)
        if cov is not None:
            return cov.to_json()
    return None


@audit.command()
@click.argument("session")
@click.option("--json", "as_json", is_flag=True, help="The incident as a JSON document.")
@click.option("--no-archives", is_flag=True, help="Do not re-derive archived rows.")
@click.pass_context
def incident(ctx: click.Context, session: str, as_json: bool, no_archives: bool) -> int:
    """Everything about one session, for incident response (id or unique prefix)."""
    from pretense_dev.audit.incident import build_incident, render_text
    from pretense_dev.audit.store import AuditStore

    with AuditStore.open_readonly(_db(ctx)) as store:
        doc = build_incident(store, session, check_archives=not no_archives)
    if as_json:
        _out(json.dumps(doc, indent=2))
    else:
        sys.stdout.write(render_text(doc))
    return EXIT_OK


@audit.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "otlp"]),
    default="jsonl",
    show_default=True,
)
@click.option("--endpoint", default=None, help="OTLP/HTTP collector URL (default: OTEL_* env).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="jsonl/csv: write to this file (atomically, 0600) instead of stdout.",
)
@click.option("--since", default=None, help="Only events after this (90d, 2026-01-01).")
@click.option("--until", default=None, help="Only events before this.")
@click.option("--repo", default="", help="Only this repository (id or path).")
@click.option(
    "--after", type=click.IntRange(0), default=0, help="Only rows after this seq (incremental)."
)
@click.option("--timeout", type=click.FloatRange(0.1), default=10.0, show_default=True)
@click.pass_context
def export(
    ctx: click.Context,
    fmt: str,
    endpoint: str | None,
    output: Path | None,
    since: str | None,
    until: str | None,
    repo: str,
    after: int,
    timeout: float,
) -> int:
    """Export events as JSONL or CSV (SIEM), or send them as OTLP logs."""
    from pretense_dev.audit import export as ex
    from pretense_dev.audit.store import AuditStore

    if fmt == "otlp" and output is not None:
        raise UsageError("--output is for jsonl and csv", "use --endpoint for otlp")
    if fmt != "otlp" and endpoint is not None:
        raise UsageError("--endpoint is for otlp", "use --output for jsonl and csv")
    sel = ex.Selection(_since(since), _since(until), repo, after)
    with AuditStore.open_readonly(_db(ctx)) as store:
        if fmt == "otlp":
            result = ex.send_otlp(store.conn, sel, endpoint, timeout=timeout)
        else:
            writer = ex.write_jsonl if fmt == "jsonl" else ex.write_csv
            with ex.output(output) as out:
                result = writer(store.conn, sel, out)
    last = f"; last row {result.last} (next time: --after {result.last.seq})" if result.last else ""
    _err(f"exported {result.rows} event(s){last}")
    return EXIT_OK


@audit.command()
@click.option("--before", required=True, help="Archive rows older than this (365d, 2025-01-01).")
@click.option(
    "--archive-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where archives go (default: audit-archive/ beside the log).",
)
@click.pass_context
def archive(ctx: click.Context, before: str, archive_dir: Path | None) -> int:
    """Move old rows to a verifiable archive file; the chain stays verifiable."""
    from pretense_dev.audit.retention import archive as do_archive

    cutoff = _since(before)
    assert cutoff is not None
    db = _db(ctx)
    if not db.exists():
        _err(f"no audit log at {db}: nothing to archive")
        return EXIT_OK
    result = do_archive(db, cutoff, archive_dir=archive_dir)
    if result.checkpoint is None:
        _err("nothing to archive: no row at the start of the log is older than that")
        return EXIT_OK
    cp = result.checkpoint
    _out(
        f"archived rows {cp.seq_start}–{cp.seq_end} ({cp.rows:,}) to {result.path}; "
        f"checkpoint {cp.seq_end}:{cp.hash_end}"
    )
    return EXIT_OK


@audit.command()
@click.option(
    "--archive-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the salvaged rows go (default: audit-archive/ beside the log).",
)
@click.pass_context
def recover(ctx: click.Context, archive_dir: Path | None) -> int:
    """Keep a damaged log and start a new chain anchored to its last verifiable row."""
    from pretense_dev.audit.recover import intact
    from pretense_dev.audit.recover import recover as do_recover

    db = _db(ctx)
    good = intact(db)
    if good is not None:
        archived = f" and {good.archived_rows:,} archived" if good.archived_rows else ""
        head = f"head {good.head}" if good.head else "empty"
        _out(
            f"intact: {good.rows:,} rows{archived} verified; {head} — nothing to recover, "
            "the log was left as it is"
        )
        return EXIT_OK
    result = do_recover(db, archive_dir=archive_dir)
    _out(f"kept the damaged log as {result.kept}")
    if result.archive is not None:
        _out(f"salvaged {result.salvaged:,} verifiable row(s) to {result.archive}")
    if result.head is None:
        _out("no row of it verified: the new chain starts from the beginning")
    else:
        _out(f"the new chain continues from row {result.head.seq}:{result.head.hash}")
    if result.unreadable:
        _err(
            f"{result.unreadable:,} row(s) after that could not be read or verified; "
            f"they are only in {result.kept.name}"
        )
    elif result.unreadable is None:
        _err(
            "the damaged log's row count cannot be read; any row past that is only in "
            f"{result.kept.name}"
        )
    return EXIT_OK


__all__ = ["audit"]
