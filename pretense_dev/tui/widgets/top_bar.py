"""The bar at the top of every screen: where you are, and the chain status."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from pretense_dev.tui.widgets.chain_status import ChainStatus


class TopBar(Horizontal):
    """Title on the left, chain status on the right."""

    def __init__(self, title: str) -> None:
        super().__init__(classes="top-bar")
        self._title = title

    def compose(self) -> ComposeResult:
        """Title and indicator."""
        yield Static(self._title, classes="title")
        yield ChainStatus(classes="chain-status")
