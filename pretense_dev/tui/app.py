"""The audit browser: a Textual app over the log, read-only.

The log is opened with ``mode=ro`` only; nothing here can write to it.  Every
query runs in a thread worker on its own connection and is paged, so the first
screen of a 1,000,000-event log paints in well under a second
(bench/tui_first_paint.py).  New events are noticed by polling ``PRAGMA
data_version`` (a few microseconds) once a second; the chain indicator is
verified in a worker — all rows at start, then only the new ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.worker import get_current_worker

from pretense_dev.audit.chain import Head
from pretense_dev.audit.store import AuditStore, connect_readonly
from pretense_dev.errors import EXIT_OK
from pretense_dev.tui.data import data_version
from pretense_dev.tui.messages import (
    ChainChecked,
    FirstPageShown,
    LogChanged,
    OpenRequest,
    OpenSession,
)
from pretense_dev.tui.screens.sessions import SessionsScreen


class AuditApp(App[int]):
    """Sessions → session → event, plus alerts; a chain indicator on every screen."""

    # Absolute, so a subclass defined elsewhere (a test, a bench) finds it too.
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "pretense-dev audit"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("a", "alerts", "Alerts"),
        Binding("v", "verify", "Re-verify"),
    ]

    chain: reactive[ChainChecked | None] = reactive(None, always_update=True)

    def __init__(
        self,
        db: Path,
        *,
        clock: Callable[[], float] = time.time,
        poll_interval: float | None = 1.0,
    ) -> None:
        """`clock` drives the time filters (tests inject one); `poll_interval` None: no polling."""
        super().__init__()
        self.db = db
        self.clock = clock
        self.poll_interval = poll_interval
        self._probe = connect_readonly(db)  # raises AuditError (one line) if there is no log
        self._version = data_version(self._probe)
        self._verified: Head | None = None
        self._problems = 0
        self._first_problem = ""
        self._verifying = False
        self._verify_again = False
        self._started = False

    def on_mount(self) -> None:
        """Sessions first; watch for new events.  The chain is verified after the first paint."""
        self.push_screen(SessionsScreen(self.db))
        if self.poll_interval:
            self.set_interval(self.poll_interval, self.check_for_changes)

    def on_first_page_shown(self, _: FirstPageShown) -> None:
        """Start verifying the chain once the first screen is up (first paint stays under 1 s)."""
        if not self._started:
            self._started = True
            self.start_verify(full=True)

    def on_unmount(self) -> None:
        """Close the probe connection."""
        self._probe.close()

    def check_for_changes(self) -> bool:
        """Tell every screen if another process committed since the last look."""
        version = data_version(self._probe)
        if version == self._version:
            return False
        self._version = version
        for screen in self.screen_stack:
            screen.post_message(LogChanged())
        self.start_verify(full=False)
        return True

    def start_verify(self, full: bool) -> None:
        """Verify in a worker; one at a time (a request during a run re-runs after it)."""
        if self._verifying:
            self._verify_again = True
            return
        self._verifying = True
        if full:
            self._verified = None
            self._problems = 0
            self._first_problem = ""
            self.chain = None
        self._verify(full or self._verified is None, self._verified)

    @work(thread=True, group="verify")
    def _verify(self, full: bool, after: Head | None) -> None:
        worker = get_current_worker()
        try:
            if full:
                msg = self._verify_in_subprocess(lambda: worker.is_cancelled)
            else:
                with AuditStore.open_readonly(self.db) as store:
                    result = store.verify(after=after, check_archives=False)
                first = str(result.problems[0]) if result.problems else ""
                msg = ChainChecked(False, result.rows, result.head, len(result.problems), first)
        except Exception as e:  # the indicator must say so, not crash the browser
            msg = ChainChecked(full, 0, None, 0, "", error=type(e).__name__)
        if msg is not None:
            self.post_message(msg)

    def _verify_in_subprocess(self, cancelled: Callable[[], bool]) -> ChainChecked | None:
        """A full verify in another process: its hashing loop would hold this one's GIL.

        Measured on 1,000,000 rows: first paint 0.34 s without a verify running,
        2.2 s with it in a thread of the same process (bench/audit_tui.py).
        """
        import json
        import subprocess
        import sys

        argv = [sys.executable, "-m", "pretense_dev", "audit", "--db", str(self.db)]
        proc = subprocess.Popen(
            [*argv, "verify", "--json", "--no-archives"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        while True:
            try:
                out, _ = proc.communicate(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if cancelled():
                    proc.kill()
                    proc.wait()
                    return None
        doc = json.loads(out)
        head = doc["head"]
        problems = doc["problems"]
        first = ""
        if problems:
            p = problems[0]
            first = f"row {p['seq']}: {p['kind']}: {p['message']}"
        return ChainChecked(
            True,
            int(doc["rows"]),
            None if head is None else Head(int(head["seq"]), str(head["hash"])),
            len(problems),
            first,
        )

    def on_open_session(self, msg: OpenSession) -> None:
        """A screen asked for a session: the app is the one place that opens screens."""
        from pretense_dev.tui.screens.session import SessionScreen

        self.push_screen(SessionScreen(self.db, msg.key))

    def on_open_request(self, msg: OpenRequest) -> None:
        """A screen asked for one logged request."""
        from pretense_dev.tui.screens.request import RequestScreen

        self.push_screen(RequestScreen(self.db, msg.seq))

    def on_chain_checked(self, msg: ChainChecked) -> None:
        """Accumulate results; publish the state the indicators show."""
        self._verifying = False
        rows = msg.rows if msg.full else (self.chain.rows if self.chain else 0) + msg.rows
        if msg.problems and not self._problems:
            self._first_problem = msg.first_problem
        self._problems += msg.problems
        if msg.head is not None:
            self._verified = msg.head
        self.chain = ChainChecked(
            msg.full, rows, self._verified, self._problems, self._first_problem, msg.error
        )
        if self._verify_again:
            self._verify_again = False
            self.start_verify(full=False)

    def action_alerts(self) -> None:
        """Open the alerts list."""
        from pretense_dev.tui.screens.alerts import AlertsScreen

        if not isinstance(self.screen, AlertsScreen):
            self.push_screen(AlertsScreen(self.db))

    def action_verify(self) -> None:
        """Verify the whole chain again."""
        self.start_verify(full=True)


def run(db: Path) -> int:
    """`pretense-dev audit` with no subcommand."""
    AuditApp(db).run()
    return EXIT_OK
