"""Secret findings → LSP diagnostics: the rule and how to allow it, never the value.

The message text matters beyond the editor: AI tools read the problems
panel (Cursor's agent sends lint errors to the model), so it carries the
rule id, a short fingerprint and the fix, and neither the value nor its
redacted form.  Ranges cover the finding's lines (the detector reports
lines, not columns), from the first non-blank character, with columns in the
client's position encoding — UTF-16 code units unless it negotiated another.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lsprotocol import types

from pretense_dev.lsp.lean import SOURCE, message
from pretense_dev.lsp.scanner import SecretFinding

if TYPE_CHECKING:
    from pygls.workspace.position_codec import PositionCodec

SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}


def to_diagnostics(
    findings: Sequence[SecretFinding],
    lines: Sequence[str],
    codec: PositionCodec,
    severity: str,
) -> list[types.Diagnostic]:
    """One diagnostic per finding; `lines` are the document's lines as scanned."""
    out = []
    last = max(len(lines) - 1, 0)
    for f in sorted(findings, key=lambda f: (f.line, f.rule)):
        first = min(max(f.line - 1, 0), last)
        end = min(max(f.end_line - 1, first), last)
        start_text = lines[first] if lines else ""
        end_text = (lines[end] if lines else "").rstrip("\r\n")
        indent = len(start_text) - len(start_text.lstrip())
        if first == end and indent >= len(end_text):
            indent = 0
        rng = types.Range(
            start=types.Position(line=first, character=codec.client_num_units(start_text[:indent])),
            end=types.Position(line=end, character=codec.client_num_units(end_text)),
        )
        out.append(
            types.Diagnostic(
                range=rng,
                message=message(f),
                severity=SEVERITY.get(severity, types.DiagnosticSeverity.Error),
                source=SOURCE,
                code=f.rule,
                data={"fingerprint": f.fingerprint, "line": f.line, "endLine": f.end_line},
            )
        )
    return out
