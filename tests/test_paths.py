"""`atomic_write`: never half-written, never onto a device, symlinks kept."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pretense_dev.errors import PretenseError
from pretense_dev.paths import atomic_write


def test_writes_with_mode_and_replaces(tmp_path: Path) -> None:
    p = tmp_path / "a" / "b.json"
    atomic_write(p, "one", mode=0o600)
    assert p.read_text() == "one"
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    atomic_write(p, b"two")
    assert p.read_bytes() == b"two"
    assert [x.name for x in p.parent.iterdir()] == ["b.json"]  # no temp file left


def test_refuses_a_device() -> None:
    before = os.stat(os.devnull)
    with pytest.raises(PretenseError, match="not a regular file"):
        atomic_write(Path(os.devnull), "x")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert os.stat(os.devnull).st_ino == before.st_ino


def test_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(PretenseError):
        atomic_write(tmp_path, "x")


def test_follows_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "dotfiles" / "settings.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "settings.json"
    link.symlink_to(target)
    atomic_write(link, "new")
    assert link.is_symlink()
    assert target.read_text() == "new"


def test_writer_streams_to_a_device_when_asked() -> None:
    from pretense_dev.paths import atomic_writer

    with atomic_writer(Path(os.devnull), devices=True) as f:
        f.write(b"exported rows")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_writer_leaves_the_old_file_on_error(tmp_path: Path) -> None:
    from pretense_dev.paths import atomic_writer

    p = tmp_path / "export.jsonl"
    p.write_text("old")
    with pytest.raises(RuntimeError), atomic_writer(p) as f:
        f.write(b"half")
        raise RuntimeError("disk full")
    assert p.read_text() == "old"
    assert [x.name for x in tmp_path.iterdir()] == ["export.jsonl"]


def test_audit_export_to_dev_null_keeps_the_device(tmp_path: Path) -> None:
    from pretense_dev.audit.events import VERIFY, AuditEvent
    from pretense_dev.audit.store import record
    from tests.conftest import run_cli

    record(AuditEvent(VERIFY, decision="allowed"), tmp_path / "a.db")
    r = run_cli("audit", "--db", str(tmp_path / "a.db"), "export", "--output", os.devnull)
    assert r.code == 0, r.err
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
