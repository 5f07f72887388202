"""The sessions filter bar: search, repository, tool, decision, time window."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Select

from pretense_dev.tui.data import repo_label
from pretense_dev.tui.messages import FiltersChanged

WINDOWS: list[tuple[str, float]] = [
    ("last 24 hours", 86400.0),
    ("last 7 days", 7 * 86400.0),
    ("last 30 days", 30 * 86400.0),
    ("last 90 days", 90 * 86400.0),
]
DECISIONS: list[tuple[str, str]] = [
    ("any forwarded", "forwarded"),
    ("any blocked", "blocked"),
    ("any error", "error"),
    ("unprotected", "unprotected"),
    ("secret seen", "secret"),
    ("drift", "drift"),
]


class FilterBar(Horizontal):
    """Posts `FiltersChanged` whenever a control changes."""

    def compose(self) -> ComposeResult:
        """The controls; repository and tool options arrive with the first page."""
        yield Input(placeholder="/ search: session, repo, model, user", id="search")
        yield Select[str]([], prompt="repository", id="repo")
        yield Select[str]([], prompt="tool", id="tool")
        yield Select[str](DECISIONS, prompt="decision", id="decision")
        yield Select[float](WINDOWS, prompt="any time", id="window")

    def set_options(self, repos: list[tuple[str, str]], tools: list[str]) -> None:
        """Fill the repository and tool menus (keeps the current choice if still there)."""
        self._set(self.query_one("#repo", Select), [(repo_label(p, r), r) for r, p in repos])
        self._set(self.query_one("#tool", Select), [(t, t) for t in tools])

    @staticmethod
    def _set(select: Select[str], options: list[tuple[str, str]]) -> None:
        current = select.value
        with select.prevent(Select.Changed):
            select.set_options(options)
            if any(v == current for _, v in options):
                select.value = current

    @on(Input.Changed, "#search")
    @on(Select.Changed)
    def _changed(self) -> None:
        self.post_message(self.current())

    def current(self) -> FiltersChanged:
        """The filters as they stand."""

        def value(sel: str) -> str:
            v = self.query_one(sel, Select).value
            return v if isinstance(v, str) else ""

        window = self.query_one("#window", Select).value
        return FiltersChanged(
            repo=value("#repo"),
            tool=value("#tool"),
            decision=value("#decision"),
            window=window if isinstance(window, float) else None,
            search=self.query_one("#search", Input).value.strip(),
        )
