"""The one thing the server needs from the secrets detector, as a protocol.

Diagnostics depend only on this shape, so the server, its scheduling and its
positions are testable on their own; `load_scanner` builds the real detector
(`pretense_dev.secrets.Detector`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from pretense_dev.config import Config

log = logging.getLogger(__name__)


class SecretFinding(Protocol):
    """A finding as the detector reports it: never the value."""

    @property
    def rule(self) -> str:
        """The rule id, e.g. ``github-pat``."""

    @property
    def line(self) -> int:
        """1-based first line."""

    @property
    def end_line(self) -> int:
        """1-based last line (multi-line secrets such as PEM blocks)."""

    @property
    def fingerprint(self) -> str:
        """HMAC of the value with the repo key: the finding's identity."""


class SecretScanner(Protocol):
    """Scans one text; `path` (repo-relative) lets path rules and allowlists apply."""

    def scan_text(self, text: str, path: str | None = None) -> Sequence[SecretFinding]:
        """Every finding in `text`, inline ignores already applied."""


def load_scanner(key: bytes, config: Config, root: Path | None) -> SecretScanner | None:
    """The real detector for this repo key, policy and baseline; None if not installed.

    `Detector(key, config.secrets, baseline)` is the secrets part's public
    surface.  It is imported by name because that part is developed beside
    this one: until it is merged, diagnostics are simply off (the server logs
    why once) and tests/test_lsp_diagnostics.py is skipped.  Outside a
    repository there is no baseline: every finding is shown; an unreadable
    baseline hides nothing either.
    """
    import importlib

    try:  # deferred: the rules and the prefilter load on first scan
        detector_mod = importlib.import_module("pretense_dev.secrets")
        baseline_mod = importlib.import_module("pretense_dev.secrets.baseline")
    except ModuleNotFoundError:
        return None
    from pretense_dev.errors import PretenseError

    policy = getattr(config, "secrets")  # noqa: B009 -- Config.secrets comes with that part
    baseline = None
    if root is not None:
        try:
            baseline = baseline_mod.Baseline.load(root / policy.baseline)
        except PretenseError as e:
            log.warning("%s", "; ".join(e.lines()))
    scanner: SecretScanner = detector_mod.Detector(key, policy, baseline)
    return scanner
