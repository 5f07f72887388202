"""Writing one audit event per request without holding up the event loop.

The store (`pretense_dev.audit.store.AuditStore`) is SQLite with a hash chain:
each append is a transaction with an fsync, a millisecond or more, which must
not stall every other stream the proxy is serving.  Events go onto a queue and
one thread appends them in order.  A failed append is logged (the proxy log
says which request) and never un-sends a request that has already gone out.
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


def default_sink() -> AuditSink:
    """The user's audit log (opened when the proxy starts: a log it cannot open stops it)."""
    from pretense_dev.audit.store import AuditStore  # deferred: SQLite, only the daemon needs it

    sink: AuditSink = AuditStore()
    return sink


class AuditWriter:
    """A single background thread appending events in submission order."""

    def __init__(self, sink: AuditSink) -> None:
        self.sink = sink
        self._q: queue.SimpleQueue[Callable[[], AuditEvent] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="pretense-audit", daemon=True)
        self._thread.start()

    def submit(self, build: Callable[[], AuditEvent]) -> None:
        """Queue the work that builds an event (never blocks); it runs on the thread."""
        self._q.put(build)

    def _run(self) -> None:
        while True:
            build = self._q.get()
            if build is None:
                return
            try:
                event = build()
            except Exception:
                log.exception("audit: could not build an event")
                continue
            try:
                self.sink.append(event)
            except Exception:
                log.exception(
                    "audit: could not append the event for %s %s", event.repo_id, event.endpoint
                )

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop."""
        self._q.put(None)
        self._thread.join(timeout)
