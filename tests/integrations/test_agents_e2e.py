"""End to end: real CLIs (Codex, aider, llm, Gemini, Copilot, Claude Code on Bedrock/Vertex).

Each is set up only by `pretense-dev init` (plus the user's own environment: a
key, a cloud mode) and must reach its loopback vendor through the proxy.

A tmp repository (in a directory named after one of its protected identifiers,
so the checkout path the CLIs send is itself something to hide), a tmp HOME,
the proxy started as a user would, and a scripted loopback fake of the vendor
(OpenAI, Gemini, Bedrock, Vertex: the one part that cannot exist here) that
acts on what it receives — synthetic names.  Codex and aider are asked to
change a function; the fake answers with an edit written against the synthetic
names, in the tool's own way (a shell command for Codex, a SEARCH/REPLACE
block in streamed text for aider).
The edit must land on the real file with the real names (Codex, aider; the
others are asked for prose), the CLI must show the real names, no request
(body or header) may carry a protected name, and the audit names the client.

The CLIs are looked up under `.tools/` (`make tools` installs them there, pinned),
then on PATH; a test says why it skipped when its CLI is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pretense_dev.audit.store import AuditStore
from pretense_dev.proxy.replay import (
    Answer,
    BackgroundServer,
    Recorded,
    ReplayUpstream,
    Reply,
    reply_for,
)
from pretense_dev.repo import Repo
from tests.conftest import REPO_ROOT, git, run_cli, write

CODEX_INSTALL = "npm install --prefix .tools/codex @openai/codex@0.171.0"
AIDER_INSTALL = "python3 -m venv .tools/aider && .tools/aider/bin/pip install aider-chat==0.86.2"


def _find(local: str, name: str) -> str | None:
    candidate = REPO_ROOT / local
    return str(candidate) if candidate.exists() else shutil.which(name)


CODEX = _find(".tools/codex/node_modules/.bin/codex", "codex")
AIDER = _find(".tools/aider/bin/aider", "aider")

LEDGER = (
    "class LedgerReconciler:\n"
    "    def reconcile_invoices(self, batch_total):\n"
    "        return batch_total\n"
)
DOUBLED = LEDGER.replace("return batch_total", "return batch_total * 2")
REAL_NAMES = ("LedgerReconciler", "reconcile_invoices", "batch_total")
TASK = "E2E-TASK: in billing/ledger.py make reconcile_invoices return double batch_total."
KEY = "sk-test-not-a-key"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose directory name is a protected identifier."""
    root = tmp_path / "reconcile_invoices"
    root.mkdir()
    git(root, "init", "-q")
    write(root, {"billing/ledger.py": LEDGER})
    git(root, "add", "-A")
    git(root, "commit", "-qm", "ledger")
    return root


class Fake:
    """The OpenAI API on 127.0.0.1, answering with `script(request, synthetic names seen)`."""

    def __init__(self, script: Callable[[Recorded, dict[str, str]], Answer]) -> None:
        self.script = script
        self.names: dict[str, str] = {}
        self.upstream = ReplayUpstream(self.respond)
        self.bg = BackgroundServer()
        self.url = f"http://127.0.0.1:{self.bg.serve(self.upstream.app)}"

    def respond_names(self, rec: Recorded) -> bool:
        """Note the synthetic names the task reached the vendor with; whether they are known."""
        text = rec.body.decode("utf-8", "replace")
        if TASK.split(":")[0] in text and not self.names:
            m = re.search(r"make (\w+) return double (\w+)\.", text)
            assert m, "the task did not reach the vendor"
            self.names = {"meth": m.group(1), "var": m.group(2)}
        return bool(self.names)

    def respond(self, rec: Recorded) -> Reply:
        self.respond_names(rec)
        return reply_for(rec, self.script(rec, self.names))

    def close(self) -> None:
        self.bg.close()


