"""`pretense-dev demo` end to end: the proxy step (official SDKs, replay vendor) and its output."""

from __future__ import annotations

from tests.conftest import run_cli


def test_demo_shows_both_sides_and_blocks_the_token() -> None:
    r = run_cli("demo")
    assert r.code == 0, r.err
    out = r.out
    assert "== pretense-dev proxy start" in out and "stopped the proxy" in out
    assert "what the vendor received" in out and "what you saw" in out
    assert "the proxy answered 400: pretense-dev blocked this request" in out
    assert "requests the vendor received: 0" in out
    assert "LEAK" not in out and "NOT BLOCKED" not in out
    # Nothing stray: the editor's pop-ups are shown as such, counts agree with their noun.
    assert "Ignoring notification" not in out + r.err
    assert "  pop-up │ pretense-dev: the proxy is not running" in out
    assert "1 drift events" not in out and "1 drift event" in out
