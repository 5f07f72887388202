"""Messages between workers, widgets, screens and the app (dataclasses: typed, no dict payloads)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from pretense_dev.audit.alerts import Alert
from pretense_dev.audit.chain import Head
from pretense_dev.audit.queries import EventRow, SessionRow
from pretense_dev.audit.store import StoredEvent


@dataclass
class LogChanged(Message):
    """Another process committed to the log (``PRAGMA data_version`` moved).

    Comes in bursts while the proxy is busy; a pending one stands for all.
    """

    def can_replace(self, message: Message) -> bool:
        """Coalesce a burst into one reload."""
        return isinstance(message, LogChanged)


@dataclass
class FirstPageShown(Message):
    """The sessions screen has painted its first page: heavy work may start now."""


@dataclass
class ChainChecked(Message):
    """A verify worker finished (full, or the rows since the last check)."""

    full: bool
    rows: int
    head: Head | None
    problems: int
    first_problem: str
    error: str = ""


@dataclass
class FiltersChanged(Message):
    """The filter bar changed: a new query is needed."""

    repo: str
    tool: str
    decision: str
    window: float | None  # seconds back from now; None: any time
    search: str


@dataclass
class SessionsLoaded(Message):
    """A page of sessions (``append``: after the rows shown, else replacing them)."""

    rows: list[SessionRow]
    append: bool
    more: bool


@dataclass
class SessionsCounted(Message):
    """How many sessions match, and the filter menus: sent after the page, which paints first."""

    total: int
    options: tuple[list[tuple[str, str]], list[str]] | None = None


@dataclass
class SessionLoaded(Message):
    """A session's summary and a page of its events."""

    session: SessionRow | None
    rows: list[EventRow]
    append: bool
    more: bool


@dataclass
class EventLoaded(Message):
    """One event for the detail screen."""

    stored: StoredEvent | None


@dataclass
class AlertsLoaded(Message):
    """A page of alerts."""

    rows: list[Alert]
    append: bool
    more: bool


@dataclass
class OpenSession(Message):
    """A screen asks to show one session.

    The app owns navigation: screens post this instead of importing each other,
    so the screens depend on the app's messages and never on one another.
    """

    key: str


@dataclass
class OpenRequest(Message):
    """A screen asks to show one logged request, by its row number."""

    seq: int
