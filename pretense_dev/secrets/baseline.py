"""Accepted findings: `.pretense/baseline.json`, fingerprints only.

An entry is a finding's identity, (path, rule, fingerprint); lines are not
stored, so an accepted secret stays accepted when code around it moves, and a
new secret in the same file is still reported.  The fingerprint is keyed with
this clone's repository key, so the file holds nothing a reader could test a
guessed password against; the flip side is that a baseline written in another
clone (another key) does not match here — re-accept there with
`pretense-dev scan --update-baseline`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pretense_dev.errors import ConfigError
from pretense_dev.secrets.model import Finding

VERSION = 1


class Baseline:
    """A set of accepted finding identities."""

    def __init__(self, entries: Iterable[tuple[str | None, str, str]] = ()) -> None:
        self.entries = set(entries)

    def contains(self, path: str | None, rule: str, fingerprint: str) -> bool:
        """Whether this finding was accepted (prompt text matches any path)."""
        if path is None:
            return any(r == rule and f == fingerprint for _, r, f in self.entries)
        return (path, rule, fingerprint) in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def load(cls, path: Path) -> Baseline:
        """Read a baseline; a missing file is an empty one, a corrupt one an error."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{path}: not a readable baseline ({exc})",
                "fix it, or delete it and run `pretense-dev scan --update-baseline`",
            ) from None
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ConfigError(f"{path}: unsupported baseline version", "upgrade pretense-dev")
        entries = []
        for i, e in enumerate(data.get("findings", [])):
            if not (
                isinstance(e, dict)
                and isinstance(e.get("rule"), str)
                and isinstance(e.get("fingerprint"), str)
                and (e.get("path") is None or isinstance(e.get("path"), str))
            ):
                raise ConfigError(f"{path}: findings[{i}] needs path, rule and fingerprint")
            entries.append((e.get("path"), e["rule"], e["fingerprint"]))
        return cls(entries)

    @staticmethod
    def render(findings: Iterable[Finding]) -> str:
        """The file's text for these findings: sorted, stable, no values, no lines."""
        rows = sorted(
            {(f.path or "", f.rule, f.fingerprint) for f in findings},
        )
        doc = {
            "version": VERSION,
            "note": "Accepted secret findings (HMAC fingerprints, keyed per clone). "
            "Written by `pretense-dev scan --update-baseline`.",
            "findings": [{"path": p or None, "rule": r, "fingerprint": f} for p, r, f in rows],
        }
        return json.dumps(doc, indent=2) + "\n"
