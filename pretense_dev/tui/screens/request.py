"""One event in full: what was protected (names, never prompt text), the decision and why."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from pretense_dev.audit.store import AuditStore, StoredEvent
from pretense_dev.audit.timespec import short
from pretense_dev.tui.data import repo_label, size
from pretense_dev.tui.messages import EventLoaded, OpenSession
from pretense_dev.tui.widgets.top_bar import TopBar


class RequestScreen(Screen[None]):
    """Detail of the event at row `seq`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("s", "open_session", "Session"),
    ]

    def __init__(self, db: Path, seq: int) -> None:
        super().__init__()
        self.db = db
        self.seq = seq
        self.stored: StoredEvent | None = None

    def compose(self) -> ComposeResult:
        """Bar and the detail text."""
        yield TopBar(f"pretense-dev audit · row {self.seq}")
        with VerticalScroll(classes="detail-scroll"):
            yield Static("loading…", id="detail", classes="detail")
        yield Footer()

    def on_mount(self) -> None:
        """Load the row."""
        self.load()

    @work(thread=True, exclusive=True, group="request")
    def load(self) -> None:
        """Read the stored event."""
        with AuditStore.open_readonly(self.db) as store:
            found = list(store.events("seq = ?", (self.seq,)))
        self.post_message(EventLoaded(found[0] if found else None))

    def on_event_loaded(self, msg: EventLoaded) -> None:
        """Render it."""
        self.stored = msg.stored
        detail = self.query_one("#detail", Static)
        if msg.stored is None:
            detail.update(f"row {self.seq} is not in the log")
            return
        detail.update(render(msg.stored))

    def action_open_session(self) -> None:
        """Open the session this event belongs to."""
        if self.stored is None:
            return
        e = self.stored.event
        key = e.session_id or (f"nosession:{e.tool}:{e.repo_id}:{short(e.time)[:10]}")
        self.post_message(OpenSession(key))


def render(stored: StoredEvent) -> Text:
    """The event as labelled lines; only what the log holds (no prompt text exists in it)."""
    e = stored.event
    t = Text()

    def line(label: str, value: str | Text, style: str = "") -> None:
        t.append(f"{label:<14}", style="bold")
        if isinstance(value, Text):
            t.append_text(value)
        else:
            t.append(value, style=style)
        t.append("\n")

    t.append(f"{e.event} · row {stored.seq} · {short(e.time)} UTC\n\n", style="bold")
    unprotected = e.event == "request" and e.decision == "forwarded" and not e.mutation_active
    decision = Text(e.decision or "-", style="bold red" if unprotected else "bold")
    if e.reason:
        decision.append(f" — {e.reason}", style="")
    line("decision", decision)
    if e.event == "request":
        line(
            "protection",
            "UNPROTECTED: mutation was not active"
            if unprotected
            else ("identifiers replaced" if e.mutation_active else "not forwarded"),
            "bold white on red" if unprotected else "green",
        )
        line("vendor", f"{e.vendor or '-'} · {e.model or '-'} · {e.endpoint or '-'}")
        status = f"{e.upstream_status}" if e.upstream_status else "-"
        line("upstream", f"status {status} · {e.latency_ms:,.1f} ms")
        line(
            "sizes",
            f"request {size(e.request_bytes)} · response {size(e.response_bytes)} · "
            f"conversation {size(e.context_bytes)}",
        )
    line("session", e.session_id or "(none)")
    line("who", f"{e.tool or '?'} · {e.user or '?'}@{e.machine or '?'}")
    line("repository", f"{repo_label(e.repo_path, e.repo_id)} ({e.repo_path or e.repo_id or '?'})")
    t.append("\n")
    t.append(f"names protected ({e.identifiers_protected})\n", style="bold")
    if e.identifiers:
        t.append("  " + "  ".join(e.identifiers) + "\n")
    else:
        t.append("  none\n", style="dim")
    t.append(f"\nsecrets ({len(e.secrets)})\n", style="bold")
    for s in e.secrets:
        where = f" at {s.where}" if s.where else ""
        t.append(f"  {s.rule} {s.fingerprint}{where}\n", style="red")
    if not e.secrets:
        t.append("  none\n", style="dim")
    if e.files:
        t.append(f"\nfiles ({len(e.files)})\n", style="bold")
        for f in e.files:
            t.append(f"  {f}\n")
    t.append("\nchain\n", style="bold")
    t.append(f"  prev {stored.prev_hash}\n  hash {stored.hash}\n", style="dim")
    return t
