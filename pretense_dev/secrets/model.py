"""What a detector reports: the public `Finding`, and the engine's raw `Match`.

A finding never holds the secret value: its identity is (path, rule,
fingerprint), where the fingerprint is HMAC-SHA256 of the value under the
repository's key (equal values match without being stored), and
`redacted` shows at most the first four
characters and the length.  `Match` (engine-internal) does carry the value, and
lives only as long as one scan call.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

CONFIDENCES = ("high", "medium", "low")
_RANK = {c: i for i, c in enumerate(reversed(CONFIDENCES))}  # low 0, medium 1, high 2


@dataclass(frozen=True)
class Finding:
    """One detected secret, safe to print, store and log."""

    rule: str  # stable rule id, e.g. "github-pat"
    path: str | None  # repo-relative, or None for a prompt or an editor buffer
    line: int  # 1-based, for display only (lines move; identity does not use them)
    end_line: int
    fingerprint: str  # HMAC-SHA256(repo key, value), hex
    redacted: str  # e.g. "ghp_…(40)"
    confidence: str  # "high" (checksum / structure verified), "medium", "low"

    @property
    def identity(self) -> tuple[str | None, str, str]:
        """What makes two findings the same: never the line, never the value."""
        return (self.path, self.rule, self.fingerprint)

    def to_json(self) -> dict[str, object]:
        """The `scan --format json` shape (documented in pretense_dev/secrets/README.md)."""
        return {
            "path": self.path,
            "line": self.line,
            "end_line": self.end_line,
            "rule": self.rule,
            "fingerprint": self.fingerprint,
            "redacted": self.redacted,
            "confidence": self.confidence,
        }


@dataclass
class Match:
    """A candidate inside one text: offsets into the scanned bytes and the value."""

    rule: str
    start: int  # span of the secret value (or of the whole block for key blocks)
    end: int
    value: bytes
    confidence: str
    priority: int = 0  # rule order: earlier (more specific) rules win overlaps

    def rank(self) -> tuple[int, int]:
        """Higher wins when two matches claim the same bytes."""
        return (_RANK[self.confidence], -self.priority)


def fingerprint(key: bytes, value: bytes) -> str:
    """HMAC-SHA256 of the value under the repo key: unguessable without the key."""
    return hmac.new(key, value, hashlib.sha256).hexdigest()


def redact(value: bytes) -> str:
    """First four characters and the length, never more (no secret value is ever written anywhere).

    Values shorter than 12 characters show no characters at all: four characters
    of an eight-character password is half of it.
    """
    text = value.decode("utf-8", "replace")
    n = len(text)
    if n < 12:
        return f"…({n})"
    head = "".join(c if c.isprintable() and not c.isspace() else "?" for c in text[:4])
    return f"{head}…({n})"