@pytest.fixture
def proxied(isolated_user: Path) -> Iterator[Callable[[Callable[..., Answer]], Fake]]:
    fakes: list[Fake] = []

    def start(script: Callable[[Recorded, dict[str, str]], Answer]) -> Fake:
        fake = Fake(script)
        fakes.append(fake)
        r = run_cli("proxy", "start", "--port", "0", "--upstream-openai", fake.url)
        assert r.code == 0, r.err
        return fake

    try:
        yield start
    finally:
        run_cli("proxy", "stop")
        for f in fakes:
            f.close()


def protected(root: Path) -> set[str]:
    with Repo(root).open_store() as store:
        names = set(store.load_map().forward)
    assert set(REAL_NAMES) <= names
    return names


def assert_nothing_real_was_sent(fake: Fake, names: set[str]) -> None:
    """No protected name in any request, outside the tool definitions.

    Tool definitions are the CLI's own text and go as sent (the proxy exempts them
    by design); the Copilot CLI's describe "model billing multipliers", and
    `billing` is a protected name here.
    """
    assert fake.upstream.records
    for rec in fake.upstream.records:
        body = rec.json() if rec.body else {}
        if isinstance(body, dict):
            body.pop("tools", None)
        sent = json.dumps(body).encode() + json.dumps(rec.headers).encode()
        for name in names:
            assert not re.search(rb"\b" + name.encode() + rb"\b", sent), (name, rec.path)
    assert not any(n in REAL_NAMES for n in fake.names.values())


def audited_tools() -> set[str]:
    with AuditStore.open_readonly() as store:
        return {s.event.tool for s in store.events() if s.event.endpoint}


def tool_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AIDER_"))}
    bin_dir = str(Path(sys.executable).parent)  # our `pretense-dev`
    env.update(HOME=str(home), OPENAI_API_KEY=KEY, PATH=f"{bin_dir}:{env.get('PATH', '')}")
    return env


# -- Codex CLI ---------------------------------------------------------------------------


