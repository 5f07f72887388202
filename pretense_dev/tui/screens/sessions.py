"""The first screen: sessions, most recently active first, filtered and paged."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import get_current_worker

from pretense_dev.audit import queries
from pretense_dev.audit.queries import Filter, SessionRow
from pretense_dev.audit.timespec import short
from pretense_dev.tui.data import reading, repo_label, status_text
from pretense_dev.tui.messages import (
    FiltersChanged,
    FirstPageShown,
    LogChanged,
    OpenSession,
    SessionsCounted,
    SessionsLoaded,
)
from pretense_dev.tui.widgets.filter_bar import FilterBar
from pretense_dev.tui.widgets.top_bar import TopBar

PAGE = 100  # rows per page: ~13 ms of DataTable work (0.13 ms/row with Textual 8.2)

# Fixed widths: a page arriving later cannot make the columns jump, and nothing
# depends on DataTable measuring cells on idle (which a loaded machine showed
# can leave auto widths at the header's width until the next event).
COLUMNS = [  # 118 columns + padding: fits a 140-column terminal
    ("last (UTC)", 16),
    ("tool", 11),
    ("repository", 14),
    ("vendor", 9),
    ("model", 17),
    ("requests", 8),
    ("names", 5),
    ("blocked", 7),
    ("status", 11),
    ("session (prefix)", 20),
]


class SessionsScreen(Screen[None]):
    """Sessions list; Enter opens one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", "Search"),
        Binding("escape", "focus_table", "Table", show=False),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, db: Path) -> None:
        super().__init__()
        self.db = db
        self.filters = FiltersChanged("", "", "", None, "")
        self.loaded: list[SessionRow] = []
        self.more = False
        self._loading_more = False
        self._shown = False
        self.total: int | None = None

    def compose(self) -> ComposeResult:
        """Bar, filters, table, summary, key help."""
        yield TopBar("pretense-dev audit · sessions")
        yield FilterBar(classes="filter-bar")
        table: DataTable[Any] = DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
        for label, width in COLUMNS:
            table.add_column(label, width=width)
        yield table
        yield Static("loading…", id="summary", classes="summary")
        yield Footer()

    def on_mount(self) -> None:
        """First page."""
        self.query_one(DataTable).focus()
        self.load(append=False, options=True)

    def filter(self) -> Filter:
        """The query filter for the current controls (time window from the app's clock)."""
        f = self.filters
        since = None if f.window is None else self.app_clock() - f.window
        return Filter(repo=f.repo, tool=f.tool, decision=f.decision, since=since, search=f.search)

    def app_clock(self) -> float:
        """Now, from the app's clock (`AuditApp` takes one, so tests can pin time)."""
        clock = getattr(self.app, "clock", time.time)
        return float(clock())

    @work(thread=True, exclusive=True, group="sessions")
    def load(self, append: bool, options: bool = False, limit: int = PAGE) -> None:
        """Query a page in a worker thread; then the count and the filter menus.

        The page is posted first so it paints without waiting for the count
        (which scans an index: ~5 ms per 100k sessions).
        """
        flt = self.filter()
        before = None
        if append and self.loaded:
            last = self.loaded[-1]
            before = (last.last_time, last.session)
        with reading(self.db) as conn:
            rows = queries.sessions(conn, flt, limit=limit + 1, before=before)
            self.post_message(SessionsLoaded(rows[:limit], append, len(rows) > limit))
            if get_current_worker().is_cancelled:
                return
            total = queries.session_count(conn, flt)
            opts = queries.filter_options(conn) if options else None
        self.post_message(SessionsCounted(total, opts))

    def on_sessions_loaded(self, msg: SessionsLoaded) -> None:
        """Show a page (replace, or append after the rows shown)."""
        table = self.query_one("#sessions", DataTable)
        self._loading_more = False
        keep = None
        if not msg.append:
            if table.row_count and table.cursor_row < len(self.loaded):
                keep = self.loaded[table.cursor_row].session
            table.clear()
            self.loaded = []
        for row in msg.rows:
            table.add_row(*self._cells(row), key=row.session)
        self.loaded += msg.rows
        self.more = msg.more
        if keep is not None:
            for i, row in enumerate(self.loaded):
                if row.session == keep:
                    table.move_cursor(row=i, animate=False)
                    break
        self._show_summary()
        if not self._shown:
            self._shown = True
            self.call_after_refresh(self.post_message, FirstPageShown())

    def on_sessions_counted(self, msg: SessionsCounted) -> None:
        """The total for the summary line; the filter menus' options."""
        if msg.options is not None:
            self.query_one(FilterBar).set_options(*msg.options)
        self.total = msg.total
        self._show_summary()

    def _show_summary(self) -> None:
        shown = len(self.loaded)
        more = " — scroll down for more" if self.more else ""
        if self.total is None:
            text = f"{shown:,} session(s){more}" if shown else "no sessions match"
        elif self.total:
            text = f"{shown:,} of {self.total:,} session(s){more}"
        else:
            text = "no sessions match"
        self.query_one("#summary", Static).update(text)

    @staticmethod
    def _cells(row: SessionRow) -> list[object]:
        return [
            short(row.last_time),
            row.tool or "?",
            repo_label(row.repo_path, row.repo_id),
            row.vendor or "-",
            row.model or "-",
            str(row.requests if row.requests else row.prompts),
            str(row.names),
            str(row.blocked),
            status_text(row.status),
            row.label,
        ]

    @on(DataTable.RowHighlighted, "#sessions")
    def _maybe_more(self, event: DataTable.RowHighlighted) -> None:
        if self.more and not self._loading_more and event.cursor_row >= len(self.loaded) - 1:
            self._loading_more = True
            self.load(append=True)

    @on(DataTable.RowSelected, "#sessions")
    def _open(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key is not None:
            self.post_message(OpenSession(key))

    def on_filters_changed(self, msg: FiltersChanged) -> None:
        """New filters: back to the first page."""
        self.filters = msg
        self.total = None
        self.load(append=False)

    def on_log_changed(self, _: LogChanged) -> None:
        """New events: refresh what is shown (as many rows as are loaded)."""
        self.load(append=False, options=True, limit=max(PAGE, len(self.loaded)))

    def action_focus_search(self) -> None:
        """Jump to the search box."""
        self.query_one("#search", Input).focus()

    def action_focus_table(self) -> None:
        """Back to the table."""
        self.query_one(DataTable).focus()

    def action_reload(self) -> None:
        """Reload the first page."""
        self.load(append=False, options=True)
