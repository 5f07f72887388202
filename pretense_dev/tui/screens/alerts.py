"""Alerts, newest first; Enter opens the event that raised one."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from pretense_dev.audit import alerts as mod
from pretense_dev.audit.alerts import Alert
from pretense_dev.audit.timespec import short
from pretense_dev.tui.data import reading, repo_label
from pretense_dev.tui.messages import AlertsLoaded, LogChanged, OpenRequest
from pretense_dev.tui.widgets.top_bar import TopBar

PAGE = 200
COLUMNS = [  # fixed widths, as in screens/sessions.py
    ("time (UTC)", 16),
    ("severity", 8),
    ("kind", 13),
    ("row", 8),
    ("repository", 15),
    ("alert", 68),
]
SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow"}


class AlertsScreen(Screen[None]):
    """The alerts list."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, db: Path) -> None:
        super().__init__()
        self.db = db
        self.loaded: list[Alert] = []
        self.more = False
        self._loading_more = False

    def compose(self) -> ComposeResult:
        """Bar, table, summary."""
        yield TopBar("pretense-dev audit · alerts")
        table: DataTable[Any] = DataTable(id="alerts", cursor_type="row", zebra_stripes=True)
        for label, width in COLUMNS:
            table.add_column(label, width=width)
        yield table
        yield Static("loading…", id="alerts-summary", classes="summary")
        yield Footer()

    def on_mount(self) -> None:
        """First page."""
        self.query_one(DataTable).focus()
        self.load(append=False)

    @work(thread=True, exclusive=True, group="alerts")
    def load(self, append: bool, limit: int = PAGE) -> None:
        """A page of alerts, thresholds from each repository's config."""
        before = self.loaded[-1].seq if append and self.loaded else None
        with reading(self.db) as conn:
            rows = mod.alerts(
                conn, mod.resolve_thresholds(conn), limit=limit + 1, before_seq=before
            )
        self.post_message(AlertsLoaded(rows[:limit], append, len(rows) > limit))

    def on_alerts_loaded(self, msg: AlertsLoaded) -> None:
        """Show a page."""
        self._loading_more = False
        table = self.query_one("#alerts", DataTable)
        if not msg.append:
            table.clear()
            self.loaded = []
        for a in msg.rows:
            table.add_row(
                short(a.time),
                Text(a.severity, style=SEVERITY_STYLE.get(a.severity, "")),
                a.kind,
                str(a.seq),
                repo_label(a.repo_path, a.repo_id),
                a.title,
                key=str(a.seq) + ":" + a.kind,
            )
        self.loaded += msg.rows
        self.more = msg.more
        n = len(self.loaded)
        self.query_one("#alerts-summary", Static).update(
            f"{n:,} alert(s){' — scroll down for more' if msg.more else ''}" if n else "no alerts"
        )

    @on(DataTable.RowHighlighted, "#alerts")
    def _maybe_more(self, event: DataTable.RowHighlighted) -> None:
        if self.more and not self._loading_more and event.cursor_row >= len(self.loaded) - 1:
            self._loading_more = True
            self.load(append=True)

    @on(DataTable.RowSelected, "#alerts")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(OpenRequest(int(event.row_key.value.split(":")[0])))

    def on_log_changed(self, _: LogChanged) -> None:
        """New events may raise alerts."""
        self.load(append=False, limit=max(PAGE, len(self.loaded)))
