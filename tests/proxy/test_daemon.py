"""`pretense-dev proxy start|status|url|logs|stop` as a user runs them, on a real repo."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest

from pretense_dev.proxy import canary, state
from pretense_dev.proxy.replay import Answer, BackgroundServer, ReplayUpstream, reply_for
from tests.conftest import git, run_cli, write


@pytest.fixture
def upstream() -> Iterator[tuple[ReplayUpstream, str]]:
    bg = BackgroundServer()
    up = ReplayUpstream()
    port = bg.serve(up.app)
    try:
        yield up, f"http://127.0.0.1:{port}"
    finally:
        bg.close()


@pytest.fixture
def repo(git_repo: Path) -> Path:
    write(
        git_repo,
        {
            "billing/ledger.py": (
                "class LedgerReconciler:\n    def reconcile_batch(self):\n        pass\n"
            )
        },
    )
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "code")
    r = run_cli("init", "--no-tools", cwd=git_repo)
    assert r.code == 0, r.err
    return git_repo


def test_start_status_url_verify_stop(repo: Path, upstream: tuple[ReplayUpstream, str]) -> None:
    up, up_url = upstream
    r = run_cli(
        "proxy",
        "start",
        "--port",
        "0",
        "--upstream-anthropic",
        up_url,
        "--upstream-openai",
        up_url + "/v1",
    )
    try:
        assert r.code == 0, r.err
        st = state.running()
        assert st is not None
        assert r.out.strip() == f"the proxy is running on {st.url} (pid {st.pid})"
        assert (st.upstream_anthropic, st.upstream_openai) == (up_url, up_url + "/v1")
        assert oct(state.state_path().stat().st_mode & 0o777) == "0o600"

        again = run_cli("proxy", "start", "--port", "0")
        assert (
            again.code == 0
            and again.out.strip() == f"the proxy is already running on {st.url} (pid {st.pid})"
        )

        status = run_cli("proxy", "status")
        assert status.code == 0 and f"running:   {st.url} (pid {st.pid}" in status.out

        repo_id = (repo / ".pretense" / "repo-id").read_text().strip()
        url = run_cli("proxy", "url", cwd=repo)
        assert url.code == 0 and url.out.splitlines()[-1] == f"{st.url}/r/{repo_id}"

        # verify's view: a canary mutated exactly as the local key and map predict
        from pretense_dev.keys import load_key
        from pretense_dev.repo import Repo

        with Repo(repo).open_store() as store:
            local, version = store.load_map(), store.map_version()
        nonce, text = canary.challenge(["LedgerReconciler", "reconcile_batch"])
        reply = canary.ask(st.url, repo_id, nonce, text)
        verdict = canary.check(
            reply,
            key=load_key(repo_id),
            nonce=nonce,
            repo_id=repo_id,
            text=text,
            mutate=local.mutate,
            local_map_version=version,
        )
        assert verdict.ok, verdict.problems
        assert "LedgerReconciler" not in reply["mutated"]

        up.responder = lambda rec: reply_for(
            rec, Answer(text=local.mutate("fixed reconcile_batch"))
        )
        client = anthropic.Anthropic(
            base_url=f"{st.url}/r/{repo_id}", api_key="sk-ant-daemon-key", max_retries=0
        )
        msg = client.messages.create(
            model="m",
            max_tokens=5,
            messages=[{"role": "user", "content": "why LedgerReconciler?"}],
        )
        assert msg.content[0].type == "text" and msg.content[0].text == "fixed reconcile_batch"
        assert b"LedgerReconciler" not in up.records[-1].body
        # one hash-chained audit event for that request: names, no prompt, no credential
        from pretense_dev.audit.store import AuditStore

        event = None
        deadline = time.monotonic() + 10
        while event is None and time.monotonic() < deadline:
            with AuditStore.open_readonly() as store:
                found = [e.event for e in store.events("event = 'request'")]
                verified = store.verify().ok
            event = found[-1] if found else None
            if event is None:
                time.sleep(0.05)  # the audit thread appends after the answer went out
        assert event is not None and verified
        assert event.decision == "forwarded" and event.repo_id == repo_id
        assert event.vendor == "anthropic" and event.upstream_status == 200
        assert "LedgerReconciler" in event.identifiers
        raw = json.dumps(event.to_dict())
        assert "sk-ant-daemon-key" not in raw and "why" not in raw

        logs = run_cli("proxy", "logs", "-n", "20")
        assert logs.code == 0 and "listening on" in logs.out
        assert "sk-ant-daemon-key" not in logs.out and "why" not in logs.out
    finally:
        stopped = run_cli("proxy", "stop")
    assert stopped.code == 0 and stopped.out.startswith("stopped the proxy")
    assert state.running() is None and not state.state_path().exists()
    assert run_cli("proxy", "status").code == 1
    assert run_cli("proxy", "stop").out.strip() == "the proxy is not running"


def test_start_reports_a_port_in_use(upstream: tuple[ReplayUpstream, str]) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    try:
        r = run_cli("proxy", "start", "--port", str(s.getsockname()[1]))
    finally:
        s.close()
    assert r.code == 1
    assert "the proxy did not start" in r.err and "cannot listen" in r.err
    assert state.running() is None


def test_url_outside_a_repo_and_not_running(git_repo: Path) -> None:
    r = run_cli("proxy", "url", cwd=git_repo)
    assert r.code == 1 and "not initialised" in r.err


@pytest.mark.parametrize(
    "module",
    ["pretense_dev.proxy.state", "pretense_dev.proxy.canary", "pretense_dev.proxy.commands"],
)
def test_lean_modules_do_not_import_aiohttp(module: str) -> None:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert not [m for m in loaded if m.split(".")[0] in ("aiohttp", "orjson", "yarl", "multidict")]


def _wait_for_name(root: Path, name: str, timeout: float = 30) -> bool:
    """Poll the repo's index until `name` is protected (the daemon's watcher indexes it)."""
    from pretense_dev.repo import Repo

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Repo(root).open_store() as store:
            if store.issued([name]).get(name) is not None:
                return True
        time.sleep(0.1)
    return False


def test_daemon_watches_registered_repos(
    repo: Path, upstream: tuple[ReplayUpstream, str], tmp_path: Path
) -> None:
    _, up_url = upstream
    r = run_cli("proxy", "start", "--port", "0", "--upstream-anthropic", up_url)
    assert r.code == 0, r.err
    try:
        # A file written outside any editor, with no `pretense-dev index`.
        write(repo, {"billing/cutoff.py": "def settlement_cutoff_hours():\n    pass\n"})
        assert _wait_for_name(repo, "settlement_cutoff_hours")
        # A repository initialised while the proxy runs is picked up too.
        other = tmp_path / "other"
        other.mkdir()
        git(other, "init", "-q")
        write(other, {"a.py": "x = 1\n"})
        assert run_cli("init", "--no-tools", cwd=other).code == 0
        write(other, {"b.py": "def dunning_retry_budget():\n    pass\n"})
        assert _wait_for_name(other, "dunning_retry_budget")
        logs = run_cli("proxy", "logs", "-n", "50")
        assert "watching 1 repositories" in logs.out
    finally:
        assert run_cli("proxy", "stop").code == 0
