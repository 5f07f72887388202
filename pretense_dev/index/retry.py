"""Map writes from several processes at once: retry when another one issued a name first.

`update_map` reads the issued names, then inserts new rows in its own
transaction.  The language server, the watcher and `pretense-dev index` may
all do this for one repository; if another process issued the same name in
between, the insert hits a UNIQUE constraint.  Running the update again reads
their rows and issues nothing twice (synthetics are deterministic).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def retry_on_conflict(fn: Callable[[], T], attempts: int = 3) -> T:
    """`fn()`, re-run up to `attempts` times on sqlite3.IntegrityError."""
    for _ in range(attempts - 1):
        try:
            return fn()
        except sqlite3.IntegrityError:
            continue
    return fn()
