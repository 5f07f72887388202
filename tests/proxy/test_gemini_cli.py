"""End to end: the real Gemini CLI (npm ``@google/gemini-cli``) through the real proxy.

``GOOGLE_GEMINI_BASE_URL`` points the CLI at this repository's proxy prefix;
the loopback upstream answers ``streamGenerateContent`` (SSE) with synthetic
names.  The CLI must print the answer with the real names, the upstream must
never see a protected name, and the audit event names the vendor.

The CLI is looked up in `.tools/gemini-cli`, then ``$PRETENSE_GEMINI``, then PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pretense_dev.proxy.replay import Answer
from pretense_dev.proxy.replay_cloud import cloud_reply
from tests.conftest import REPO_ROOT
from tests.proxy.conftest import Harness, protected_tokens, start_harness

INSTALL = "npm install --prefix .tools/gemini-cli @google/gemini-cli@0.61.0"


def find_gemini() -> str | None:
    for candidate in (
        REPO_ROOT / ".tools/gemini-cli/node_modules/.bin/gemini",
        Path(os.environ.get("PRETENSE_GEMINI", "/nonexistent")),
    ):
        if candidate.exists():
            return str(candidate)
    return shutil.which("gemini")


GEMINI = find_gemini()
pytestmark = pytest.mark.skipif(
    GEMINI is None, reason=f"the Gemini CLI is not installed: run `{INSTALL}`"
)
REAL = "LedgerReconciler.reconcile_batch calls apply_credit_note twice"
PROMPT = "Why does reconcile_batch call apply_credit_note twice?"


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    root = tmp_path / "repo"
    (root / ".pretense").mkdir(parents=True)
    (root / ".pretense" / "config.toml").write_text(
        'version = 1\n[proxy]\nvendors = ["anthropic", "openai", "gemini"]\n'
    )
    harness = start_harness(root)
    harness.proxy.settings.extra_upstreams["gemini"] = harness.proxy.settings.upstream_anthropic
    answer = Answer(text=harness.mapping.mutate(REAL), pieces=6)
    harness.reply = lambda rec: cloud_reply(rec, answer)
    try:
        yield harness
    finally:
        harness.bg.close()


def test_gemini_cli_through_the_proxy(h: Harness, tmp_path: Path) -> None:
    assert GEMINI is not None
    home = tmp_path / "home"
    (home / ".gemini").mkdir(parents=True)
    # API-key auth; no usage statistics and no update check (they would leave the machine
    # directly: the proxy only sees model traffic).
    settings = {
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "privacy": {"usageStatisticsEnabled": False},
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
    }
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings))
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GEMINI_API_KEY": "gemini-test-key",
        "GOOGLE_GEMINI_BASE_URL": h.base,
        "GEMINI_CLI_NO_RELAUNCH": "true",
        "NO_COLOR": "1",
    }
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(
        # -m: without it the CLI first asks a small model to route the prompt, and retries
        # with back-off when the replay's answer is not a routing decision.
        [GEMINI, "--skip-trust", "-m", "gemini-2.5-pro", "-p", PROMPT],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert REAL in proc.stdout, (proc.stdout[-2000:], proc.stderr[-2000:])
    gen = [r for r in h.upstream.records if ":streamGenerateContent" in r.path]
    assert [r.path for r in h.upstream.records] == [
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent"
    ]
    assert "alt=sse" in gen[0].query
    for rec in h.upstream.records:
        assert not protected_tokens(rec.body.decode(), h.mapping), rec.path
    body = json.loads(gen[-1].body)
    assert h.syn("reconcile_batch") in json.dumps(body["contents"])
    assert {(e.vendor, e.tool, e.model) for e in h.sink.events} == {
        ("gemini", "gemini-cli", "gemini-2.5-pro")
    }
    # The setting names are 0.61.0's own: it rewrites a file that uses deprecated ones
    # (`general.disableAutoUpdate`, `general.disableUpdateNag`) and leaves this one be.
    assert json.loads((home / ".gemini" / "settings.json").read_text()) == settings
