"""``--since 90d``-style time arguments, and how times are printed in reports."""

from __future__ import annotations

import datetime as dt
import re

from pretense_dev.errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_since(text: str, now: float) -> float:
    """``90d``, ``12h``, ``2w``, ``30m``, ``45s``, or an ISO date/time (UTC if no zone)."""
    m = _DURATION.match(text)
    if m:
        return now - float(m.group(1)) * _UNITS[m.group(2)]
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"cannot read {text!r} as a time",
            "use a duration such as 90d, 12h, 2w, or a date such as 2026-01-31",
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def iso(t: float | None) -> str | None:
    """UTC ISO 8601 with seconds, e.g. ``2026-01-31T09:12:03Z``; None stays None."""
    if t is None:
        return None
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def short(t: float) -> str:
    """UTC, minutes: ``2026-01-31 09:12`` (tables)."""
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M")


def duration(seconds: float) -> str:
    """``1h 02m``, ``4m 10s``, ``12s``."""
    s = round(max(0.0, seconds))
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s}s"
