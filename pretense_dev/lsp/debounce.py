"""Per-document debouncing: one analysis at a time per URI, the latest text always wins.

Keystrokes must not queue one scan each (one pending scan per document:
`debounce(…, keyed_by="uri")`
in jedi-language-server).  Plain trailing-edge debouncing would make every
isolated edit wait the whole delay, which eats the 50 ms budget for
didChange → publishDiagnostics; so this is leading edge plus trailing edge:

* a request after a quiet spell runs at once;
* requests that arrive while a run is in flight, or sooner than `interval`
  after the last run started, collapse into one more run, which starts
  `interval` after the previous start and reads the text as it is then.

So a burst of N keystrokes costs at most 1 + (burst length / interval) runs,
never N, and the final text is always analysed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class _Key:
    pending: bool = False
    last_start: float = float("-inf")
    task: asyncio.Task[None] | None = None
    idle: asyncio.Event = field(default_factory=asyncio.Event)


class KeyedDebouncer:
    """Run `job(key)` per key as described in the module docstring."""

    def __init__(self, interval: float, job: Callable[[str], Awaitable[None]]) -> None:
        self.interval = interval
        self._job = job
        self._keys: dict[str, _Key] = {}
        self._closed = False

    def request(self, key: str) -> None:
        """Ask for a run of `job(key)` that sees everything up to now (none once closed).

        A run cancelled by `close` can still ask for a follow-up as it unwinds
        (the analysis asks for names in a ``finally``); starting it would submit
        work to the thread pools the server has just shut down.
        """
        if self._closed:
            return
        st = self._keys.get(key)
        if st is None:
            st = self._keys[key] = _Key()
        st.pending = True
        st.idle.clear()
        if st.task is None or st.task.done():
            st.task = asyncio.get_running_loop().create_task(self._run(key, st))

    async def _run(self, key: str, st: _Key) -> None:
        try:
            while st.pending:
                wait = st.last_start + self.interval - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)  # the debounce window itself
                st.pending = False
                st.last_start = time.monotonic()
                try:
                    await self._job(key)
                except Exception as e:  # one failed run must not stop later ones
                    from pretense_dev.bugs import log_bug

                    # The traceback can quote the document: it goes to the private
                    # error log, the editor's log gets the type and where.
                    where = log_bug(e)
                    log.error(
                        "analysis of a document failed (%s); details in %s", type(e).__name__, where
                    )
        finally:
            if not st.pending:
                st.idle.set()

    async def wait_idle(self, key: str, timeout: float) -> bool:
        """Wait until no run for `key` is pending or in flight; False on timeout."""
        st = self._keys.get(key)
        if st is None or (not st.pending and (st.task is None or st.task.done())):
            return True
        try:
            await asyncio.wait_for(st.idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def forget(self, key: str) -> None:
        """Drop a key (document closed); a run in flight is cancelled."""
        st = self._keys.pop(key, None)
        if st is not None and st.task is not None:
            st.task.cancel()

    def close(self) -> None:
        """Cancel everything and accept no more requests (server shutting down)."""
        self._closed = True
        for key in list(self._keys):
            self.forget(key)
