"""One session: its summary and its events, paged; Enter opens an event."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Select, Static

from pretense_dev.audit import queries
from pretense_dev.audit.queries import EventRow, SessionRow
from pretense_dev.audit.timespec import duration, short
from pretense_dev.tui.data import reading, repo_label, size, status_text
from pretense_dev.tui.messages import LogChanged, OpenRequest, SessionLoaded
from pretense_dev.tui.widgets.filter_bar import DECISIONS
from pretense_dev.tui.widgets.top_bar import TopBar

PAGE = 200
COLUMNS = [  # fixed widths, as in screens/sessions.py
    ("row", 8),
    ("time (UTC)", 10),
    ("event", 17),
    ("endpoint", 22),
    ("decision", 11),
    ("names", 5),
    ("secrets", 7),
    ("context", 8),
    ("latency", 9),
    ("status", 6),
]


def decision_text(row: EventRow) -> Text:
    """Decision, in red when a request went out unprotected."""
    if row.event == "request" and row.decision == "forwarded" and not row.mutation_active:
        return Text("UNPROTECTED", style="bold white on red")
    style = {"blocked": "yellow", "error": "magenta", "forwarded": "green"}.get(row.decision, "")
    return Text(row.decision or "-", style=style)


class SessionScreen(Screen[None]):
    """A session's events."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("slash", "focus_search", "Search"),
    ]

    def __init__(self, db: Path, session: str) -> None:
        super().__init__()
        self.db = db
        self.session = session
        self.loaded: list[EventRow] = []
        self.more = False
        self._loading_more = False
        self.decision = ""
        self.search = ""

    def compose(self) -> ComposeResult:
        """Bar, summary, filters, events."""
        yield TopBar("pretense-dev audit · session")
        yield Static("loading…", id="session-summary", classes="session-summary")
        with Horizontal(classes="filter-bar"):
            yield Input(placeholder="/ search names, files, rules, reasons", id="event-search")
            yield Select[str](DECISIONS, prompt="decision", id="event-decision")
        table: DataTable[Any] = DataTable(id="events", cursor_type="row", zebra_stripes=True)
        for label, width in COLUMNS:
            table.add_column(label, width=width)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        """First page."""
        self.query_one(DataTable).focus()
        self.load(append=False)

    @work(thread=True, exclusive=True, group="session")
    def load(self, append: bool, limit: int = PAGE) -> None:
        """A page of events (after the last one shown when appending)."""
        after = self.loaded[-1].seq if append and self.loaded else 0
        with reading(self.db) as conn:
            row = queries.find_session(conn, self.session)
            rows = queries.session_events(
                conn,
                self.session,
                limit=limit + 1,
                after_seq=after,
                decision=self.decision,
                search=self.search,
            )
        self.post_message(SessionLoaded(row, rows[:limit], append, len(rows) > limit))

    def on_session_loaded(self, msg: SessionLoaded) -> None:
        """Show the summary and a page of events."""
        self._loading_more = False
        if msg.session is not None:
            self.query_one("#session-summary", Static).update(self._summary(msg.session))
        table = self.query_one("#events", DataTable)
        keep = None
        if not msg.append:
            if table.row_count and table.cursor_row < len(self.loaded):
                keep = self.loaded[table.cursor_row].seq
            table.clear()
            self.loaded = []
        for r in msg.rows:
            table.add_row(*self._cells(r), key=str(r.seq))
        self.loaded += msg.rows
        self.more = msg.more
        if keep is not None:
            for i, r in enumerate(self.loaded):
                if r.seq == keep:
                    table.move_cursor(row=i, animate=False)
                    break

    @staticmethod
    def _summary(s: SessionRow) -> Text:
        t = Text()
        t.append(s.label, style="bold")
        t.append("  ")
        t.append_text(status_text(s.status))
        t.append(
            f"\n{s.tool or '?'} · {s.user or '?'}@{s.machine or '?'} · "
            f"{repo_label(s.repo_path, s.repo_id)} · {s.vendor or '-'} {s.model}\n"
            f"{short(s.first_time)} → {short(s.last_time)} ({duration(s.last_time - s.first_time)})"
            f" · {s.requests} requests · {s.prompts} prompts · {s.blocked} blocked · "
            f"up to {s.names} names protected · largest context {size(s.context_max)}"
        )
        return t

    @staticmethod
    def _cells(r: EventRow) -> list[object]:
        return [
            str(r.seq),
            short(r.time)[11:] if r.time else "",
            r.event,
            r.endpoint or "-",
            decision_text(r),
            str(r.identifiers_protected) if r.event == "request" else "",
            Text(str(r.secrets_count), style="bold red") if r.secrets_count else "",
            size(r.context_bytes) if r.context_bytes else "",
            f"{r.latency_ms:,.0f} ms" if r.latency_ms else "",
            str(r.upstream_status) if r.upstream_status else "",
        ]

    @on(DataTable.RowHighlighted, "#events")
    def _maybe_more(self, event: DataTable.RowHighlighted) -> None:
        if self.more and not self._loading_more and event.cursor_row >= len(self.loaded) - 1:
            self._loading_more = True
            self.load(append=True)

    @on(DataTable.RowSelected, "#events")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(OpenRequest(int(event.row_key.value)))

    @on(Input.Changed, "#event-search")
    def _search(self, event: Input.Changed) -> None:
        self.search = event.value.strip()
        self.load(append=False)

    @on(Select.Changed, "#event-decision")
    def _decision(self, event: Select.Changed) -> None:
        self.decision = event.value if isinstance(event.value, str) else ""
        self.load(append=False)

    def on_log_changed(self, _: LogChanged) -> None:
        """New events may belong to this session."""
        self.load(append=False, limit=max(PAGE, len(self.loaded)))

    def action_focus_search(self) -> None:
        """Jump to the search box."""
        self.query_one("#event-search", Input).focus()
