"""`pretense-dev verify` against the real proxy, an impostor, and drifted settings; `doctor`."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pretense_dev.lifecycle import init_repo
from pretense_dev.proxy import state
from tests.conftest import run_cli
from tests.integrations.conftest import STUB, commit_code, running_proxy

RESTART = "pretense-dev proxy stop && pretense-dev proxy start"


@pytest.fixture
def repo(git_repo: Path) -> Path:
    return commit_code(git_repo, STUB)


@pytest.fixture
def proxy() -> Iterator[str]:
    with running_proxy("http://127.0.0.1:9") as st:
        yield st.url


def test_verify_passes_then_names_drift_with_its_fix(repo: Path, proxy: str) -> None:
    init_repo(repo, tools=("claude-code", "cursor"))
    r = run_cli("verify", cwd=repo)
    assert r.code == 0, r.err
    assert r.out.startswith(f"ok: {repo} is protected (proxy {proxy}, map version ")
    data = json.loads(run_cli("verify", "--json", cwd=repo).out)
    assert data["ok"] is True and data["proxy_url"] == proxy
    assert [(c["name"], c["ok"]) for c in data["checks"]] == [
        ("initialised", True),
        ("index", True),
        ("audit", True),
        ("proxy", True),
        ("canary", True),
        ("tools", True),
        ("claude-code", True),  # no `claude` on PATH here: nothing to warn about
        ("hook-start", True),  # every installed hook command was run once and answered
        ("git-hooks", True),  # a canary commit and push were refused by the secret scan
    ]
    (repo / ".cursor/hooks.json").write_text('{"version": 1, "hooks": {}}\n')
    r = run_cli("verify", cwd=repo)
    assert r.code == 1
    assert r.out == ""
    assert r.err.splitlines()[0] == (
        "FAIL cursor: .cursor/hooks.json: the sessionStart hook is missing: run `pretense-dev init`"
    )


def test_after_uninstall_verify_no_longer_says_protected(repo: Path, proxy: str) -> None:
    init_repo(repo, tools=("claude-code",))
    assert run_cli("verify", cwd=repo).code == 0
    r = run_cli("uninstall", cwd=repo)
    assert r.code == 0, r.err
    r = run_cli("verify", cwd=repo)
    assert r.code == 1
    assert r.out == ""
    assert r.err.splitlines() == [
        "FAIL no AI tool is set up to use the proxy here (.pretense/config.toml "
        "tools.configured is empty): run `pretense-dev init`",
        # uninstall also took the secret-scanning git hooks out
        "warn no secret-scanning git hooks (init --no-hooks?): a staged secret can be "
        "committed: run `pretense-dev hooks install`",
    ]


def test_verify_with_no_proxy_says_how_to_start_it(repo: Path) -> None:
    init_repo(repo, tools=("claude-code",))
    r = run_cli("verify", cwd=repo)
    assert r.code == 1
    assert r.err.splitlines() == [
        "FAIL pretense proxy is not running: run `pretense-dev proxy start`",
    ]
    data = json.loads(run_cli("verify", "--json", cwd=repo).out)
    assert data["ok"] is False
    assert data["checks"][3] == {
        "name": "proxy",
        "ok": False,
        "problem": "pretense proxy is not running",
        "fix": "pretense-dev proxy start",
        "warning": False,
        "line": "pretense proxy is not running: run `pretense-dev proxy start`",
    }


def test_verify_outside_an_initialised_repo(repo: Path) -> None:
    r = run_cli("verify", cwd=repo)
    assert r.code == 1
    assert r.err.strip() == (
        f"FAIL {repo} is not initialised for pretense-dev: run `pretense-dev init`"
    )


class Impostor:
    """Something on the proxy's port that answers like it but holds no key."""

    def __init__(self) -> None:
        pid = os.getpid()

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(self, data: dict[str, Any]) -> None:
                raw = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self._send({"service": "pretense-dev", "pid": pid, "version": "0.1.0"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                repo_id = self.path.split("/")[2]
                self._send(
                    {
                        "service": "pretense-dev",
                        "repo_id": repo_id,
                        "nonce": body["nonce"],
                        "map_version": 1,
                        "mutated": body["text"],  # mutates nothing: it has no map
                        "proof": "0" * 64,
                    }
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = int(self.server.server_address[1])


def test_an_impostor_on_the_port_fails_the_canary(repo: Path) -> None:
    init_repo(repo, tools=())
    imp = Impostor()
    try:
        state.write_state(
            state.ProxyState(
                pid=os.getpid(), host="127.0.0.1", port=imp.port, upstream_anthropic="x",
                upstream_openai="x", started_at=0.0, version="0.1.0", log_path="x",
            )
        )  # fmt: skip
        data = json.loads(run_cli("verify", "--json", cwd=repo).out)
    finally:
        imp.server.shutdown()
    assert data["ok"] is False
    canary = next(c for c in data["checks"] if c["name"] == "canary")
    assert "the proxy does not hold this repository's key" in canary["problem"]
    assert "mutates this repository's names differently" in canary["problem"]
    assert canary["fix"] == RESTART


def test_verify_and_doctor_warn_about_a_claude_code_too_old_to_block(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init_repo(repo, tools=("claude-code",))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "claude"
    fake.write_text("#!/bin/sh\necho '2.1.197 (Claude Code)'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    r = run_cli("verify", cwd=repo)
    assert (
        'warn Claude Code 2.1.197 ignores "onFailure": "block" (needs 2.1.295 or later), so a '
        "hook that cannot run lets the prompt through: upgrade it: "
        "`npm install -g @anthropic-ai/claude-code@latest`"
    ) in r.err.splitlines()
    d = run_cli("doctor", cwd=repo)
    assert any(
        line.startswith("warn  claude code: 2.1.197 ignores") for line in d.out.splitlines()
    ), d.out
    fake.write_text("#!/bin/sh\necho '2.1.331 (Claude Code)'\n")
    d = run_cli("doctor", cwd=repo)
    assert "ok    claude code: 2.1.331 (honours onFailure)" in d.out.splitlines()


def test_the_copilot_wrapper_routes_the_cli_through_the_proxy_after_verify(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init_repo(repo, tools=("copilot",))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "copilot"
    fake.write_text('#!/bin/sh\necho "$COPILOT_PROVIDER_BASE_URL $COPILOT_PROVIDER_TYPE $*"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    down = run_cli("copilot", "-p", "hi", cwd=repo)
    assert (down.code, down.out) == (1, "")
    assert "pretense proxy is not running: run `pretense-dev proxy start`" in down.err
    r = run_cli("proxy", "start", "--port", "0", "--upstream-anthropic", "http://127.0.0.1:9")
    assert r.code == 0, r.err
    try:
        st = state.running()
        assert st is not None
        up = run_cli("copilot", "-p", "hi", cwd=repo)
        env = run_cli("env", "copilot", cwd=repo)
    finally:
        run_cli("proxy", "stop")
    repo_id = (repo / ".pretense/repo-id").read_text().strip()
    assert up.code == 0, up.err
    assert up.out.strip() == f"{st.url}/r/{repo_id}/v1 openai -p hi"
    assert f"export COPILOT_PROVIDER_BASE_URL={st.url}/r/{repo_id}/v1" in env.out.splitlines()
    assert "export COPILOT_MODEL=gpt-4.1" in env.out.splitlines()


def test_hook_help_is_click_help(repo: Path) -> None:
    r = run_cli("hook", "--help", cwd=repo)
    assert r.code == 0 and "Answer one hook call" in r.out


def test_verify_and_doctor_prove_the_commit_hook_by_effect(repo: Path, proxy: str) -> None:
    """A hook replaced by another tool (here: one that always passes) is caught by what git does."""
    init_repo(repo, tools=("claude-code",))
    hook = repo / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\nexit 0\n")
    r = run_cli("verify", cwd=repo)
    assert r.code == 1
    assert r.err.splitlines() == [
        "FAIL .git/hooks/pre-commit is not the pretense-dev hook: run `pretense-dev hooks install`"
    ]
    r = run_cli("hooks", "check", cwd=repo)
    assert r.code == 1
    assert r.err.splitlines() == [
        "pretense-dev: .git/hooks/pre-commit is not the pretense-dev hook — run "
        "`pretense-dev hooks install`",
        "pretense-dev: a commit holding a secret went through: the commit hook did not block "
        "it — run `pretense-dev hooks install`",
    ]
    d = run_cli("doctor", cwd=repo)
    assert d.code == 1
    assert "FAIL  git hooks: a commit holding a secret went through: the commit" in d.out
    # The fix the line names works, and the proof then passes.
    hook.unlink()
    assert run_cli("hooks", "install", cwd=repo).code == 0
    r = run_cli("hooks", "check", cwd=repo)
    assert (r.code, r.out, r.err) == (
        0,
        "ok: a canary secret was refused at commit and at push\n",
        "",
    )


def test_a_hook_git_skips_is_caught_by_effect(repo: Path) -> None:
    """Git silently skips a hook that is not executable: reading the file cannot see it."""
    init_repo(repo, tools=())
    (repo / ".git/hooks/pre-push").chmod(0o644)
    r = run_cli("hooks", "check", cwd=repo)
    assert r.code == 1
    assert r.err.splitlines()[-1] == (
        "pretense-dev: a push of a commit holding a secret went through: the push hook did not "
        "block it — run `pretense-dev hooks install`"
    )
