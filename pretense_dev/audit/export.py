"""Exports for a SIEM or an OpenTelemetry collector: how an organisation aggregates local logs.

* **JSONL**: one line per row, the hashed record plus ``prev_hash`` and
  ``hash`` (`chain.export_line`), so the receiver can re-verify the chain
  without pretense-dev (``pretense-dev audit verify --file export.jsonl``).
* **CSV**: one row per event, lists joined with ``;`` and secrets as
  ``rule:fingerprint``.  Text cells that a spreadsheet would run as a formula
  (``= + - @``, tab, CR) get a leading ``'`` (OWASP CSV injection).
* **OTLP**: one OpenTelemetry log record per event through the official SDK
  and its OTLP/HTTP exporter (protobuf), so any collector can receive them.
  The record's attributes follow semantic conventions where one exists
  (``session.id``, ``user.name``, ``host.name``, ``gen_ai.provider.name``,
  ``gen_ai.request.model``) and ``pretense.*`` otherwise; the body is the
  event type.  The SDK is an optional extra (``pretense-dev[otlp]``).

Exports carry exactly the log's fields: no prompt text and no secret value can
appear because the log holds none (tests/audit/test_no_leak.py).  ``--after
SEQ`` makes shipping incremental: a cron job remembers the last ``seq`` it sent.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pretense_dev import paths
from pretense_dev.audit import chain
from pretense_dev.audit.chain import Head
from pretense_dev.audit.queries import _like_prefix
from pretense_dev.errors import PretenseError, UsageError

FORMATS = ("jsonl", "csv", "otlp")

CSV_COLUMNS = (
    "seq",
    "time",
    "event",
    "session_id",
    "tool",
    "user",
    "machine",
    "repo_id",
    "repo_path",
    "vendor",
    "model",
    "endpoint",
    "mutation_active",
    "identifiers_protected",
    "identifiers",
    "secrets",
    "decision",
    "reason",
    "request_bytes",
    "response_bytes",
    "context_bytes",
    "latency_ms",
    "upstream_status",
    "files",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class Selection:
    """Which rows to export."""

    since: float | None = None
    until: float | None = None
    repo: str = ""
    after_seq: int = 0


@dataclass(frozen=True)
class ExportResult:
    """How many rows went out, and the last one (the receiver's next ``--after``)."""

    rows: int
    last: Head | None


def iter_rows(conn: sqlite3.Connection, sel: Selection) -> Iterator[tuple[int, bytes, str, str]]:
    """(seq, data, prev_hash, hash) of the selected rows, in chain order."""
    cond = ["seq > ?"]
    params: list[object] = [sel.after_seq]
    if sel.since is not None:
        cond.append("time >= ?")
        params.append(sel.since)
    if sel.until is not None:
        cond.append("time < ?")
        params.append(sel.until)
    if sel.repo:
        cond.append("(repo_id = ? OR repo_path = ? OR repo_path LIKE ? ESCAPE '\\')")
        params += [sel.repo, sel.repo.rstrip("/"), _like_prefix(sel.repo.rstrip("/") + "/")]
    cur = conn.execute(
        "SELECT seq, CAST(data AS BLOB), prev_hash, hash FROM events WHERE "
        + " AND ".join(cond)
        + " ORDER BY seq",
        params,
    )
    while batch := cur.fetchmany(4096):
        yield from batch


def write_jsonl(conn: sqlite3.Connection, sel: Selection, out: IO[bytes]) -> ExportResult:
    """JSONL: the hashed record, ``prev_hash`` and ``hash`` per line."""
    n = 0
    last: Head | None = None
    for seq, data, prev_hash, hash_ in iter_rows(conn, sel):
        out.write(chain.export_line(data, prev_hash, hash_) + b"\n")
        n += 1
        last = Head(seq, hash_)
    return ExportResult(n, last)


def csv_cells(rec: dict[str, Any], prev_hash: str, hash_: str) -> list[object]:
    """One CSV row for a stored record."""
    from pretense_dev.audit.timespec import iso

    cells: dict[str, object] = dict(rec)
    cells["time"] = iso(float(rec["time"]))
    cells["mutation_active"] = "true" if rec["mutation_active"] else "false"
    cells["identifiers"] = ";".join(rec["identifiers"])
    cells["files"] = ";".join(rec["files"])
    cells["secrets"] = ";".join(f"{s['rule']}:{s['fingerprint']}" for s in rec["secrets"])
    cells["prev_hash"] = prev_hash
    cells["hash"] = hash_
    return [_cell(cells.get(c, "")) for c in CSV_COLUMNS]


def _cell(v: object) -> object:
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def write_csv(conn: sqlite3.Connection, sel: Selection, out: IO[bytes]) -> ExportResult:
    """CSV with a header row (RFC 4180 quoting, CRLF line ends, UTF-8)."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        w = csv.writer(text)
        w.writerow(CSV_COLUMNS)
        n = 0
        last: Head | None = None
        for seq, data, prev_hash, hash_ in iter_rows(conn, sel):
            w.writerow(csv_cells(json.loads(data), prev_hash, hash_))
            n += 1
            last = Head(seq, hash_)
        text.flush()
    finally:
        text.detach()
    return ExportResult(n, last)


def otlp_attributes(rec: dict[str, Any], prev_hash: str, hash_: str) -> dict[str, Any]:
    """The OpenTelemetry attributes of one record (empty values left out)."""
    attrs: dict[str, Any] = {
        "pretense.seq": rec["seq"],
        "pretense.hash": hash_,
        "pretense.prev_hash": prev_hash,
        "pretense.event": rec["event"],
        "pretense.decision": rec["decision"],
        "pretense.mutation_active": bool(rec["mutation_active"]),
        "pretense.identifiers_protected": rec["identifiers_protected"],
        "pretense.request_bytes": rec["request_bytes"],
        "pretense.response_bytes": rec["response_bytes"],
        "pretense.context_bytes": rec["context_bytes"],
        "pretense.latency_ms": float(rec["latency_ms"]),
        "pretense.upstream_status": rec["upstream_status"],
        "session.id": rec["session_id"],
        "user.name": rec["user"],
        "host.name": rec["machine"],
        "pretense.tool": rec["tool"],
        "pretense.repo_id": rec["repo_id"],
        "pretense.repo_path": rec["repo_path"],
        "gen_ai.provider.name": rec["vendor"],
        "gen_ai.request.model": rec["model"],
        "pretense.endpoint": rec["endpoint"],
        "pretense.reason": rec["reason"],
        "pretense.identifiers": list(rec["identifiers"]),
        "pretense.files": list(rec["files"]),
        "pretense.secret_rules": [s["rule"] for s in rec["secrets"]],
        "pretense.secret_fingerprints": [s["fingerprint"] for s in rec["secrets"]],
        "pretense.secret_locations": [s["where"] for s in rec["secrets"]],
    }
    return {k: v for k, v in attrs.items() if v != "" and v != []}


def otlp_endpoint(url: str) -> str:
    """A collector URL with the OTLP/HTTP logs path (``/v1/logs``) if it has no path."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"not an http(s) URL: {url!r}", "e.g. --endpoint http://collector:4318")
    if parts.path in ("", "/"):
        parts = parts._replace(path="/v1/logs")
    return urlunsplit(parts)


def send_otlp(
    conn: sqlite3.Connection,
    sel: Selection,
    endpoint: str | None,
    *,
    timeout: float = 10.0,
    batch_size: int = 512,
    headers: dict[str, str] | None = None,
) -> ExportResult:
    """Send the selected rows as OTLP log records; raise PretenseError if a batch fails.

    The exporter is driven directly (not through a background batch processor)
    so that a failed batch is an error we report, with the last row that did
    arrive — the point to resume from with ``--after``.
    """
    try:
        # Deferred: the SDK and protobuf cost ~150 ms to import, only this path needs them.
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.sdk._logs import (
            LoggerProvider,
            LogRecordProcessor,
            ReadableLogRecord,
            ReadWriteLogRecord,
        )
        from opentelemetry.sdk._logs.export import LogRecordExportResult
        from opentelemetry.sdk.resources import Resource
    except ImportError:
        raise PretenseError(
            "OTLP export needs the OpenTelemetry SDK",
            "install it with `pip install 'pretense-dev[otlp]'`",
        ) from None
    import importlib.metadata

    from opentelemetry._logs import SeverityNumber

    class Collect(LogRecordProcessor):
        def __init__(self) -> None:
            self.records: list[ReadableLogRecord] = []

        def on_emit(self, log_record: ReadWriteLogRecord) -> None:
            self.records.append(
                ReadableLogRecord(
                    log_record=log_record.log_record,
                    resource=log_record.resource or Resource.create({}),
                    instrumentation_scope=log_record.instrumentation_scope,
                    limits=log_record.limits,
                )
            )

        def shutdown(self) -> None:
            pass

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return True

    try:
        version = importlib.metadata.version("pretense-dev")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    resource = Resource.create({"service.name": "pretense-dev", "service.version": version})
    provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
    collect = Collect()
    provider.add_log_record_processor(collect)
    logger = provider.get_logger("pretense_dev.audit", version)
    exporter = OTLPLogExporter(
        endpoint=otlp_endpoint(endpoint) if endpoint else None, timeout=timeout, headers=headers
    )
    url = getattr(exporter, "_endpoint", endpoint or "(from OTEL_EXPORTER_OTLP_* settings)")
    severity = {
        "forwarded": (SeverityNumber.INFO, "INFO"),
        "allowed": (SeverityNumber.INFO, "INFO"),
        "blocked": (SeverityNumber.WARN, "WARN"),
        "error": (SeverityNumber.ERROR, "ERROR"),
    }
    sent = 0
    last: Head | None = None
    pending: list[Head] = []

    def flush() -> None:
        nonlocal sent, last
        if not collect.records:
            return
        with _sdk_log() as said:
            result = exporter.export(collect.records)
        if result is not LogRecordExportResult.SUCCESS:
            where = f"rows up to {last.seq} were sent" if last else "nothing was sent"
            why = f" ({said[0]})" if said else ""
            raise PretenseError(
                f"the OTLP collector at {url} did not accept the batch starting at row "
                f"{pending[0].seq}{why}; {where}",
                "check the endpoint, then resume with --after "
                + str(last.seq if last else sel.after_seq),
            )
        sent += len(collect.records)
        last = pending[-1]
        collect.records.clear()
        pending.clear()

    try:
        for seq, data, prev_hash, hash_ in iter_rows(conn, sel):
            rec = json.loads(data)
            number, text = severity.get(rec["decision"], (SeverityNumber.INFO, "INFO"))
            if (
                rec["event"] == "request"
                and rec["decision"] == "forwarded"
                and not rec["mutation_active"]
            ):
                number, text = SeverityNumber.ERROR, "ERROR"  # an unprotected request
            logger.emit(
                # microseconds, as stored: float nanoseconds would invent digits
                timestamp=round(float(rec["time"]) * 1_000_000) * 1000,
                severity_number=number,
                severity_text=text,
                body=rec["event"],
                event_name=f"pretense.audit.{rec['event']}",
                attributes=otlp_attributes(rec, prev_hash, hash_),
            )
            pending.append(Head(seq, hash_))
            if len(collect.records) >= batch_size:
                flush()
        flush()
    finally:
        exporter.shutdown()  # type: ignore[no-untyped-call]
        provider.shutdown()
    return ExportResult(sent, last)


@contextlib.contextmanager
def _sdk_log() -> Iterator[list[str]]:
    """Capture what the OpenTelemetry SDK logs during an export, instead of printing it.

    The SDK reports an HTTP failure through `logging`; we fold its first line
    into our one-line error (errors are one line on stderr) rather than let it print a second one.
    """
    import logging

    said: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            said.append(record.getMessage().splitlines()[0])

    logger = logging.getLogger("opentelemetry")
    handler = Keep(logging.WARNING)
    old = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield said
    finally:
        logger.removeHandler(handler)
        logger.propagate = old


@contextlib.contextmanager
def output(path: Path | None) -> Iterator[IO[bytes]]:
    """stdout, or a file written atomically (temp file, fsync, rename; 0600).

    An export holds the repository's identifier names, so the file is private;
    a failed export leaves any previous file untouched.  A device or FIFO
    (`--output /dev/stdout`) is written directly, never replaced.
    """
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with paths.atomic_writer(path, 0o600, devices=True) as f:
        yield f


def verify_jsonl(
    lines: Iterator[bytes],
) -> tuple[list[chain.Problem], int, Head | None, Head | None]:
    """Re-derive an exported JSONL chain: (problems, rows, start it links from, last row).

    A partial export (``--after``) starts mid-chain: its first line's
    ``prev_hash`` is taken as given, and everything after is checked.
    """
    checker: chain.Checker | None = None
    start: Head | None = None
    batch: list[tuple[int, int | None, bytes, str, str]] = []
    problems: list[chain.Problem] = []
    n = 0
    for raw in lines:
        if not raw.strip():
            continue
        n += 1
        try:
            seq, data, prev_hash, hash_ = chain.split_line(raw)
        except (ValueError, KeyError) as e:
            problems.append(
                chain.Problem(0, chain.ALTERED, f"line {n} is not an audit record: {e}")
            )
            continue
        if checker is None:
            start = Head(seq - 1, prev_hash)
            checker = chain.Checker(start)
        batch.append((seq, seq, data, prev_hash, hash_))
        if len(batch) >= 65536:
            checker.run(batch)
            batch = []
    if checker is None:
        return problems, 0, None, None
    checker.run(batch)
    return problems + checker.problems, checker.rows, start, checker.last
