"""Output formats of `scan`: text for people, JSON for tools, SARIF for code-scanning UIs.

None of them can print a value: they render `Finding`s, which hold a
fingerprint and a redacted form only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pretense_dev.secrets.rules import default_rules
from pretense_dev.secrets.scan import Located

ALLOW_HINT = (
    'if one is a false positive, add "pretense: allow" to its line (or alone on the line '
    "above), or accept the current findings with `pretense-dev scan --update-baseline`"
)
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"high": "error", "medium": "error", "low": "warning"}


def shown_path(path: str) -> str:
    """`path` as one unambiguous token of a text line.

    A file name may hold a newline, a carriage return or any control character:
    printed raw, a name made of "x", a newline and "src/app.py:1: github-pat"
    would forge a finding line (or hide one from a reader or a grep).  Such
    names, and names with a quote or a backslash, are shown as a JSON string
    literal, as `git` quotes odd paths.
    """
    if any(c in '"\\' or ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in path):
        return json.dumps(path, ensure_ascii=False)
    return path


def text(found: Sequence[Located]) -> str:
    """One line per finding: where, which rule, how sure, which secret (redacted)."""
    lines = []
    for loc in found:
        f = loc.finding
        where = f"{shown_path(f.path) if f.path else '<text>'}:{f.line}"
        commit = f" in commit {loc.commit[:12]}" if loc.commit else ""
        lines.append(
            f"{where}: {f.rule} ({f.confidence}) {f.redacted} "
            f"fingerprint {f.fingerprint[:12]}{commit}"
        )
    return "".join(line + "\n" for line in lines)


def as_json(found: Sequence[Located]) -> str:
    """`{"findings": [...]}`; a commit range adds "commit" to each entry."""
    rows = []
    for loc in found:
        row = loc.finding.to_json()
        if loc.commit:
            row["commit"] = loc.commit
        rows.append(row)
    return json.dumps({"findings": rows}, indent=2) + "\n"


def sarif(found: Sequence[Located], version: str) -> str:
    """SARIF 2.1.0 with one run; partialFingerprints carry our HMAC fingerprint."""
    used = sorted({loc.finding.rule for loc in found})
    by_id = {r.id: r for r in default_rules()}
    rules = [
        {
            "id": rid,
            "name": rid,
            "shortDescription": {"text": by_id[rid].description if rid in by_id else rid},
        }
        for rid in used
    ]
    results = []
    for loc in found:
        f = loc.finding
        result: dict[str, object] = {
            "ruleId": f.rule,
            "ruleIndex": used.index(f.rule),
            "level": _LEVEL[f.confidence],
            "message": {"text": f"{f.rule}: {f.redacted} (confidence {f.confidence})"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path or "stdin"},
                        "region": {"startLine": f.line, "endLine": f.end_line},
                    }
                }
            ],
            "partialFingerprints": {"pretenseFingerprint/v1": f.fingerprint},
        }
        if loc.commit:
            result["properties"] = {"commit": loc.commit}
        results.append(result)
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pretense-dev",
                        "version": version,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
