"""Secrets: detectors as data, scanning of text, files, staged blobs and commits.

The public surface the proxy and the language server use::

    det = Detector(key, config.secrets, baseline)
    det.scan_text(text, path=None) -> list[Finding]

Cheap to import: the standard library only (no tree-sitter, aiohttp or
textual); the keyword prefilter (hyperscan) and the rules file load on the
first scan.
"""

from __future__ import annotations

from pretense_dev.secrets.detector import Detector
from pretense_dev.secrets.model import Finding

__all__ = ["Detector", "Finding"]
