"""init / verify drift / uninstall for Codex CLI, aider, Gemini CLI, Claude Code's cloud modes.

Every test starts from the user's own files (comments, odd endings) and ends
with `uninstall` giving back every byte; a setting of the user's is never
replaced, and a tool that cannot be set up wholly gets nothing.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from pretense_dev import registry
from pretense_dev.integrations import aider, claude_code, codex, copilot, gemini_cli, setup
from pretense_dev.integrations.base import Context
from pretense_dev.lifecycle import init_repo, uninstall_repo
from pretense_dev.repo import Repo
from tests.conftest import git, run_cli, write
from tests.integrations.test_tools import ours_only


def ctx_of(root: Path, **environ: str) -> Context:
    ctx = setup.context_for(root, Repo(root).repo_id, ("gpt-4.1",))
    return replace(ctx, environ=dict(environ))


def initialised(root: Path) -> Path:
    init_repo(root, tools=(), configure_tools=False, hooks=False)
    return root


# -- Codex CLI ---------------------------------------------------------------------------


def test_codex_gets_a_profile_of_its_own_and_uninstall_takes_it_back(
    small_repo: Path, isolated_user: Path
) -> None:
    root = initialised(small_repo)
    user_config = isolated_user / ".codex" / "config.toml"
    user_config.parent.mkdir()
    user_config.write_text('model = "gpt-5"  # mine\n[projects."/x"]\ntrust_level = "trusted"')
    before = ours_only(root, isolated_user)

    report = init_repo(root, tools=("codex",))
    assert report.problems == []
    ctx = ctx_of(root)
    profile = isolated_user / ".codex" / f"pretense-dev-{ctx.repo_id}.config.toml"
    data = tomllib.loads(profile.read_text())
    assert data == {
        "model_provider": "pretense-dev",
        "model_providers": {
            "pretense-dev": {
                "name": "pretense-dev proxy",
                "base_url": f"{ctx.repo_url}/v1",
                "wire_api": "responses",
                "env_key": "OPENAI_API_KEY",
            }
        },
        "analytics": {"enabled": False},
        "features": {"plugins": False},
    }
    assert user_config.read_text().endswith('trust_level = "trusted"')  # never touched
    assert codex.check(ctx) == []
    assert codex.cli_arguments(ctx) == ["--profile", f"pretense-dev-{ctx.repo_id}"]

    profile.write_text(profile.read_text().replace("responses", "chat"))
    [drift] = codex.check(ctx)
    assert drift.line() == (
        f"codex: ~/.codex/{profile.name}: the Codex profile is missing or changed "
        "— run `pretense-dev init`"
    )
    init_repo(root, tools=("codex",))
    assert codex.check(ctx) == []

    assert uninstall_repo(root).problems == []
    assert ours_only(root, isolated_user) == before


def test_codex_home_is_created_for_the_profile_and_removed_with_it(
    small_repo: Path, isolated_user: Path
) -> None:
    root = initialised(small_repo)
    before = ours_only(root, isolated_user)
    assert init_repo(root, tools=("codex",)).problems == []
    assert (isolated_user / ".codex").is_dir()
    assert uninstall_repo(root).problems == []
    assert not (isolated_user / ".codex").exists()
    assert ours_only(root, isolated_user) == before


def test_a_profile_file_of_someone_else_is_left_untouched(
    small_repo: Path, isolated_user: Path
) -> None:
    root = initialised(small_repo)
    ctx = ctx_of(root)
    theirs = codex.profile_path(ctx)
    theirs.parent.mkdir(parents=True)
    theirs.write_text('model = "o3"\n')
    report = init_repo(root, tools=("codex",))
    assert report.problems == [
        f"~/.codex/{theirs.name} exists and is not pretense-dev's; left untouched"
    ]
    assert theirs.read_text() == 'model = "o3"\n'


def test_the_codex_wrapper_runs_codex_with_the_profile_after_verify(
    small_repo: Path, isolated_user: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = initialised(small_repo)
    init_repo(root, tools=("codex",))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "codex").write_text('#!/bin/sh\necho "codex $*"\n')
    (bin_dir / "codex").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    down = run_cli("codex", "exec", "hi", cwd=root)
    assert (down.code, down.out) == (1, "")
    assert "pretense proxy is not running: run `pretense-dev proxy start`" in down.err
    r = run_cli("proxy", "start", "--port", "0", "--upstream-openai", "http://127.0.0.1:9")
    assert r.code == 0, r.err
    try:
        init_repo(root, tools=("codex",))  # the profile now names the running proxy's port
        up = run_cli("codex", "exec", "hi", cwd=root)
    finally:
        run_cli("proxy", "stop")
    assert up.code == 0, up.err
    assert up.out == f"codex --profile pretense-dev-{Repo(root).repo_id} exec hi\n"


# -- aider ------------------------------------------------------------------------------

USER_AIDER = "# my aider settings\nmodel: gpt-4.1\ncheck-update: true"  # no final newline


def test_aider_block_round_trips_byte_for_byte_and_keeps_the_users_switches(
    small_repo: Path, isolated_user: Path
) -> None:
    root = initialised(small_repo)
    (root / ".aider.conf.yml").write_text(USER_AIDER)
    (root / ".git/info/exclude").write_text("*.swp\n")
    before = ours_only(root, isolated_user)

    report = init_repo(root, tools=("aider",))
    assert report.problems == []
    ctx = ctx_of(root)
    assert (
        (root / ".aider.conf.yml").read_text()
        == (
            USER_AIDER + "\n"
            f"{aider.START}\n"
            f"openai-api-base: {ctx.repo_url}/v1\n"
            "analytics: false\n"  # check-update is the user's: kept, not doubled
            f"{aider.END}\n"
        )
    )
    # aider's global extra_params, read from the git root: the header that names it.
    assert (root / ".aider.model.settings.yml").read_text() == (
        "# pretense-dev: names aider in the pretense-dev audit (uninstall removes this)\n"
        "- name: aider/extra_params\n"
        "  extra_params:\n"
        "    extra_headers:\n"
        "      X-Title: Aider\n"
        "# pretense-dev: end\n"
    )
    [tool] = report.tools
    assert "aider: check-update is set in .aider.conf.yml by you and kept as it is" in (
        tool.plan.notes
    )
    exclude = (root / ".git/info/exclude").read_text()
    assert "/.aider.conf.yml\n/.aider.model.settings.yml\n" in exclude
    status = git(root, "status", "--porcelain", "--untracked-files=all")
    assert ".aider" not in status  # the per-clone files stay out of git
    assert aider.check(ctx) == []
    env_override = aider.check(
        replace(ctx, environ={"OPENAI_API_BASE": "https://api.openai.com/v1"})
    )
    assert [d.line() for d in env_override] == [
        "aider: environment: OPENAI_API_BASE overrides .aider.conf.yml and sends aider "
        "elsewhere — unset OPENAI_API_BASE"
    ]

    assert uninstall_repo(root).problems == []
    assert ours_only(root, isolated_user) == before


def test_aider_is_not_set_up_over_a_gateway_or_in_a_committed_file(
    small_repo: Path, isolated_user: Path
) -> None:
    root = initialised(small_repo)
    conf = root / ".aider.conf.yml"
    conf.write_text("openai-api-base: https://gateway.corp.example/v1\n")
    report = init_repo(root, tools=("aider",))
    assert report.problems == [
        ".aider.conf.yml already sets openai-api-base (a gateway of yours); left untouched "
        "— remove it, then run `pretense-dev init`"
    ]
    assert conf.read_text() == "openai-api-base: https://gateway.corp.example/v1\n"
    assert "aider" not in Repo(root).config.tools.configured

    conf.write_text("model: gpt-4.1\n")
    git(root, "add", ".aider.conf.yml")
    report = init_repo(root, tools=("aider",))
    assert report.problems == [
        ".aider.conf.yml is committed, and the proxy URL is per clone; left untouched — "
        'route aider from your shell with `eval "$(pretense-dev env aider)"`'
    ]
    assert conf.read_text() == "model: gpt-4.1\n"
    env = run_cli("env", "aider", cwd=root)
    assert env.code == 0, env.err
    assert env.out.splitlines() == [
        f"export OPENAI_API_BASE={ctx_of(root).repo_url}/v1",
        "export AIDER_ANALYTICS=false",
        "export AIDER_CHECK_UPDATE=false",
    ]


USER_MODELS = "# my models\n- name: gpt-4.1\n  edit_format: diff"  # no final newline


def test_aider_header_block_joins_the_users_model_list_and_leaves_byte_for_byte(
    small_repo: Path, isolated_user: Path
) -> None:
    root = initialised(small_repo)
    settings = root / ".aider.model.settings.yml"
    settings.write_text(USER_MODELS)
    before = ours_only(root, isolated_user)
    assert init_repo(root, tools=("aider",)).problems == []
    assert settings.read_text() == USER_MODELS + "\n" + aider.SETTINGS_BLOCK
    ctx = ctx_of(root)
    assert aider.check(ctx) == []
    settings.write_text(USER_MODELS)  # the block edited away: verify says so
    assert [d.line() for d in aider.check(ctx)] == [
        "aider: .aider.model.settings.yml: the pretense-dev block that names aider in the "
        "audit is missing or changed — run `pretense-dev init`"
    ]
    assert init_repo(root, tools=("aider",)).problems == []
    assert uninstall_repo(root).problems == []
    assert ours_only(root, isolated_user) == before


@pytest.mark.parametrize(
    ("where", "text", "why"),
    [
        (
            "home",
            "- name: aider/extra_params\n  extra_params:\n    max_tokens: 4096\n",
            "~/.aider.model.settings.yml has an aider/extra_params of yours, which ours "
            "would replace",
        ),
        (
            "repo",
            '- name: "aider/extra_params"\n  extra_params: {}\n',
            ".aider.model.settings.yml has an aider/extra_params of yours, which ours "
            "would replace",
        ),
        ("repo", "[{name: gpt-4.1}]\n", ".aider.model.settings.yml is not a YAML block list"),
        ("tracked", "- name: gpt-4.1\n", ".aider.model.settings.yml is committed"),
    ],
)
def test_aider_header_is_not_added_where_it_would_replace_or_break_the_users(
    small_repo: Path, isolated_user: Path, where: str, text: str, why: str
) -> None:
    root = initialised(small_repo)
    path = (isolated_user if where == "home" else root) / ".aider.model.settings.yml"
    path.write_text(text)
    if where == "tracked":
        git(root, "add", ".aider.model.settings.yml")
    report = init_repo(root, tools=("aider",))
    assert report.problems == []  # routing is set up all the same
    [tool] = report.tools
    assert (
        f"aider: {why}; left untouched, so the audit names aider's requests `litellm` (add "
        "the header `X-Title: Aider` to your extra_headers to have it name aider)"
    ) in tool.plan.notes
    assert path.read_text() == text
    assert aider.START in (root / ".aider.conf.yml").read_text()
    assert aider.check(ctx_of(root)) == []
    assert "/.aider.model.settings.yml" not in (root / ".git/info/exclude").read_text()


def test_an_aider_extra_params_of_the_users_that_ours_replaces_is_drift(
    small_repo: Path, isolated_user: Path
) -> None:
    root = initialised(small_repo)
    assert init_repo(root, tools=("aider",)).problems == []
    home = isolated_user / ".aider.model.settings.yml"
    home.write_text("- name: aider/extra_params\n  extra_params:\n    max_tokens: 4096\n")
    assert [d.line() for d in aider.check(ctx_of(root))] == [
        "aider: .aider.model.settings.yml: our aider/extra_params replaces the one of yours "
        "in ~/.aider.model.settings.yml — run `pretense-dev init`"
    ]
    # init then takes ours back out (the file was ours alone: it goes, with its exclude line)
    assert init_repo(root, tools=("aider",)).problems == []
    assert not (root / ".aider.model.settings.yml").exists()
    assert "/.aider.model.settings.yml" not in (root / ".git/info/exclude").read_text()
    assert aider.check(ctx_of(root)) == []


# -- Gemini CLI -------------------------------------------------------------------------


def test_gemini_cli_env_file_round_trips_and_env_overrides_are_drift(
    small_repo: Path, isolated_user: Path
) -> None:
    root = initialised(small_repo)
    write(root, {".gemini/settings.json": '{"model": {"name": "gemini-2.5-pro"}}\n'})
    before = ours_only(root, isolated_user)
    report = init_repo(root, tools=("gemini-cli",))
    assert report.problems == []
    ctx = ctx_of(root)
    assert (root / ".gemini/.env").read_text() == (
        f"{gemini_cli.START}\nGOOGLE_GEMINI_BASE_URL={ctx.repo_url}\n{gemini_cli.END}\n"
    )
    # Usage statistics off in the user's (untracked) workspace settings, which stay theirs.
    assert (root / ".gemini/settings.json").read_text() == (
        '{"model": {"name": "gemini-2.5-pro"}, "privacy": {"usageStatisticsEnabled": false}}\n'
    )
    status = git(root, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert "?? .gemini/settings.json" in status and "?? .gemini/.env" not in status
    assert gemini_cli.check(ctx) == []
    other = replace(ctx, environ={"GOOGLE_GEMINI_BASE_URL": "https://generativelanguage.example"})
    assert [d.problem for d in gemini_cli.check(other)] == [
        "GOOGLE_GEMINI_BASE_URL in the shell overrides .gemini/.env and sends Gemini CLI elsewhere"
    ]
    (root / ".gemini/.env").unlink()
    assert [d.problem for d in gemini_cli.check(ctx)] == [
        "the pretense-dev GOOGLE_GEMINI_BASE_URL is missing or changed"
    ]
    assert init_repo(root, tools=("gemini-cli",)).problems == []
    env = run_cli("env", "gemini-cli", cwd=root)
    assert (env.code, env.out) == (0, f"export GOOGLE_GEMINI_BASE_URL={ctx.repo_url}\n"), env.err
    assert uninstall_repo(root).problems == []
    assert ours_only(root, isolated_user) == before


USER_GEMINI = """{
  // my settings (the CLI reads JSON with comments)
  "privacy": {
    "logPrompts": false
  },
  "ui": {"theme": "GitHub"}
}"""


def test_gemini_cli_usage_statistics_off_in_workspace_settings_and_back_byte_for_byte(
    small_repo: Path, isolated_user: Path
) -> None:
    root = initialised(small_repo)
    before = ours_only(root, isolated_user)
    assert init_repo(root, tools=("gemini-cli",)).problems == []
    settings = root / ".gemini/settings.json"
    assert json.loads(settings.read_text()) == {"privacy": {"usageStatisticsEnabled": False}}
    status = git(root, "status", "--porcelain", "--untracked-files=all")
    assert ".gemini" not in status  # a file init created stays out of git, as .env does
    ctx = ctx_of(root)
    assert gemini_cli.check(ctx) == []
    settings.write_text("{}\n")
    assert [d.line() for d in gemini_cli.check(ctx)] == [
        "gemini-cli: .gemini/settings.json: usage statistics are no longer turned off "
        "(privacy.usageStatisticsEnabled) — run `pretense-dev init`"
    ]
    assert init_repo(root, tools=("gemini-cli",)).problems == []
    assert gemini_cli.check(ctx) == []
    assert uninstall_repo(root).problems == []
    assert ours_only(root, isolated_user) == before
    assert not (root / ".gemini").exists()

    # A file of the user's, with comments: one key added inside their "privacy", then taken out.
    write(root, {".gemini/settings.json": USER_GEMINI})
    before = ours_only(root, isolated_user)
    assert init_repo(root, tools=("gemini-cli",)).problems == []
    text = settings.read_text()
    assert text.startswith("{\n  // my settings") and '"logPrompts": false' in text
    from pretense_dev.integrations.jsonedit import Document

    assert Document(text, strict=False).value()["privacy"] == {
        "logPrompts": False,
        "usageStatisticsEnabled": False,
    }
    assert gemini_cli.check(ctx) == []
    assert uninstall_repo(root).problems == []
    assert ours_only(root, isolated_user) == before


@pytest.mark.parametrize(
    ("text", "tracked", "note"),
    [
        (
            '{"privacy": {"usageStatisticsEnabled": true}}\n',
            False,
            "Gemini CLI: usage statistics are on in .gemini/settings.json by your choice and "
            "kept; they go to Google directly, outside the proxy",
        ),
        (
            '{"ui": {"theme": "GitHub"}}\n',
            True,
            "Gemini CLI: .gemini/settings.json is committed and left untouched; its usage "
            'statistics go to Google directly unless you set "privacy": '
            '{"usageStatisticsEnabled": false} there',
        ),
        (
            '{"privacy": "off"}\n',
            False,
            "Gemini CLI: .gemini/settings.json: privacy is not an object; left untouched; its "
            'usage statistics go to Google directly unless you set "privacy": '
            '{"usageStatisticsEnabled": false} there',
        ),
    ],
)
def test_gemini_cli_settings_of_the_users_or_the_teams_are_kept_and_said(
    small_repo: Path, isolated_user: Path, text: str, tracked: bool, note: str
) -> None:
    root = initialised(small_repo)
    write(root, {".gemini/settings.json": text})
    if tracked:
        git(root, "add", ".gemini/settings.json")
    report = init_repo(root, tools=("gemini-cli",))
    assert report.problems == []  # routed all the same
    [tool] = report.tools
    assert note in tool.plan.notes
    assert (root / ".gemini/settings.json").read_text() == text
    assert gemini_cli.START in (root / ".gemini/.env").read_text()
    assert gemini_cli.check(ctx_of(root)) == []


def test_gemini_cli_is_not_set_up_where_it_would_hide_the_users_env_file(
    small_repo: Path, isolated_user: Path
) -> None:
    root = initialised(small_repo)
    (root / ".env").write_text("GEMINI_API_KEY_FILE=~/.keys/gemini\n")
    report = init_repo(root, tools=("gemini-cli",))
    assert report.problems == [
        ".env exists: the Gemini CLI reads only the first .env it finds, so a new "
        ".gemini/.env would hide it; left untouched — add the lines of `pretense-dev env "
        "gemini-cli` to your shell instead"
    ]
    assert not (root / ".gemini").exists()
    (root / ".env").unlink()
    write(root, {".gemini/.env": "GOOGLE_GEMINI_BASE_URL=https://gw.example\n"})
    assert init_repo(root, tools=("gemini-cli",)).problems == [
        ".gemini/.env already sets GOOGLE_GEMINI_BASE_URL (a gateway of yours); left "
        "untouched — remove it, then run `pretense-dev init`"
    ]


# -- Claude Code on Bedrock and Vertex --------------------------------------------------


def test_claude_code_in_bedrock_mode_gets_the_bedrock_base_url_and_keeps_the_gateway(
    small_repo: Path, isolated_user: Path
) -> None:
    root = initialised(small_repo)
    user = {
        "env": {
            "CLAUDE_CODE_USE_BEDROCK": "1",
            "ANTHROPIC_BEDROCK_BASE_URL": "https://bedrock-gw.corp.example",
        }
    }
    write(isolated_user, {".claude/settings.json": json.dumps(user)})
    before = ours_only(root, isolated_user)
    report = init_repo(root, tools=("claude-code",))
    assert report.problems == []
    ctx = ctx_of(root)
    local = json.loads((root / ".claude/settings.local.json").read_text())
    assert local == {"env": {"ANTHROPIC_BEDROCK_BASE_URL": ctx.repo_url}}
    entry = registry.lookup(ctx.repo_id)
    assert entry is not None and dict(entry.upstreams) == {
        "bedrock": "https://bedrock-gw.corp.example"
    }
    assert claude_code.check(ctx) == []
    # Switched back to the Anthropic API: the Bedrock URL no longer routes anything.
    (isolated_user / ".claude/settings.json").write_text("{}")
    assert [d.problem for d in claude_code.check(ctx)] == ["ANTHROPIC_BASE_URL is not set"]
    (isolated_user / ".claude/settings.json").write_text(json.dumps(user))

    assert uninstall_repo(root).problems == []
    entry = registry.lookup(ctx.repo_id)
    assert entry is not None and dict(entry.upstreams) == {}
    assert ours_only(root, isolated_user) == before


def test_claude_code_in_vertex_mode_from_the_environment(
    small_repo: Path, isolated_user: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = initialised(small_repo)
    monkeypatch.setenv("CLAUDE_CODE_USE_VERTEX", "1")
    monkeypatch.setenv("ANTHROPIC_VERTEX_BASE_URL", "https://vertex-gw.corp.example/v1")
    write(root, {".claude/settings.local.json": '{"env": {"X": "1"}}'})
    report = init_repo(root, tools=("claude-code",))
    assert report.problems == []
    ctx = replace(ctx_of(root), environ={"CLAUDE_CODE_USE_VERTEX": "1"})
    local = json.loads((root / ".claude/settings.local.json").read_text())
    assert local == {"env": {"X": "1", "ANTHROPIC_VERTEX_BASE_URL": f"{ctx.repo_url}/v1"}}
    entry = registry.lookup(ctx.repo_id)
    assert entry is not None and dict(entry.upstreams) == {
        "vertex": "https://vertex-gw.corp.example"
    }
    assert claude_code.check(ctx) == []
    assert [d.problem for d in claude_code.check(replace(ctx, environ={}))] == [
        "ANTHROPIC_BASE_URL is not set"
    ]
    assert uninstall_repo(root).problems == []
    assert (root / ".claude/settings.local.json").read_text() == '{"env": {"X": "1"}}'


# -- Copilot CLI ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("users", "wire"),
    [
        (None, "completions"),
        ("responses", "responses"),
        ("Completions", "completions"),
        ("x", "completions"),
    ],
)
def test_copilot_cli_is_offline_and_keeps_the_users_wire_api(
    small_repo: Path, users: str | None, wire: str
) -> None:
    ctx = Context(
        small_repo, "abc123", environ={} if users is None else {"COPILOT_PROVIDER_WIRE_API": users}
    )
    env = copilot.cli_environment(ctx)
    assert env == {
        "COPILOT_PROVIDER_BASE_URL": "http://127.0.0.1:9339/r/abc123/v1",
        "COPILOT_PROVIDER_TYPE": "openai",
        "COPILOT_PROVIDER_WIRE_API": wire,
        "COPILOT_OFFLINE": "true",
        "COPILOT_MODEL": "gpt-4.1",
    }


def test_env_copilot_prints_the_offline_switch(
    small_repo: Path, isolated_user: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = initialised(small_repo)
    monkeypatch.setenv("COPILOT_PROVIDER_WIRE_API", "responses")
    r = run_cli("env", "copilot", cwd=root)
    assert r.code == 0, r.err
    assert "export COPILOT_OFFLINE=true" in r.out.splitlines()
    assert "export COPILOT_PROVIDER_WIRE_API=responses" in r.out.splitlines()


# -- llm (routed from the shell only) -----------------------------------------------------


def test_env_llm_prints_the_tagged_base_url_and_init_writes_nothing_for_it(
    small_repo: Path, isolated_user: Path
) -> None:
    """`llm` has no per-project settings: `env llm` is the route, and writes no file."""
    root = initialised(small_repo)
    before = ours_only(root, isolated_user)
    r = run_cli("env", "llm", cwd=root)
    assert r.code == 0, r.err
    assert r.out.splitlines() == [f"export OPENAI_BASE_URL={ctx_of(root).repo_url}/t/llm/v1"]
    assert ours_only(root, isolated_user) == before
    bad = run_cli("init", "--tools", "llm", cwd=root)  # not a tool init configures
    assert bad.code != 0 and "unknown tool 'llm'" in bad.err
