"""A user's own LLM gateway is chained behind the proxy, never silently replaced.

Real parts: `pretense-dev init` and `uninstall` as processes, the real proxy
daemon, the official Anthropic SDK as the client, and two loopback fakes of the
Messages API — the public vendor and the user's corporate gateway.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest

from pretense_dev import registry
from pretense_dev.repo import Repo
from tests.conftest import run_cli, write
from tests.integrations.conftest import STUB, commit_code, running_proxy
from tests.integrations.fake_anthropic import Block, FakeAnthropic


def answer(req: dict[str, object]) -> list[Block]:
    return [Block(["ok"])]


@pytest.fixture
def vendor() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(answer) as fake:
        yield fake


@pytest.fixture
def gateway() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(answer) as fake:
        yield fake


@pytest.fixture
def proxy(vendor: FakeAnthropic) -> Iterator[str]:
    with running_proxy(vendor.url) as st:
        yield st.url


@pytest.fixture
def repo(git_repo: Path) -> Path:
    return commit_code(git_repo, STUB)


def ask(base_url: str) -> None:
    client = anthropic.Anthropic(base_url=base_url, api_key="sk-ant-test", max_retries=0)
    client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=16,
        messages=[{"role": "user", "content": "why does reconcile_invoices fail?"}],
    )


def test_a_gateway_in_local_settings_is_chained_and_restored_by_uninstall(
    repo: Path, proxy: str, vendor: FakeAnthropic, gateway: FakeAnthropic
) -> None:
    local = repo / ".claude/settings.local.json"
    original = json.dumps({"env": {"ANTHROPIC_BASE_URL": gateway.url + "/anthropic"}}) + "\n"
    write(repo, {".claude/settings.local.json": original})
    r = run_cli("init", "--tools", "claude-code", cwd=repo)
    assert r.code == 0, r.err
    assert (
        f"Claude Code: your gateway {gateway.url}/anthropic (env.ANTHROPIC_BASE_URL in "
        ".claude/settings.local.json) is kept: the proxy forwards this repository's Anthropic "
        "traffic to it; `pretense-dev uninstall` restores the setting." in r.out
    )
    repo_id = Repo(repo).repo_id
    routed = json.loads(local.read_text())["env"]["ANTHROPIC_BASE_URL"]
    assert routed == f"{proxy}/r/{repo_id}"
    entry = registry.lookup(repo_id)
    assert entry is not None and entry.upstream("anthropic") == gateway.url + "/anthropic"

    ask(routed)
    # The gateway got the request, mutated; the public vendor got nothing.
    (sent,) = gateway.message_requests()
    assert sent.path == "/anthropic/v1/messages"
    assert "reconcile_invoices" not in sent.body.decode()
    assert vendor.requests == []

    # A second init keeps the chain (the local value is ours now, the record stands).
    assert run_cli("init", "--tools", "claude-code", cwd=repo).code == 0
    entry = registry.lookup(repo_id)
    assert entry is not None and entry.upstream("anthropic") == gateway.url + "/anthropic"

    r = run_cli("uninstall", cwd=repo)
    assert r.code == 0, r.err
    assert local.read_text() == original
    entry = registry.lookup(repo_id)
    assert entry is None or entry.upstream("anthropic") is None


def test_a_gateway_in_the_environment_is_chained(
    repo: Path,
    proxy: str,
    vendor: FakeAnthropic,
    gateway: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", gateway.url)
    r = run_cli("init", "--tools", "claude-code", cwd=repo)
    assert r.code == 0, r.err
    assert "(ANTHROPIC_BASE_URL in the environment) is kept" in r.out
    routed = json.loads((repo / ".claude/settings.local.json").read_text())["env"]
    ask(routed["ANTHROPIC_BASE_URL"])
    assert len(gateway.message_requests()) == 1 and vendor.requests == []


def test_without_a_gateway_the_vendor_is_the_upstream(
    repo: Path, proxy: str, vendor: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    assert run_cli("init", "--tools", "claude-code", cwd=repo).code == 0
    entry = registry.lookup(Repo(repo).repo_id)
    assert entry is not None and entry.upstreams == ()
    routed = json.loads((repo / ".claude/settings.local.json").read_text())["env"]
    ask(routed["ANTHROPIC_BASE_URL"])
    assert len(vendor.message_requests()) == 1


def test_a_gateway_setting_that_is_not_a_url_leaves_claude_code_unrouted(
    repo: Path, proxy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All or nothing: neither routed nor hooked, and one line says why."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "gateway.corp.internal")
    r = run_cli("init", "--tools", "claude-code", cwd=repo)
    assert r.code == 1
    assert [ln for ln in r.err.splitlines() if ln.startswith("pretense-dev:")] == [
        "pretense-dev: ANTHROPIC_BASE_URL in the environment is not an http(s) URL; "
        "Claude Code left untouched"
    ]
    assert not (repo / ".claude/settings.local.json").exists()
    assert not (repo / ".claude/settings.json").exists()
    assert os.environ["ANTHROPIC_BASE_URL"] == "gateway.corp.internal"
