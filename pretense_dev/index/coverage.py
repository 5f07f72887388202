"""An index's coverage: which of its source files were read (identifiers/coverage.py says why)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pretense_dev.identifiers.coverage import Coverage, coverage


def read_coverage(conn: sqlite3.Connection) -> Coverage:
    """Coverage of the files an index (or index store) connection holds."""
    return coverage((str(p), lang) for p, lang in conn.execute("SELECT path, language FROM files"))


def index_coverage(index_path: Path) -> Coverage | None:
    """Coverage of the index at `index_path`, or None if there is none or it cannot be read."""
    from pretense_dev.index.reader import IndexReader, IndexUnreadable

    if not index_path.exists():
        return None
    try:
        with IndexReader(index_path) as r:
            return read_coverage(r.conn)
    except (IndexUnreadable, sqlite3.Error):
        return None
