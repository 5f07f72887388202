"""End to end in a real terminal: `pretense-dev audit` under tmux, live updates included.

Needs tmux (Debian: ``apt-get install -y tmux``).  If it is missing the test
tries that install when it runs as root with apt-get (a CI container); it skips,
saying why, only if tmux cannot be had.  Waits poll the captured screen for the
expected text (a condition, with a deadline), never a fixed sleep.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pretense_dev.audit.events import AuditEvent
from pretense_dev.audit.store import AuditStore


def _tmux() -> str:
    found = shutil.which("tmux")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "tmux"],
            capture_output=True,
            check=False,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("tmux")
        if found:
            return found
    pytest.skip("tmux is not installed and could not be installed (CI: apt-get install -y tmux)")


class Term:
    """One tmux server (own socket, so it gets this test's environment) and session."""

    def __init__(self, tmux: str) -> None:
        self.tmux = tmux
        self.socket = f"pretense-audit-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        # An explicit env: under pytest the C-level environment carries COLUMNS=80 and
        # LINES=24 (set behind os.environ's back), which the app would take as its size.
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        return subprocess.run(
            [self.tmux, "-L", self.socket, *args],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "audit").stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "audit", *keys)

    def wait_for(self, what: Callable[[str], bool], label: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if what(text):
                return text
            if time.monotonic() > deadline:
                size = self.run("display", "-p", "-t", "audit", "#{window_width}x#{window_height}")
                raise AssertionError(
                    f"timed out waiting for {label}; {size.stdout.strip()} screen:\n{text}"
                )
            time.sleep(0.05)  # polling interval for a condition, not a timing assumption

    def alive(self) -> bool:
        return self.run("has-session", "-t", "audit").returncode == 0


@pytest.fixture
def term() -> Iterator[Term]:
    t = Term(_tmux())
    try:
        yield t
    finally:
        t.run("kill-server")


def test_browse_and_see_new_events_arrive(term: Term, tmp_path: Path) -> None:
    from pretense_dev.audit.sample import sample_events

    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        store.append_many(sample_events(6))
    cmd = f"TERM=xterm-256color {sys.executable} -m pretense_dev audit --db {db}"
    r = term.run("new-session", "-d", "-s", "audit", "-x", "140", "-y", "36", cmd)
    assert r.returncode == 0, r.stderr

    first = term.wait_for(
        lambda s: "6 of 6 session(s)" in s and "⛓ intact · 36 rows" in s,
        "the sessions list and the verified chain",
    )
    assert first.index("2026-01-01 01:47") < first.index("2026-01-01 00:02")  # newest first

    term.keys("Enter")
    term.wait_for(
        lambda s: "session_started" in s and "pretense-dev audit · session" in s, "a session"
    )
    term.keys("Escape")
    term.wait_for(lambda s: "6 of 6 session(s)" in s, "back to sessions")
    term.keys("a")
    term.wait_for(
        lambda s: (
            "4 alert(s)" in s
            and "request went out unprotected" in s
            and "secret in a request (github-pat): blocked" in s
        ),
        "the alerts list",
    )
    term.keys("Escape")
    term.wait_for(lambda s: "6 of 6 session(s)" in s, "back to sessions")

    # Another process (the proxy) writes: the list and the chain indicator follow.
    with AuditStore(db) as store:
        store.append(
            AuditEvent(
                "request", session_id="live-e2e-session", tool="claude-code",
                time=1767225600.0 + 86400, decision="forwarded", mutation_active=True,
            )
        )  # fmt: skip
    live = term.wait_for(lambda s: "7 of 7 session(s)" in s, "the new session")
    assert "live-e2e-session" in live
    term.wait_for(lambda s: "⛓ intact · 37 rows" in s, "the chain indicator")

    term.keys("q")
    deadline = time.monotonic() + 15
    while term.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not term.alive(), "the app did not exit on q"
