"""The project's own scan stays clean: no secret-shaped literal is committed.

Test secrets are built at run time from templates; a finding here means a
file now holds one literally (or a rule became noisy on our own code).
"""

from __future__ import annotations

from pretense_dev.secrets.run import run_scan
from tests.conftest import REPO_ROOT


def test_this_checkout_has_no_findings() -> None:
    outcome = run_scan(root=REPO_ROOT, use_baseline=False)
    assert [
        (loc.finding.path, loc.finding.line, loc.finding.rule) for loc in outcome.result.found
    ] == []
