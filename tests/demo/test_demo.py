"""`pretense-dev demo` end to end: the proxy step (official SDKs, replay vendor) and its output."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from pretense_dev.demo.console import changed_tokens, wrap_tokens
from pretense_dev.integrations.base import TOOLS
from tests.conftest import REPO_ROOT, open_terminal, read_terminal, run_cli, terminal_env


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
    assert "\x1b[" not in out  # piped: plain text, no terminal codes
    # The tools step sets up every tool init knows, and gives every byte back.
    assert f"pretense-dev init --tools {','.join(TOOLS)}" in out
    assert all(re.search(rf"^{t}: wrote ", out, re.M) for t in TOOLS), out
    assert "every file is back byte for byte" in out


# -- the terminal view ---------------------------------------------------------


LEFT = "        booked_net_cents = self.ledger_client.net_for_batch(batch.batch_reference)"
RIGHT = "        var_gq6vcs = self.fld_jz8k4a.net_for_batch(batch.fld_955pr9)"
SNIPPET = f"""
from pretense_dev.demo.console import heading, side_by_side
heading("billing/ledger.py")
side_by_side({LEFT!r}, {RIGHT!r}, 80, ("on your machine", "what the AI vendor sees"))
"""
SGR = re.compile(r"\x1b\[[0-9;]*m")


def _on_a_terminal(columns: int, env_extra: dict[str, str], snippet: str = SNIPPET) -> str:
    """Run `snippet` with stdout on a pseudo-terminal of `columns` columns; what it printed."""
    master, slave = open_terminal(columns)
    p = subprocess.Popen(
        [sys.executable, "-c", snippet],
        stdout=slave,
        stderr=slave,
        env=terminal_env(env_extra),
        cwd=REPO_ROOT,
    )
    os.close(slave)
    text = read_terminal(master).decode("utf-8").replace("\r\n", "\n")
    assert p.wait(timeout=30) == 0, text
    return text


def test_on_a_terminal_the_view_fits_the_width_and_highlights_whole_names() -> None:
    raw = _on_a_terminal(80, {})
    assert "\x1b[1;33mbooked_net_cents\x1b[0m" in raw  # the original, highlighted
    assert "\x1b[1;36mfld_955pr9\x1b[0m" in raw  # its synthetic, highlighted
    plain = SGR.sub("", raw)
    assert max(len(line) for line in plain.splitlines()) <= 80
    rows = [line.split(" │ ") for line in plain.splitlines() if " │ " in line]
    left = "".join(r[0].rstrip() if r[0].strip() else "" for r in rows[1:])
    right = "".join(r[1] for r in rows[1:])
    # Every name is shown whole, on one row, in its column.
    for name in ("booked_net_cents", "ledger_client", "batch_reference"):
        assert any(name in r[0] for r in rows), name
    for name in ("var_gq6vcs", "fld_jz8k4a", "fld_955pr9"):
        assert any(name in r[1] for r in rows), name
    assert "net_for_batch" in left and "net_for_batch" in right


def test_on_a_terminal_a_long_line_wraps_at_spaces_under_its_own_indent() -> None:
    snippet = (
        "from pretense_dev.demo.console import out\n"
        "out('  pretense-dev: 1 secret(s) found (staged changes); the values are not shown')\n"
        "out('head 71:sha256:51f4450f7f883ae138cd61a994924a560d1fe50401f1940fc21adf0b045516a7')\n"
    )
    plain = SGR.sub("", _on_a_terminal(40, {}, snippet))
    assert plain.splitlines() == [
        "  pretense-dev: 1 secret(s) found",
        "    (staged changes); the values are not",
        "    shown",
        # A word longer than a row is the one thing cut (a hash here).
        "head 71:sha256:51f4450f7f883ae138cd61a99",
        "  4924a560d1fe50401f1940fc21adf0b045516a",
        "  7",
    ]


def test_the_side_by_side_indents_continuation_rows_under_their_line() -> None:
    plain = SGR.sub("", _on_a_terminal(80, {}))
    rows = [line.split(" │ ") for line in plain.splitlines() if " │ " in line][1:]
    assert [r[0].rstrip() for r in rows] == [
        "        booked_net_cents = self.",
        "            ledger_client.",
        "            net_for_batch(batch.",
        "            batch_reference)",
    ]
    assert [r[1].rstrip() for r in rows] == [
        "        var_gq6vcs = self.fld_jz8k4a.",
        "            net_for_batch(batch.",
        "            fld_955pr9)",
        "",
    ]


def test_the_whole_demo_on_an_80_column_terminal_fits_and_is_coloured() -> None:
    from rich.cells import cell_len

    master, slave = open_terminal(80)
    p = subprocess.Popen(
        [sys.executable, "-m", "pretense_dev", "demo"],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=terminal_env({}),
        cwd=REPO_ROOT,
    )
    os.close(slave)
    raw = read_terminal(master).decode("utf-8").replace("\r\n", "\n")
    assert p.wait(timeout=300) == 0, raw[-2000:]
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw)
    too_wide = [line for line in plain.splitlines() if cell_len(line) > 80]
    assert too_wide == []
    # Names highlighted: an original in yellow, its synthetic in cyan.
    assert "\x1b[1;33mLedgerReconciler\x1b[0m" in raw
    assert re.search(r"\x1b\[1;36mCls\d+\x1b\[0m", raw)
    assert "Ignoring notification" not in plain and "LEAK" not in plain
    assert "every file is back byte for byte" in plain
    assert "verify caught every change" in plain


def test_no_color_keeps_the_layout_without_colour() -> None:
    raw = _on_a_terminal(80, {"NO_COLOR": "1"})
    codes = {c for m in SGR.findall(raw) for c in m[2:-1].split(";") if c}
    assert not codes & {str(n) for n in (*range(30, 38), *range(90, 98))}, codes
    assert "fld_955pr9" in raw


@given(
    st.lists(
        st.sampled_from(
            ["fld_955pr9", "self", ".", "(", ")", " ", "    ", "x", "a_very_long_name_" * 3]
        ),
        max_size=30,
    ),
    st.integers(10, 60),
    st.integers(0, 8),
)
def test_wrapping_keeps_every_character_and_splits_no_name_that_fits(
    parts: list[str], col: int, indent: int
) -> None:
    line = "".join(parts)
    tokens, _ = changed_tokens(line, line)
    rows = wrap_tokens(tokens, col, indent)
    assert "".join(t for row in rows for t, _ in row) == line
    assert sum(len(t) for t, _ in rows[0]) <= col
    assert all(sum(len(t) for t, _ in row) <= col - indent for row in rows[1:])
    for tok, _ in tokens:
        if tok[:1].isalnum() and len(tok) <= col - indent:
            assert any(tok in "".join(t for t, _ in row) for row in rows), tok


def test_wrapping_breaks_at_spaces_and_keeps_punctuation_with_its_word() -> None:
    line = 'The double count comes from `LedgerReconciler`: it calls "enterprise" once.'
    tokens, _ = changed_tokens(line, line)
    rows = ["".join(t for t, _ in row) for row in wrap_tokens(tokens, 38, 4)]
    assert rows == [
        "The double count comes from ",
        "`LedgerReconciler`: it calls ",
        '"enterprise" once.',
    ]
