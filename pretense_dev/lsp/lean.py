"""What the server says, in plain JSON terms: shared by pygls' server and the start-up loop.

The start-up loop (`startup.py`) answers before pygls and lsprotocol are
imported, so the parts of a reply that both paths produce — the server's name
and version, a finding's message, a column in the client's position encoding
— live here, with nothing heavier than the standard library.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

NAME = "pretense-dev"
SOURCE = "pretense-dev"
SEVERITY_CODES = {"error": 1, "warning": 2}  # LSP DiagnosticSeverity
ENCODINGS = ("utf-8", "utf-16", "utf-32")  # what pygls' position codec supports


class _Finding(Protocol):
    @property
    def rule(self) -> str: ...

    @property
    def fingerprint(self) -> str: ...


def server_version() -> str:
    """The installed version (`serverInfo.version`); "0" in a checkout without metadata."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pretense-dev")
    except PackageNotFoundError:
        return "0"


def message(finding: _Finding) -> str:
    """A diagnostic's text (no value, no redacted form)."""
    return (
        f"Possible secret ({finding.rule}, fingerprint {finding.fingerprint[:12]}). "
        "pretense-dev blocks prompts that carry it. Move it out of the code (environment, "
        "secret manager); if it is not a secret, add `pretense: allow` at the end of the line "
        "or alone on the line before it."
    )


def units(text: str, encoding: str) -> int:
    """Length of `text` in the code units of a negotiated position encoding."""
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class _Located(_Finding, Protocol):
    @property
    def line(self) -> int: ...

    @property
    def end_line(self) -> int: ...


def span(f: _Located, lines: Sequence[str]) -> tuple[int, str, int, str]:
    """Where a diagnostic goes: (first line, its text before the start, last line, its text).

    The lines a finding covers, clamped to the document, from the first line's
    indentation (or its start when the line is all indentation) to the last
    line's end; one rule for the start-up loop and the pygls server.
    """
    last = max(len(lines) - 1, 0)
    first = min(max(f.line - 1, 0), last)
    end = min(max(f.end_line - 1, first), last)
    start_text = lines[first] if lines else ""
    end_text = (lines[end] if lines else "").rstrip("\r\n")
    indent = len(start_text) - len(start_text.lstrip())
    if first == end and indent >= len(end_text):
        indent = 0
    return first, start_text[:indent], end, end_text


def diagnostics_json(
    findings: Sequence[_Located], lines: Sequence[str], encoding: str, severity: str
) -> list[dict[str, Any]]:
    """The diagnostics `diagnostics.to_diagnostics` builds, as the JSON pygls would send."""
    out: list[dict[str, Any]] = []
    for f in sorted(findings, key=lambda f: (f.line, f.rule)):
        first, before, end, end_text = span(f, lines)
        out.append(
            {
                "range": {
                    "start": {"line": first, "character": units(before, encoding)},
                    "end": {"line": end, "character": units(end_text, encoding)},
                },
                "message": message(f),
                "severity": SEVERITY_CODES.get(severity, 1),
                "code": f.rule,
                "source": SOURCE,
                "data": {"fingerprint": f.fingerprint, "line": f.line, "endLine": f.end_line},
            }
        )
    return out
