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


def load_scanner(key: bytes, config: Config, root: Path | None) -> SecretScanner:
    """The real detector for this repo key, policy and baseline (accepted findings).

    Outside a repository there is no baseline: every finding is shown; an
    unreadable baseline hides nothing either (it is logged, and every finding
    shows until it is fixed).
    """
    from pretense_dev.errors import PretenseError
    from pretense_dev.secrets import Detector  # deferred: rules and prefilter load on first scan
    from pretense_dev.secrets.baseline import Baseline

    baseline = None
    if root is not None:
        try:
            baseline = Baseline.load(root / config.secrets.baseline)
        except PretenseError as e:
            log.warning("%s", "; ".join(e.lines()))
    scanner: SecretScanner = Detector(key, config.secrets, baseline)
    return scanner
