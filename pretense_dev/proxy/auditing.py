"""Writing one audit event per request without holding up the event loop.

The store (`pretense_dev.audit.store.AuditStore`) is SQLite with a hash chain:
each append is a transaction (WAL, no fsync per commit, but the row's indexes
and its session's summary: 60–160 µs of CPU, bench/audit_append.py), which must not stall every
other stream the proxy is serving.  Events go onto a queue and
one thread appends them in order: all that is queued when the thread wakes
goes in one transaction (`AuditStore.append_many`, up to `MAX_BATCH` events),
so requests back to back share a commit instead of paying one each — an
append's commit writes the pages of the row, its indexes and its session's
summary, and batching cut the audit thread's CPU per event (bench/proxy.py
``--audit``), time that otherwise competes with the event loop for the GIL.
A batch is written whole or not at all: if its transaction fails, none of its
events is reported as written and the failure refuses later requests exactly
as a single failed append does.

No evidence, no forward: before each forward the server calls
`AuditWriter.ensure_writable`, which refuses (503, nothing sent) while the
last append failed or the log's head cannot be read from a fresh connection.
An append that fails after its request went out cannot un-send it; it is
logged, and every later request is refused until an append succeeds again
(the refusals themselves are recorded, so a repaired log lifts it) — the fix
is `pretense-dev audit recover`, which keeps the damaged file.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Protocol

from pretense_dev.audit.events import AuditEvent

log = logging.getLogger("pretense_dev.proxy")


class AuditSink(Protocol):
    """Where events go: `AuditStore.append` (returns the row's hash).

    A sink may also have ``append_many(events) -> list[str]``, writing all of
    them in one transaction or none (`AuditStore.append_many`); the writer
    uses it for batches.
    """

    def append(self, event: AuditEvent) -> str: ...  # noqa: D102


# The most events one transaction takes: a backlog after a stall is written in
# bounded steps, so a request's evidence never waits behind an unbounded batch.
MAX_BATCH = 256


RECOVER = "run `pretense-dev audit recover` (it keeps the damaged file)"


def default_sink() -> AuditSink:
    """The user's audit log (opened when the proxy starts: a log it cannot open stops it)."""
    from pretense_dev.audit.store import AuditStore  # deferred: SQLite, only the daemon needs it

    sink: AuditSink = AuditStore()
    return sink


class AuditWriter:
    """A single background thread appending events in submission order."""

    def __init__(self, sink: AuditSink) -> None:
        self.sink = sink
        self._q: queue.SimpleQueue[list[Callable[[], AuditEvent]] | None] = queue.SimpleQueue()
        self.error: str | None = None  # why the last append failed; None once one succeeds
        self._thread = threading.Thread(target=self._run, name="pretense-audit", daemon=True)
        self._thread.start()

    def ensure_writable(self) -> None:
        """Raise Refusal (503) if this request's evidence cannot be written; see the docstring."""
        from pretense_dev.proxy.repos import Refusal

        error = self.error
        probe = getattr(self.sink, "probe", None)
        if probe is not None:
            try:
                if probe() is True:
                    # A recovered log replaced the one that failed: appends go there now.
                    self.error = error = None
            except Exception as e:
                error = " ".join(str(getattr(e, "message", e)).split())
        if error is not None:
            raise Refusal(
                503,
                f"pretense-dev cannot write its audit log ({error}), so nothing was sent "
                f"— {RECOVER}",
                audit_reason="audit log cannot be written",
            )

    def submit(self, build: Callable[[], AuditEvent]) -> None:
        """Queue the work that builds an event (never blocks); it runs on the thread."""
        self._q.put([build])

    def submit_all(self, builds: list[Callable[[], AuditEvent]]) -> None:
        """Queue several events at once: one wake-up of the thread for all of them."""
        if builds:
            self._q.put(builds)

    def _run(self) -> None:
        while True:
            builds = self._q.get()
            if builds is None:
                return
            stop = False
            # Everything already queued joins this batch: one transaction for all of it.
            while len(builds) < MAX_BATCH:
                try:
                    more = self._q.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                builds = builds + more
            self._write(builds)
            if stop:
                return

    def _write(self, builds: list[Callable[[], AuditEvent]]) -> None:
        events: list[AuditEvent] = []
        for build in builds:
            try:
                events.append(build())
            except Exception:
                log.exception("audit: could not build an event")
        append_many = getattr(self.sink, "append_many", None)
        if len(events) > 1 and append_many is not None:
            try:
                append_many(events)
            except ValueError:
                # An invalid event (a bug) refused before anything was written: each
                # on its own, so that the others are still recorded.
                log.exception("audit: a batch held an invalid event; appending one by one")
            except Exception as e:
                self._failed(e, events)
                return
            else:
                self.error = None
                return
        for event in events:
            try:
                self.sink.append(event)
            except Exception as e:
                self._failed(e, [event])
            else:
                self.error = None

    def _failed(self, e: Exception, events: list[AuditEvent]) -> None:
        """Nothing of `events` was written: refuse from now on (see the module docstring)."""
        self.error = " ".join(str(getattr(e, "message", e)).split())
        log.exception(
            "audit: could not append the event%s for %s (none was written)",
            "s" if len(events) > 1 else "",
            ", ".join(f"{ev.repo_id} {ev.endpoint}" for ev in events),
        )

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop."""
        self._q.put(None)
        self._thread.join(timeout)
