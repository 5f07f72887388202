"""Writing one audit event per request without holding up the event loop.

The store (`pretense_dev.audit.store.AuditStore`) is SQLite with a hash chain:
each append is a transaction with an fsync, a millisecond or more, which must
not stall every other stream the proxy is serving.  Events go onto a queue and
one thread appends them in order.

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
    """Where events go: `AuditStore.append` (returns the row's hash)."""

    def append(self, event: AuditEvent) -> str: ...  # noqa: D102


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
            for build in builds:
                self._write(build)

    def _write(self, build: Callable[[], AuditEvent]) -> None:
        try:
            event = build()
        except Exception:
            log.exception("audit: could not build an event")
            return
        try:
            self.sink.append(event)
        except Exception as e:
            self.error = " ".join(str(getattr(e, "message", e)).split())
            log.exception(
                "audit: could not append the event for %s %s", event.repo_id, event.endpoint
            )
        else:
            self.error = None

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop."""
        self._q.put(None)
        self._thread.join(timeout)
