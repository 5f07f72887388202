"""What every demo step prints with: one context and the output helpers.

A leaf module of the demo: the steps import it, and nothing here imports a
step or a part, so the demo depends on the parts and never the other way round.

On a terminal the demo uses Rich: colour (unless ``NO_COLOR`` is set, which
Rich honours), headings as rules, long lines wrapped at word boundaries, and
the side-by-side views as a two-column table fitted to the terminal's width
in which the names that changed are highlighted and wrap rather than being cut.
Piped or redirected, the output is plain text, one line per line, so it can be
read in a log or compared in a test.
"""

from __future__ import annotations

import difflib
import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

# Identifiers and everything between them: a changed name is a changed token.
_TOKENS = re.compile(r"[A-Za-z0-9_]+|[^A-Za-z0-9_]+")
ORIGINAL_STYLE = "bold yellow"
SYNTHETIC_STYLE = "bold cyan"


@dataclass
class DemoContext:
    """What the steps share."""

    base: Path  # temp dir holding the repo and the fake HOME
    repo: Path
    width: int


@functools.cache
def rich_console() -> Console | None:
    """Rich's console when stdout is a terminal; None when piped (plain text then)."""
    if not sys.stdout.isatty():
        return None
    from rich.console import Console

    return Console(highlight=False)


def out(line: str = "") -> None:
    """Demo output goes to stdout: it is what the user asked to see."""
    console = rich_console()
    if console is None:
        sys.stdout.write(line + "\n")
        return
    from rich.text import Text

    console.print(Text(line))


def count(n: int, noun: str) -> str:
    """`1 drift event`, `2 drift events`: a figure a reader can say aloud."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def heading(text: str) -> None:
    """A section title."""
    console = rich_console()
    if console is None:
        out()
        out(f"== {text} " + "=" * max(0, 70 - len(text)))
        return
    from rich.text import Text

    console.print()
    console.rule(Text(text, style="bold"), align="left", style="dim")


def changed_tokens(left: str, right: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Both lines as (token, changed) pairs: the names the mutation replaced are `changed`."""
    a, b = _TOKENS.findall(left), _TOKENS.findall(right)
    ma = [False] * len(a)
    mb = [False] * len(b)
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op != "equal":
            for i in range(i1, i2):
                ma[i] = a[i][:1].isalnum() or a[i][:1] == "_"
            for j in range(j1, j2):
                mb[j] = b[j][:1].isalnum() or b[j][:1] == "_"
    return list(zip(a, ma, strict=True)), list(zip(b, mb, strict=True))


def wrap_tokens(tokens: list[tuple[str, bool]], col: int) -> list[list[tuple[str, bool]]]:
    """Cut a line into rows of at most `col` characters, never inside a name that fits a row.

    Rich wraps at spaces only, so `self.fld_jz8k4a.net_for_batch(batch.fld_955pr9)`
    would be cut mid-name; here a row may end after any punctuation instead.
    """
    rows: list[list[tuple[str, bool]]] = [[]]
    used = 0
    for tok, changed in tokens:
        is_name = tok[:1].isalnum() or tok[:1] == "_"
        while tok:
            room = col - used
            if len(tok) <= room:
                rows[-1].append((tok, changed))
                used += len(tok)
                break
            if is_name and used and len(tok) <= col:
                rows.append([])  # the whole name on the next row
                used = 0
                continue
            if room == 0:
                rows.append([])
                used = 0
                continue
            rows[-1].append((tok[:room], changed))
            tok = tok[room:]
            rows.append([])
            used = 0
    return rows


def _styled(tokens: list[tuple[str, bool]], style: str, col: int) -> Text:
    from rich.text import Text

    t = Text()
    for tok, changed in tokens:
        t.append(tok, style=style if changed else "")
    t.pad_right(col - t.cell_len)
    return t


def side_by_side(left: str, right: str, width: int, titles: tuple[str, str]) -> None:
    """Two texts in columns: fitted and highlighted on a terminal, clipped when piped."""
    console = rich_console()
    a, b = left.expandtabs(4).splitlines(), right.expandtabs(4).splitlines()
    if console is None:
        col = max(30, (width - 3) // 2)
        out(f"{titles[0]:<{col}} │ {titles[1]}")
        out(f"{'─' * col}─┼─{'─' * col}")
        for i in range(max(len(a), len(b))):
            x = a[i] if i < len(a) else ""
            y = b[i] if i < len(b) else ""
            x = x if len(x) <= col else x[: col - 1] + "…"
            y = y if len(y) <= col else y[: col - 1] + "…"
            out(f"{x:<{col}} │ {y}")
        return
    from rich.text import Text

    col = max(10, (console.width - 3) // 2)
    sep = Text(" │ ", style="dim")
    console.print(
        Text.assemble(
            Text(titles[0][:col].ljust(col), style="bold"), sep, Text(titles[1][:col], style="bold")
        )
    )
    console.print(Text(f"{'─' * col}─┼─{'─' * col}", style="dim"))
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else ""
        y = b[i] if i < len(b) else ""
        tx, ty = changed_tokens(x, y)
        rx, ry = wrap_tokens(tx, col), wrap_tokens(ty, col)
        for j in range(max(len(rx), len(ry))):
            cx = rx[j] if j < len(rx) else []
            cy = ry[j] if j < len(ry) else []
            console.print(
                Text.assemble(
                    _styled(cx, ORIGINAL_STYLE, col), sep, _styled(cy, SYNTHETIC_STYLE, 0)
                ),
                no_wrap=True,
                overflow="crop",
            )
