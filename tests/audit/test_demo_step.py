"""The demo's audit step stands alone and shows tampering caught."""

from __future__ import annotations

from pathlib import Path

import pytest

from pretense_dev.demo import step_audit
from pretense_dev.demo.console import DemoContext


def test_demo_audit_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = DemoContext(tmp_path, tmp_path / "repo", 120)
    assert step_audit(ctx) is True
    out = capsys.readouterr().out
    assert "pretense-dev audit verify → intact; head 71:sha256:" in out
    assert "row 7: missing: row 7 deleted" in out
    assert "row 20: altered:" in out
    assert "row 71: truncated:" in out
    assert "verify caught every change" in out
