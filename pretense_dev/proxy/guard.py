"""The checks a request must pass before anything is forwarded: policy and secrets.

Kept apart from the per-repository state (`repos`) because these are the
decisions, not the data: `approved` says whether a repository's ``[proxy]``
policy lets a vendor and model read its code, and `scan` / `blocked_message`
run the secret detector over what would go out and turn its findings into a
refusal that names the rule and the place, never the value.

Everything that can fail here raises `Refusal`: the proxy answers with the
API's own error and forwards nothing.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from pretense_dev.audit.events import BLOCKED, ERROR, SecretRef
from pretense_dev.config import Config, ProxyConfig


class Refusal(Exception):
    """A request the proxy will not forward: status, one-line message, audit decision."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        decision: str = ERROR,
        code: str = "pretense_refused",
        secrets: tuple[SecretRef, ...] = (),
        audit_reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        # What the audit log keeps: a short line (the message is written for the developer).
        self.audit_reason = audit_reason or message
        self.decision = decision
        self.code = code
        self.secrets = secrets


class GuardFinding(Protocol):
    """What the guard needs from a secrets finding (pretense_dev.secrets.Finding)."""

    @property
    def rule(self) -> str: ...  # noqa: D102

    @property
    def line(self) -> int: ...  # noqa: D102

    @property
    def fingerprint(self) -> str: ...  # noqa: D102


class Scanner(Protocol):
    """The detector's interface: `pretense_dev.secrets.Detector`."""

    def scan_text(self, text: str, path: str | None = None) -> Sequence[GuardFinding]: ...  # noqa: D102


ScannerFactory = Callable[[bytes, Config, Path], Scanner]


def default_scanner(key: bytes, config: Config, root: Path) -> Scanner:
    """The real detector for one repository: its key, its [secrets] policy, its baseline.

    The baseline holds fingerprints the team accepted (false positives); a
    prompt carrying one is not blocked, as a commit carrying it is not.
    """
    from pretense_dev.secrets import Detector  # deferred: the rules compile on first use
    from pretense_dev.secrets.baseline import Baseline

    baseline = Baseline.load(root / config.secrets.baseline)
    scanner: Scanner = Detector(key, config.secrets, baseline)
    return scanner


def approved(policy: ProxyConfig, vendor: str, model: str | None) -> str | None:
    """None if the policy approves (vendor, model); else the reason it does not."""
    if vendor not in policy.vendors:
        allowed = ", ".join(policy.vendors) or "none"
        return (
            f"this repository's policy does not approve sending its code to {vendor} "
            f"(approved vendors: {allowed}; .pretense/config.toml [proxy] vendors)"
        )
    if policy.models and model is not None:
        if not any(fnmatch.fnmatchcase(model, p) for p in policy.models):
            return (
                f"model '{model}' is not approved for this repository "
                f"(approved: {', '.join(policy.models)}; .pretense/config.toml [proxy] models)"
            )
    elif policy.models and model is None:
        return "this repository's policy approves only some models, and the request names none"
    return None


def scan(scanner: Scanner, leaves: list[tuple[str, str]]) -> list[tuple[str, GuardFinding]]:
    """Every finding in the new leaves, with where it was; raise Refusal if the scan fails."""
    found: list[tuple[str, GuardFinding]] = []
    try:
        for where, text in leaves:
            if text:
                found.extend((where, f) for f in scanner.scan_text(text))
    except Exception as e:
        raise Refusal(
            503,
            f"the secret scan failed ({type(e).__name__}); nothing was sent "
            "— see `pretense-dev proxy logs`",
        ) from e
    return found


def blocked_message(findings: list[tuple[str, GuardFinding]]) -> Refusal:
    """The 4xx for a request carrying secrets: rule and where, never the value."""
    refs = tuple(SecretRef(f.rule, f.fingerprint, where) for where, f in findings)
    first_where, first = findings[0]
    more = f" and {len(findings) - 1} more" if len(findings) > 1 else ""
    message = (
        f"pretense-dev blocked this request: {first_where} contains a secret "
        f"(rule {first.rule}, line {first.line} of that text, fingerprint "
        f"{first.fingerprint[:16]}){more}. Nothing was sent to the vendor. Remove the secret "
        "from the prompt or the file the agent read (if it is not a secret, mark its line "
        "`pretense: allow`); once it is in a conversation, every later request carries it, "
        "so start a new conversation or rewind past it (Claude Code: /clear or /rewind)."
    )
    rules = ", ".join(sorted({f.rule for _, f in findings}))
    return Refusal(
        400,
        message,
        decision=BLOCKED,
        code="pretense_secret_detected",
        secrets=refs,
        audit_reason=f"secret in the prompt ({rules}) at {first_where}{more}",
    )
