"""The chain-status indicator: whether the log is intact, as far as verified."""

from __future__ import annotations

from textual.widgets import Static

from pretense_dev.tui.messages import ChainChecked


class ChainStatus(Static):
    """Shows the app's latest verify result; updates when the app re-verifies."""

    def on_mount(self) -> None:
        """Follow the app's `chain` state."""
        self.watch(self.app, "chain", self._show)

    def _show(self, state: ChainChecked | None) -> None:
        self.remove_class("intact", "broken", "checking")
        if state is None:
            self.add_class("checking")
            self.update("⛓ verifying…")
        elif state.error:
            self.add_class("broken")
            self.update(f"⛓ cannot verify: {state.error}")
        elif state.problems:
            self.add_class("broken")
            self.update(f"⛓ BROKEN · {state.problems} problem(s) · {state.first_problem}")
        else:
            self.add_class("intact")
            head = f"head {state.head.seq}:{state.head.hash[7:15]}" if state.head else "empty"
            self.update(f"⛓ intact · {state.rows:,} rows · {head}")