@pytest.mark.skipif(CODEX is None, reason=f"the Codex CLI is not installed: run `{CODEX_INSTALL}`")
def test_codex_edit_goes_through_the_proxy_and_lands_with_real_names(
    repo: Path, isolated_user: Path, proxied: Callable[..., Fake]
) -> None:
    def script(rec: Recorded, n: dict[str, str]) -> Answer:
        body: dict[str, Any] = rec.json() if rec.body else {}
        if '"function_call_output"' in rec.body.decode():
            return Answer(text=f"Done: {n['meth']} now returns {n['var']} * 2.", pieces=5)
        if n:
            cmd = f"sed -i 's/return {n['var']}$/return {n['var']} * 2/' billing/ledger.py"
            return Answer(text="", tool_name="exec_command", tool_input={"cmd": cmd})
        return Answer(text="ok" if body else "")

    fake = proxied(script)
    assert run_cli("init", "--tools", "codex", cwd=repo).code == 0
    assert CODEX is not None
    env = tool_env(isolated_user)
    env["PATH"] = f"{Path(CODEX).parent}:{env['PATH']}"
    p = subprocess.run(
        [sys.executable, "-m", "pretense_dev", "codex", "exec", "--skip-git-repo-check",
         "--sandbox", "danger-full-access", TASK],
        cwd=repo, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert p.returncode == 0, (p.stdout[-2000:], p.stderr[-3000:])
    assert (repo / "billing/ledger.py").read_text() == DOUBLED
    assert "Done: reconcile_invoices now returns batch_total * 2." in p.stdout
    assert_nothing_real_was_sent(fake, protected(repo))
    # The per-turn metadata, checkout path included, reached the vendor mutated.
    turns = [r for r in fake.upstream.records if r.path.endswith("/responses")]
    assert len(turns) >= 2
    meta = turns[0].headers["x-codex-turn-metadata"]
    assert "/reconcile_invoices" not in meta and f"/{fake.names['meth']}" in meta
    assert json.loads(meta)["analytics_enabled"] is False  # the profile turned analytics off
    assert f"/{fake.names['meth']}" in json.dumps(turns[0].json()["client_metadata"])
    assert all(r.headers["Authorization"] == f"Bearer {KEY}" for r in turns)
    assert "codex" in audited_tools()


@pytest.mark.skipif(CODEX is None, reason=f"the Codex CLI is not installed: run `{CODEX_INSTALL}`")
def test_codex_ignores_a_project_provider_even_in_a_trusted_project(
    repo: Path, isolated_user: Path
) -> None:
    """Why a plain `codex` cannot be routed per repository (so `pretense-dev codex` is).

    With the project trusted in the user's config, a provider (or `openai_base_url`,
    or `profile`) in the project's `.codex/config.toml` is ignored with a warning and
    the user's own provider gets the request; a `.env` in the project (or in its
    `.codex/`) setting `OPENAI_BASE_URL` or `CODEX_HOME` is not read either.  Should
    a Codex release honour any of them, this fails, and init can then route a plain
    `codex`.
    """
    users, projects = Fake(lambda r, n: Answer(text="ok")), Fake(lambda r, n: Answer(text="ok"))
    try:
        provider = '\n[model_providers.{0}]\nname = "{0}"\nbase_url = "{1}/v1"\n'
        provider += 'wire_api = "responses"\nenv_key = "OPENAI_API_KEY"\n'
        root = json.dumps(str(repo.resolve()))
        write(isolated_user, {
            ".codex/config.toml": 'model_provider = "mine"\n' + provider.format("mine", users.url)
            + f'\n[projects.{root}]\ntrust_level = "trusted"\n',
        })  # fmt: skip
        write(repo, {
            ".codex/config.toml": 'model_provider = "project"\n'
            f'openai_base_url = "{projects.url}/v1"\nprofile = "project"\n'
            + provider.format("project", projects.url),
            ".env": f"OPENAI_BASE_URL={projects.url}/v1\nCODEX_HOME={repo}/.codex\n",
            ".codex/.env": f"OPENAI_BASE_URL={projects.url}/v1\n",
        })  # fmt: skip
        assert CODEX is not None
        p = subprocess.run(
            [CODEX, "exec", "--skip-git-repo-check", "say ok"],
            cwd=repo, env=tool_env(isolated_user), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        users.close()
        projects.close()
    assert p.returncode == 0, (p.stdout[-2000:], p.stderr[-3000:])
    warned = re.search(
        "Ignored unsupported project-local config keys in "
        + re.escape(f"{repo.resolve()}/.codex/config.toml: ")
        + r"([\w, ]+)\. If you want these settings to apply, manually set them in your "
        "user-level config.toml.",
        p.stderr,
    )
    assert warned, p.stderr[-3000:]
    ignored = set(warned.group(1).split(", "))
    assert ignored == {"model_provider", "model_providers", "openai_base_url", "profile"}
    assert [r.path for r in users.upstream.records] == ["/v1/responses"]
    assert projects.upstream.records == []


# -- aider ------------------------------------------------------------------------------


@pytest.mark.skipif(AIDER is None, reason=f"aider is not installed: run `{AIDER_INSTALL}`")
def test_aider_edit_goes_through_the_proxy_and_lands_with_real_names(
    repo: Path, isolated_user: Path, proxied: Callable[..., Fake]
) -> None:
    def script(rec: Recorded, n: dict[str, str]) -> Answer:
        if not n:
            return Answer(text="ok")
        edit = (
            "billing/ledger.py\n```python\n<<<<<<< SEARCH\n"
            f"        return {n['var']}\n=======\n        return {n['var']} * 2\n"
            f">>>>>>> REPLACE\n```\nDone: {n['meth']} now returns {n['var']} * 2.\n"
        )
        return Answer(text=edit, pieces=9)

    fake = proxied(script)
    assert run_cli("init", "--tools", "aider", cwd=repo).code == 0
    # aider looks its model up in a price list it downloads; a cached one keeps the test
    # off the network (and fast).  The real list is public; this entry is the shape.
    cache = isolated_user / ".aider" / "caches" / "model_prices_and_context_window.json"
    cache.parent.mkdir(parents=True)
    cache.write_text(
        json.dumps(
            {"gpt-4.1": {"max_input_tokens": 1047576, "litellm_provider": "openai", "mode": "chat"}}
        )
    )
    assert AIDER is not None
    p = subprocess.run(
        [AIDER, "--model", "gpt-4.1", "--yes-always", "--no-auto-commits", "--no-gitignore",
         "--no-pretty", "--no-show-release-notes", "--map-tokens", "0",
         "--message", TASK, "billing/ledger.py"],
        cwd=repo, env=tool_env(isolated_user), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert p.returncode == 0, (p.stdout[-2000:], p.stderr[-2000:])
    assert (repo / "billing/ledger.py").read_text() == DOUBLED
    assert "Done: reconcile_invoices now returns batch_total * 2." in p.stdout
    assert_nothing_real_was_sent(fake, protected(repo))
    chats = [r for r in fake.upstream.records if r.path.endswith("/chat/completions")]
    assert chats and all(r.headers["Authorization"] == f"Bearer {KEY}" for r in chats)
    # The header init's .aider.model.settings.yml adds names aider to the audit.
    assert audited_tools() == {"aider"}


# -- llm (routed from the shell: `pretense-dev env llm`) ----------------------------------

LLM = _find(".tools/llm/bin/llm", "llm")
LLM_INSTALL = "python3 -m venv .tools/llm && .tools/llm/bin/pip install llm==0.36"


@pytest.mark.skipif(LLM is None, reason=f"llm is not installed: run `{LLM_INSTALL}`")
def test_llm_routed_by_env_is_audited_by_name(
    repo: Path, isolated_user: Path, proxied: Callable[..., Fake]
) -> None:
    """`llm` sends nothing naming itself: the tag in the base URL `env llm` prints does."""
    import shlex

    fake = proxied(lambda rec, n: Answer(text=f"{n['meth']} doubles {n['var']}." if n else "ok"))
    assert run_cli("init", "--no-tools", cwd=repo).code == 0
    r = run_cli("env", "llm", cwd=repo)
    assert r.code == 0, r.err
    [(var, url)] = [shlex.split(line)[1].split("=", 1) for line in r.out.splitlines()]
    assert var == "OPENAI_BASE_URL" and url.endswith("/t/llm/v1"), r.out
    assert LLM is not None
    env = tool_env(isolated_user)
    env.update(OPENAI_BASE_URL=url, LLM_USER_PATH=str(isolated_user / "llm"))
    p = subprocess.run(
        [LLM, "-m", "gpt-4.1", TASK],
        cwd=repo, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert p.returncode == 0, (p.stdout[-2000:], p.stderr[-2000:])
    assert p.stdout.strip() == "reconcile_invoices doubles batch_total."
    # The vendor got the API's own path: the tag stayed in the proxy.
    assert [r.path for r in fake.upstream.records] == ["/chat/completions"]
    assert fake.upstream.records[0].headers["User-Agent"].startswith("OpenAI/Python")
    assert fake.upstream.records[0].headers["Authorization"] == f"Bearer {KEY}"
    assert_nothing_real_was_sent(fake, protected(repo))
    assert audited_tools() == {"llm"}


# -- Gemini CLI (set up by init: .gemini/.env) --------------------------------------------

GEMINI = _find(".tools/gemini-cli/node_modules/.bin/gemini", "gemini")
GEMINI_INSTALL = "npm install --prefix .tools/gemini-cli @google/gemini-cli@0.61.0"


@pytest.mark.skipif(
    GEMINI is None, reason=f"the Gemini CLI is not installed: run `{GEMINI_INSTALL}`"
)
def test_gemini_cli_is_routed_by_the_env_file_init_writes(repo: Path, isolated_user: Path) -> None:
    from pretense_dev.config import DEFAULT_CONFIG_TEXT
    from pretense_dev.proxy.replay_cloud import cloud_reply

    # The team's policy approves Gemini (committed before this clone's init).
    policy = DEFAULT_CONFIG_TEXT.replace(
        'vendors = ["anthropic", "openai"]', 'vendors = ["anthropic", "openai", "gemini"]'
    )
    assert policy != DEFAULT_CONFIG_TEXT
    write(repo, {".pretense/config.toml": policy})
    fake = Fake(lambda rec, n: Answer(text=f"{n['meth']} doubles {n['var']}.", pieces=4))
    try:
        r = run_cli("proxy", "start", "--port", "0", "--upstream", f"gemini={fake.url}")
        assert r.code == 0, r.err
        assert run_cli("init", "--tools", "gemini-cli", cwd=repo).code == 0
        settings = {  # API-key auth; usage statistics and updates off (they would go direct)
            "security": {"auth": {"selectedType": "gemini-api-key"}},
            "privacy": {"usageStatisticsEnabled": False},
            "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
        }
        write(isolated_user, {".gemini/settings.json": json.dumps(settings)})
        env = tool_env(isolated_user)
        env.pop("GOOGLE_GEMINI_BASE_URL", None)  # only the .env file init wrote routes it
        env.update(GEMINI_API_KEY="gemini-test-key", GEMINI_CLI_NO_RELAUNCH="true", NO_COLOR="1")
        fake.upstream.responder = lambda rec: cloud_reply(
            rec, fake.script(rec, fake.names) if fake.respond_names(rec) else Answer("ok")
        )
        assert GEMINI is not None
        p = subprocess.run(
            [GEMINI, "--skip-trust", "-m", "gemini-2.5-pro", "-p", TASK],
            cwd=repo, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
    finally:
        run_cli("proxy", "stop")
        fake.close()
    assert "reconcile_invoices doubles batch_total." in p.stdout, (
        p.stdout[-2000:],
        p.stderr[-2000:],
    )
    assert [r.path for r in fake.upstream.records] == [
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent"
    ]
    assert_nothing_real_was_sent(fake, protected(repo))
    assert "gemini-cli" in audited_tools()


class ConnectTrap:
    """An HTTPS proxy on 127.0.0.1 that records each host a client asks it for, and refuses.

    Given to the CLI as HTTPS_PROXY (with the proxy's own 127.0.0.1 in NO_PROXY),
    it shows every host the CLI tries to reach directly, outside pretense-dev.
    """

    def __init__(self) -> None:
        import http.server
        import threading

        hosts: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_CONNECT(self) -> None:
                hosts.append(self.path)
                self.send_response(403)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.hosts = hosts
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.skipif(
    GEMINI is None, reason=f"the Gemini CLI is not installed: run `{GEMINI_INSTALL}`"
)
def test_gemini_cli_usage_statistics_stay_home_in_a_trusted_folder(
    repo: Path, isolated_user: Path
) -> None:
    """`init` turns usage statistics off in the workspace settings; proved by where the CLI goes.

    Gemini CLI 0.61.0 posts usage statistics to play.googleapis.com (outside the
    proxy) unless privacy.usageStatisticsEnabled is false.  The user's settings
    here say nothing about it.  With `--skip-trust` the CLI reads the settings
    before it trusts the folder, so the workspace file does not apply and the
    statistics go (the trap sees them: it works); in a folder the user trusted
    (the file the CLI's trust dialog writes) they do not.
    """
    from pretense_dev.config import DEFAULT_CONFIG_TEXT
    from pretense_dev.proxy.replay_cloud import cloud_reply

    policy = DEFAULT_CONFIG_TEXT.replace(
        'vendors = ["anthropic", "openai"]', 'vendors = ["anthropic", "openai", "gemini"]'
    )
    write(repo, {".pretense/config.toml": policy})
    fake = Fake(lambda rec, n: Answer(text="ok"))
    fake.upstream.responder = lambda rec: cloud_reply(rec, Answer(text="pong", pieces=2))
    trap = ConnectTrap()
    settings = {"security": {"auth": {"selectedType": "gemini-api-key"}}}
    write(isolated_user, {".gemini/settings.json": json.dumps(settings)})
    env = tool_env(isolated_user)
    for var in [k for k in env if k.startswith(("GEMINI_", "GOOGLE_")) or "proxy" in k.lower()]:
        del env[var]
    env.update(
        GEMINI_API_KEY="gemini-test-key", GEMINI_CLI_NO_RELAUNCH="true", NO_COLOR="1",
        HTTPS_PROXY=trap.url, NO_PROXY="127.0.0.1,localhost",
    )  # fmt: skip
    assert GEMINI is not None

    def gemini(*flags: str) -> tuple[list[str], list[str]]:
        """(paths the vendor received, hosts the CLI tried to reach directly) of one run."""
        fake.upstream.records.clear()
        trap.hosts.clear()
        p = subprocess.run(
            [GEMINI, *flags, "-m", "gemini-2.5-pro", "-p", "say pong"],
            cwd=repo, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert p.returncode == 0 and "pong" in p.stdout, (p.stdout[-2000:], p.stderr[-2000:])
        return [r.path for r in fake.upstream.records], sorted(set(trap.hosts))

    try:
        r = run_cli("proxy", "start", "--port", "0", "--upstream", f"gemini={fake.url}")
        assert r.code == 0, r.err
        assert run_cli("init", "--tools", "gemini-cli", cwd=repo).code == 0
        assert json.loads((repo / ".gemini/settings.json").read_text()) == {
            "privacy": {"usageStatisticsEnabled": False}
        }
        routed = ["/v1beta/models/gemini-2.5-pro:streamGenerateContent"]
        assert gemini("--skip-trust") == (routed, ["play.googleapis.com:443"])
        trusted = {str(repo.resolve()): "TRUST_FOLDER"}
        write(isolated_user, {".gemini/trustedFolders.json": json.dumps(trusted)})
        assert gemini() == (routed, [])
    finally:
        run_cli("proxy", "stop")
        fake.close()
        trap.close()
    assert "gemini-cli" in audited_tools()


# -- Claude Code on Bedrock (set up by init: ANTHROPIC_BEDROCK_BASE_URL) --------------------

CLAUDE = _find(".tools/claude-code/node_modules/.bin/claude", "claude")
CLAUDE_INSTALL = "npm install --prefix .tools/claude-code @anthropic-ai/claude-code@2.1.331"


def claude_in_cloud(
    repo: Path, home: Path, vendor: str, env_extra: dict[str, str]
) -> tuple[Fake, dict[str, Any]]:
    """Run Claude Code in a cloud mode (`vendor`) as set up by `init`, against a fake cloud.

    The cloud is allowed by the repository's policy, the proxy chains to the fake,
    and the answer must come back with the real names.  Returns the fake (what it
    received) and the `.claude/settings.local.json` that `init` wrote.
    """
    from pretense_dev.config import DEFAULT_CONFIG_TEXT
    from pretense_dev.proxy.replay_cloud import cloud_reply

    policy = DEFAULT_CONFIG_TEXT.replace(
        'vendors = ["anthropic", "openai"]', f'vendors = ["anthropic", "openai", "{vendor}"]'
    )
    write(repo, {".pretense/config.toml": policy})
    fake = Fake(lambda rec, n: Answer(text=f"{n['meth']} doubles {n['var']}.", pieces=4))
    fake.upstream.responder = lambda rec: cloud_reply(
        rec, fake.script(rec, fake.names) if fake.respond_names(rec) else Answer("ok")
    )
    try:
        r = run_cli("proxy", "start", "--port", "0", "--upstream", f"{vendor}={fake.url}")
        assert r.code == 0, r.err
        assert run_cli("init", "--tools", "claude-code", cwd=repo).code == 0
        local = json.loads((repo / ".claude/settings.local.json").read_text())
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
        env.update(
            HOME=str(home),
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
            DISABLE_AUTOUPDATER="1",
            **env_extra,
        )
        assert CLAUDE is not None
        p = subprocess.run(
            [CLAUDE, "-p", TASK, "--output-format", "json"],
            cwd=repo, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
    finally:
        run_cli("proxy", "stop")
        fake.close()
    assert p.returncode == 0, (p.stdout[-2000:], p.stderr[-2000:])
    result = json.loads(p.stdout.strip().splitlines()[-1])
    assert result.get("result") == "reconcile_invoices doubles batch_total.", result
    return fake, local


@pytest.mark.skipif(CLAUDE is None, reason=f"Claude Code is not installed: run `{CLAUDE_INSTALL}`")
def test_claude_code_in_bedrock_mode_is_routed_by_what_init_writes(
    repo: Path, isolated_user: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.proxy.test_cloud import AKID, SECRET

    # The developer's shell: Bedrock mode and AWS credentials, for Claude Code and the proxy.
    aws = {
        "CLAUDE_CODE_USE_BEDROCK": "1",
        "AWS_ACCESS_KEY_ID": AKID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_REGION": "us-west-2",
        "AWS_CONFIG_FILE": str(isolated_user / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(isolated_user / "aws-credentials"),
    }
    for k, v in aws.items():
        monkeypatch.setenv(k, v)
    fake, local = claude_in_cloud(repo, isolated_user, "bedrock", {})
    assert list(local["env"]) == ["ANTHROPIC_BEDROCK_BASE_URL"]
    calls = [r for r in fake.upstream.records if "/invoke" in r.path]
    assert calls and all(r.path.startswith("/model/") for r in calls)
    assert all("Signature=" in r.headers["Authorization"] for r in calls)  # signed again
    assert_nothing_real_was_sent(fake, protected(repo))
    assert "claude-code" in audited_tools()


@pytest.mark.skipif(CLAUDE is None, reason=f"Claude Code is not installed: run `{CLAUDE_INSTALL}`")
def test_claude_code_in_vertex_mode_is_routed_by_what_init_writes(
    repo: Path, isolated_user: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_CODE_USE_VERTEX", "1")
    vertex = {
        # The Google access token would pass through untouched; the fake needs none.
        "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1",
        "ANTHROPIC_VERTEX_PROJECT_ID": "acme-dev",
        "CLOUD_ML_REGION": "us-east5",
    }
    fake, local = claude_in_cloud(repo, isolated_user, "vertex", vertex)
    assert local["env"]["ANTHROPIC_VERTEX_BASE_URL"].endswith("/v1")
    calls = [r for r in fake.upstream.records if "RawPredict" in r.path]
    assert calls and all(
        r.path.startswith("/v1/projects/acme-dev/locations/us-east5/publishers/anthropic/")
        for r in calls
    )
    assert_nothing_real_was_sent(fake, protected(repo))


# -- Copilot CLI (run as `pretense-dev copilot`) -----------------------------------------

COPILOT = _find(".tools/copilot/node_modules/.bin/copilot", "copilot")
COPILOT_INSTALL = "npm install --prefix .tools/copilot @github/copilot@1.0.102"


@pytest.mark.skipif(
    COPILOT is None, reason=f"the Copilot CLI is not installed: run `{COPILOT_INSTALL}`"
)
def test_copilot_cli_through_the_wrapper_offline(
    repo: Path, isolated_user: Path, proxied: Callable[..., Fake]
) -> None:
    fake = proxied(lambda rec, n: Answer(text=f"{n['meth']} doubles {n['var']}." if n else "ok"))
    assert run_cli("init", "--tools", "copilot", cwd=repo).code == 0
    assert COPILOT is not None
    env = tool_env(isolated_user)
    env = {k: v for k, v in env.items() if not k.startswith("COPILOT_")}
    env.update(PATH=f"{Path(COPILOT).parent}:{env['PATH']}", COPILOT_PROVIDER_API_KEY=KEY)
    p = subprocess.run(
        [sys.executable, "-m", "pretense_dev", "copilot", "-p", TASK],
        cwd=repo, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert p.returncode == 0, (p.stdout[-2000:], p.stderr[-2000:])
    assert "reconcile_invoices doubles batch_total." in p.stdout
    chats = [r for r in fake.upstream.records if r.path.endswith("/chat/completions")]
    assert chats and all(r.headers["Authorization"] == f"Bearer {KEY}" for r in chats)
    assert_nothing_real_was_sent(fake, protected(repo))
    assert "copilot" in audited_tools()
