"""A gateway chained while the proxy daemon already runs is used at once, no restart.

Real parts: the proxy daemon as a process, `init` / `uninstall` as processes, the
official Anthropic SDK, and two loopback fakes of the Messages API — the public
vendor and the user's gateway.  The daemon has already served the repository
(its source resolved and cached) when `init` records the gateway.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pretense_dev import registry
from pretense_dev.repo import Repo
from tests.conftest import run_cli
from tests.integrations.fake_anthropic import FakeAnthropic
from tests.integrations.test_gateway import ask, gateway, proxy, repo, vendor

__all__ = ["gateway", "proxy", "repo", "vendor"]  # fixtures


def test_a_gateway_chained_after_the_daemon_started_gets_the_next_request(
    repo: Path,
    proxy: str,
    vendor: FakeAnthropic,
    gateway: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    r = run_cli("init", "--no-tools", cwd=repo)
    assert r.code == 0, r.err
    repo_id = Repo(repo).repo_id
    base = f"{proxy}/r/{repo_id}"
    ask(base)  # the daemon resolves this repository: no gateway yet
    assert len(vendor.message_requests()) == 1 and gateway.requests == []

    monkeypatch.setenv("ANTHROPIC_BASE_URL", gateway.url + "/corp")
    r = run_cli("init", "--tools", "claude-code", cwd=repo)
    assert r.code == 0, r.err
    entry = registry.lookup(repo_id)
    assert entry is not None and entry.upstream("anthropic") == gateway.url + "/corp"

    ask(base)  # same daemon, no restart
    (sent,) = gateway.message_requests()
    assert sent.path == "/corp/v1/messages"
    assert "reconcile_invoices" not in sent.body.decode()  # mutated on the way
    assert len(vendor.message_requests()) == 1  # nothing more to the public vendor

    monkeypatch.delenv("ANTHROPIC_BASE_URL")
    assert run_cli("uninstall", cwd=repo).code == 0
    ask(base)  # the chain is gone: the vendor again, still without a restart
    assert len(vendor.message_requests()) == 2 and len(gateway.message_requests()) == 1
