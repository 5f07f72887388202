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
    import textwrap

    from rich.text import Text

    for part in line.split("\n"):
        # Wrapped at spaces, continuation rows indented under their line's text.
        lead = " " * (len(part) - len(part.lstrip(" ")))
        rows = textwrap.wrap(
            part,
            console.width,
            subsequent_indent=lead + "  ",
            break_on_hyphens=False,
            drop_whitespace=True,
        ) or [""]
        for row in rows:
            console.print(Text(row), no_wrap=True, overflow="fold")


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


def wrap_tokens(
    tokens: list[tuple[str, bool]], col: int, indent: int = 0
) -> list[list[tuple[str, bool]]]:
    """Cut a line into rows: at spaces where possible, never inside a name that fits a row.

    Rich wraps at spaces only, so `self.fld_jz8k4a.net_for_batch(batch.fld_955pr9)`
    would be cut mid-name; a run without spaces longer than a row is cut after
    punctuation instead.  Rows after the first are `indent` columns narrower:
    the caller shows them indented, so a continuation reads as one.  Every
    character of the line is in exactly one row, in order.
    """
    pieces: list[tuple[str, bool]] = []
    for tok, changed in tokens:  # punctuation runs split at spaces: ")," and " "
        pieces += [(p, changed) for p in re.findall(r"\s+|\S+", tok)]
    rows: list[list[tuple[str, bool]]] = [[]]
    used = 0

    def room() -> int:
        return (col if len(rows) == 1 else max(1, col - indent)) - used

    def new_row() -> None:
        nonlocal used
        rows.append([])
        used = 0

    def place(tok: str, changed: bool, is_name: bool) -> None:
        """The old rule for one piece: whole if it fits a row, else cut to fill rows."""
        nonlocal used
        while tok:
            if len(tok) <= room():
                rows[-1].append((tok, changed))
                used += len(tok)
                return
            if is_name and used and len(tok) <= col - indent:
                new_row()  # the whole name on the next row
                continue
            if room() <= 0:
                new_row()
                continue
            n = room()
            rows[-1].append((tok[:n], changed))
            tok = tok[n:]
            new_row()

    i = 0
    while i < len(pieces):
        tok, changed = pieces[i]
        if tok.isspace():
            fit = min(len(tok), max(0, room()))
            if fit:
                rows[-1].append((tok[:fit], changed))
                used += fit
            if fit < len(tok):  # a row exactly full: the rest of the space starts the next
                new_row()
                place(tok[fit:], changed, False)
            i += 1
            continue
        j = i
        while j < len(pieces) and not pieces[j][0].isspace():
            j += 1
        word = pieces[i:j]
        width = sum(len(t) for t, _ in word)
        if width > room() and used and width <= col - indent:
            new_row()  # the word whole on the next row
        for t, c in word:
            place(t, c, t[:1].isalnum() or t[:1] == "_")
        i = j
    return rows


def _lstrip(row: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """A row without its leading spaces (shown only: the wrap keeps every character)."""
    while row and row[0][0].isspace():
        row = row[1:]
    return row


def _indent_of(line: str, col: int) -> int:
    """How far continuation rows are indented: the line's own indent and 4, within reason."""
    return min(len(line) - len(line.lstrip(" ")) + 4, col // 3)


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
        ix, iy = _indent_of(x, col), _indent_of(y, col)
        rx, ry = wrap_tokens(tx, col, ix), wrap_tokens(ty, col, iy)
        for j in range(max(len(rx), len(ry))):
            cx = rx[j] if j < len(rx) else []
            cy = ry[j] if j < len(ry) else []
            if j:  # a continuation row, indented under its line (its own leading space goes)
                cx = [(" " * ix, False), *_lstrip(cx)] if cx else cx
                cy = [(" " * iy, False), *_lstrip(cy)] if cy else cy
            console.print(
                Text.assemble(
                    _styled(cx, ORIGINAL_STYLE, col), sep, _styled(cy, SYNTHETIC_STYLE, 0)
                ),
                no_wrap=True,
                overflow="crop",
            )
