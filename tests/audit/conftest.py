"""Fixtures for the audit tests: a seeded log, and raw write access for tampering."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from pretense_dev.audit.sample import sample_events
from pretense_dev.audit.store import AuditStore


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Where a test's audit log lives."""
    return tmp_path / "audit.db"


@pytest.fixture
def seeded(db: Path) -> Path:
    """A log of 16 simulated sessions (96 rows): every event type and alert kind."""
    with AuditStore(db) as store:
        store.append_many(sample_events(16))
    return db


@contextlib.contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain read-write connection: what an attacker with file access has."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()
