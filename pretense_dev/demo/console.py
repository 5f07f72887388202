"""What every demo step prints with: one context and the output helpers.

A leaf module of the demo: the steps import it, and nothing here imports a
step or a part, so the demo depends on the parts and never the other way round.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class DemoContext:
    """What the steps share."""

    base: Path  # temp dir holding the repo and the fake HOME
    repo: Path
    width: int


def out(line: str = "") -> None:
    """Demo output goes to stdout: it is what the user asked to see."""
    sys.stdout.write(line + "\n")


def count(n: int, noun: str) -> str:
    """`1 drift event`, `2 drift events`: a figure a reader can say aloud."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def heading(text: str) -> None:
    """A section title."""
    out()
    out(f"== {text} " + "=" * max(0, 70 - len(text)))


def side_by_side(left: str, right: str, width: int, titles: tuple[str, str]) -> None:
    """Print two texts in columns, clipped to the terminal width."""
    col = max(30, (width - 3) // 2)
    out(f"{titles[0]:<{col}} │ {titles[1]}")
    out(f"{'─' * col}─┼─{'─' * col}")
    a, b = left.splitlines(), right.splitlines()
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else ""
        y = b[i] if i < len(b) else ""
        x = x.expandtabs(4)
        y = y.expandtabs(4)
        x = x if len(x) <= col else x[: col - 1] + "…"
        y = y if len(y) <= col else y[: col - 1] + "…"
        out(f"{x:<{col}} │ {y}")
