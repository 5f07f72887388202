"""No prompt text and no secret value reaches the log or any export (property test).

Events are built the way writers build them: from a prompt that contains the
repository's names and a secret, a writer records only names, counts, rule and
HMAC fingerprint.  Whatever the generated fields, neither the secret nor the
prompt's own words may appear in the database file (WAL included), JSONL,
CSV, OTLP (as received by a collector), evidence (JSON and Markdown) or the
incident report.  `test_the_scanner_sees_a_planted_leak` shows the check can fail.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import string
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pretense_dev.audit.events import DECISIONS, EVENT_TYPES, AuditEvent, SecretRef
from pretense_dev.audit.evidence import build_evidence, render_markdown
from pretense_dev.audit.export import Selection, send_otlp, write_csv, write_jsonl
from pretense_dev.audit.incident import build_incident, render_text
from pretense_dev.audit.sample import NAMES
from pretense_dev.audit.store import AuditStore

from .otlp_collector import Collector, collector

KEY = b"k" * 32
ALNUM = string.ascii_letters + string.digits
# Writers' own fields: printable text without the characters secrets and prompt words use.
FIELD = st.text(alphabet=string.ascii_lowercase + " -./:", max_size=40)


@pytest.fixture(scope="module")
def otlp() -> Iterator[Collector]:
    with collector() as c:
        yield c


@st.composite
def leaky_request(draw: st.DrawFn) -> tuple[AuditEvent, str, list[str]]:
    """An event built from a prompt holding a secret; returns (event, secret, prompt words)."""
    secret = "gh" + "p_" + draw(st.text(alphabet=ALNUM, min_size=36, max_size=36))
    words = [
        "Qz" + draw(st.text(alphabet=ALNUM, min_size=8, max_size=12))
        for _ in range(draw(st.integers(1, 4)))
    ]
    names = draw(st.lists(st.sampled_from(NAMES), max_size=6, unique=True))
    prompt = " ".join([*words, *names, f"token={secret}"])
    fingerprint = "fp:" + hmac.new(KEY, secret.encode(), hashlib.sha256).hexdigest()[:16]
    event = AuditEvent(
        draw(st.sampled_from(EVENT_TYPES)),
        time=draw(st.floats(1e9, 2e9, allow_nan=False)),
        session_id=draw(FIELD),
        tool=draw(FIELD),
        user=draw(FIELD),
        machine=draw(FIELD),
        repo_id=draw(FIELD),
        repo_path=draw(FIELD),
        vendor=draw(FIELD),
        model=draw(FIELD),
        endpoint=draw(FIELD),
        mutation_active=draw(st.booleans()),
        identifiers_protected=len(names),
        identifiers=tuple(n for n in names if n in prompt),
        secrets=(SecretRef("github-pat", fingerprint, f"messages[{draw(st.integers(0, 9))}]"),),
        decision=draw(st.sampled_from(DECISIONS)),
        reason=draw(FIELD),
        request_bytes=len(prompt.encode()),
        context_bytes=len(prompt.encode()) * draw(st.integers(1, 5)),
        latency_ms=draw(st.floats(0, 1e5, allow_nan=False)),
        upstream_status=draw(st.sampled_from([0, 200, 400, 529])),
        files=tuple(draw(st.lists(FIELD, max_size=3))),
    )
    return event, secret, words


def outputs(db: Path, otlp: Collector) -> dict[str, bytes]:
    """Every form the log takes: the file, each export, each report."""
    out: dict[str, bytes] = {}
    with AuditStore.open_readonly(db) as store:
        for name, writer in (("jsonl", write_jsonl), ("csv", write_csv)):
            buf = io.BytesIO()
            writer(store.conn, Selection(), buf)
            out[name] = buf.getvalue()
        before = len(otlp.requests)
        send_otlp(store.conn, Selection(), otlp.url)
        out["otlp"] = b"".join(r.SerializeToString() for r in otlp.requests[before:])
        doc = build_evidence(store, since=0, until=3e9)
        out["evidence"] = json.dumps(doc, ensure_ascii=False).encode()
        out["evidence.md"] = render_markdown(doc).encode()
        for key in [r[0] for r in store.conn.execute("SELECT session FROM sessions")]:
            inc = build_incident(store, key)
            out[f"incident {key}"] = (
                json.dumps(inc, ensure_ascii=False) + render_text(inc)
            ).encode()
    for suffix in ("", "-wal"):
        f = Path(f"{db}{suffix}")
        if f.exists():
            out[f.name] = f.read_bytes()
    return out


def leaks(found: dict[str, bytes], needles: list[str]) -> list[str]:
    return [
        f"{n!r} in {where}" for where, blob in found.items() for n in needles if n.encode() in blob
    ]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(leaky_request(), min_size=1, max_size=4))
def test_no_secret_value_or_prompt_text_anywhere(
    otlp: Collector, requests: list[tuple[AuditEvent, str, list[str]]]
) -> None:
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "audit.db"
        with AuditStore(db) as store:
            store.append_many([e for e, _, _ in requests])
        needles = [s for _, s, _ in requests] + [w for _, _, ws in requests for w in ws]
        assert leaks(outputs(db, otlp), needles) == []


def test_the_scanner_sees_a_planted_leak(otlp: Collector, tmp_path: Path) -> None:
    secret = "gh" + "p_" + "A1b2" * 9
    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        store.append(AuditEvent("prompt_blocked", reason=f"careless writer: {secret}"))
    found = leaks(outputs(db, otlp), [secret])
    where = {f.split(" in ", 1)[1].split(" ")[0] for f in found}
    assert {"jsonl", "csv", "otlp", "audit.db", "incident"} <= where
