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

from pretense_dev.lsp.lean import SOURCE, message, span
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
    for f in sorted(findings, key=lambda f: (f.line, f.rule)):
        first, before, end, end_text = span(f, lines)
        rng = types.Range(
            start=types.Position(line=first, character=codec.client_num_units(before)),
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
