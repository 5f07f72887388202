"""Progress for long commands: a live line on a terminal, nothing extra when piped.

`init` on a large repository, `index --full` and `scan` of a big tree take
seconds to a minute.  When stderr is a terminal they draw a Rich progress bar
on it (what is being done, files done of files to read, names found so far,
time elapsed), which is erased when the work ends and leaves the command's own
summary.  Piped or redirected, nothing is drawn: the summary is the whole
output, so a log or a script gets the result, not a stream of redraws.  Rich is
imported only on a terminal, so the hooks' start-up path never pays for it; it
honours ``NO_COLOR`` (the bar stays, without colour) and ``TERM=dumb``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator

# (files done, files in all, names found so far; -1 when the command counts none)
Report = Callable[[int, int, int], None]


def on_a_terminal() -> bool:
    """Whether progress is drawn: stderr is a terminal that can redraw a line."""
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


@contextlib.contextmanager
def progress(label: str, *, enabled: bool = True) -> Iterator[Report | None]:
    """A `Report` callback drawing on stderr when it is a terminal; None otherwise.

    Callers pass the callback down (None means "report nothing") so the work
    itself never asks where its output goes.  `enabled=False` is for the quick
    variants of a command (a commit hook's `scan --staged`), which must not pay
    for importing Rich.
    """
    if not (enabled and on_a_terminal()):
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files{task.fields[names]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True, highlight=False),
        transient=True,
    )
    task = bar.add_task(label, total=None, names="")

    def report(done: int, total: int, names: int) -> None:
        shown = f", {names:,} names" if names >= 0 else ""
        bar.update(task, completed=done, total=total, names=shown)

    global _drawing
    with bar:
        _drawing = True
        try:
            yield report
        finally:
            _drawing = False


# While the bar is drawn, Rich replaces sys.stdout and sys.stderr with proxies
# that print above it under a lock its refresh thread takes.  A worker forked at
# that moment (the index and scan pools) must write to the real streams: the
# lock may be held in the copy it inherits, and its first warning would hang.
_drawing = False


def _real_streams_in_child() -> None:
    if _drawing:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_real_streams_in_child)
