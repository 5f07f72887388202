"""The one thing the server needs from the secrets detector, as a protocol.

Diagnostics depend only on this shape, so the server, its scheduling and its
positions are testable on their own; `load_scanner` builds the real detector
(`pretense_dev.secrets.Detector`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pretense_dev.config import Config


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


def load_scanner(key: bytes, config: Config) -> SecretScanner | None:
    """The real detector for this repo key and policy; None while it is not installed.

    Interim: the secrets part lands separately; until it does, diagnostics are
    simply not published (the server logs why once).
    """
    import importlib

    try:
        module = importlib.import_module("pretense_dev.secrets")  # deferred: rules load once
    except ModuleNotFoundError:
        return None
    scanner: SecretScanner = module.Detector(key, config)
    return scanner
