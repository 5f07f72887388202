"""init/uninstall of Claude Code, Cursor and Copilot: formats, round trips, drift, errors."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from pretense_dev.integrations import claude_code, copilot, cursor, setup
from pretense_dev.integrations.base import Context, is_our_command
from pretense_dev.integrations.jsonedit import parse
from pretense_dev.lifecycle import init_repo, uninstall_repo
from pretense_dev.repo import Repo
from tests.conftest import git, run_cli, write
from tests.integrations.conftest import hook_command

ALL = ("claude-code", "cursor", "copilot")

# A user's files, full of comments, odd layout and their own keys.
USER_CLAUDE = """{
    "permissions" : {"allow": ["Bash(npm test)"], "deny": []},
    "model": "opus",
    "hooks": {
        "UserPromptSubmit": [
            {"hooks": [{"type": "command", "command": "./scripts/lint-prompt.sh"}]}
        ]
    },
    "env": {"FOO": "bar"}
}
"""
USER_CLAUDE_LOCAL = '{"env":{"ANTHROPIC_BASE_URL":"https://gateway.corp.example","X":"1"}}'
USER_CURSOR = """// Team hooks, reviewed in PR 12
{
  "version": 1,
  "hooks": {
    /* formatting */
    "afterFileEdit": [{ "command": ".cursor/hooks/format.sh" }],
    "beforeSubmitPrompt": [
      { "command": ".cursor/hooks/audit.sh", "timeout": 3 }, // keep first
    ],
  },
}
"""
USER_MODELS = """// My models
[
\t{
\t\t"name": "Ollama",
\t\t"vendor": "ollama",
\t\t"models": [] // none yet
\t}
]
"""
USER_EXCLUDE = "# my excludes\n*.swp"
USER_CONFIG_EXTRA = "\n# our team's note: keep this comment\n"


def snapshot(root: Path, home: Path) -> dict[str, bytes]:
    """Every file under the repo (but .git/objects) and the fake home, by path."""
    out: dict[str, bytes] = {}
    for base in (root, home):
        for p in sorted(base.rglob("*")):
            rel = str(p)
            if p.is_file() and "/.git/objects/" not in rel and "/.git/logs/" not in rel:
                out[rel] = p.read_bytes()
    return out


def ours_only(root: Path, isolated_user: Path) -> dict[str, bytes]:
    """The snapshot minus files pretense-dev owns wholesale (index, state, keys)."""
    snap = snapshot(root, isolated_user)
    return {
        k: v
        for k, v in snap.items()
        if "/.pretense/" not in k
        and "/pretense-dev/" not in k
        and not k.endswith(("/.git/index", "/ORIG_HEAD"))
    }


def ctx_of(root: Path) -> Context:
    return setup.context_for(root, Repo(root).repo_id, ("gpt-4.1",))


def test_user_files_survive_init_and_uninstall_byte_for_byte(
    small_repo: Path, vscode_dir: Path, isolated_user: Path
) -> None:
    root = small_repo
    write(
        root,
        {
            ".claude/settings.json": USER_CLAUDE,
            ".claude/settings.local.json": USER_CLAUDE_LOCAL,
            ".cursor/hooks.json": USER_CURSOR,
        },
    )
    (vscode_dir / "chatLanguageModels.json").write_text(USER_MODELS)
    (root / ".git/info/exclude").write_text(USER_EXCLUDE)
    init_repo(root, tools=(), configure_tools=False, hooks=False)
    cfg = root / ".pretense/config.toml"
    cfg.write_text(cfg.read_text() + USER_CONFIG_EXTRA)
    before = ours_only(root, isolated_user)

    report = init_repo(root, tools=ALL)
    assert report.problems == []

    # Everything of the user's is still there, with their values …
    settings = json.loads((root / ".claude/settings.json").read_text())
    assert settings["permissions"] == {"allow": ["Bash(npm test)"], "deny": []}
    assert settings["env"] == {"FOO": "bar"}
    assert list(settings) == ["permissions", "model", "hooks", "env"]
    prompt_hooks = settings["hooks"]["UserPromptSubmit"]
    assert prompt_hooks[0] == {
        "hooks": [{"type": "command", "command": "./scripts/lint-prompt.sh"}]
    }
    assert is_our_command(prompt_hooks[1]["hooks"][0]["command"])
    local = json.loads((root / ".claude/settings.local.json").read_text())
    assert local["env"] == {"ANTHROPIC_BASE_URL": ctx_of(root).repo_url, "X": "1"}
    cursor_text = (root / ".cursor/hooks.json").read_text()
    assert cursor_text.startswith("// Team hooks, reviewed in PR 12\n")
    assert "/* formatting */" in cursor_text and "// keep first" in cursor_text
    models = parse((vscode_dir / "chatLanguageModels.json").read_text(), strict=False)
    assert models.to_python()[0]["name"] == "Ollama"
    assert "# our team's note: keep this comment" in cfg.read_text()
    assert (root / ".git/info/exclude").read_text().startswith(USER_EXCLUDE + "\n")

    # … and uninstall gives back every byte.
    report2 = uninstall_repo(root)
    assert report2.problems == []
    assert ours_only(root, isolated_user) == before


def test_init_twice_changes_nothing_the_second_time(
    small_repo: Path, vscode_dir: Path, isolated_user: Path
) -> None:
    init_repo(small_repo, tools=ALL)
    first = snapshot(small_repo, isolated_user)
    mtimes = {p: os.stat(p).st_mtime_ns for p in first if "/.pretense/index.db" not in p}
    report = init_repo(small_repo, tools=ALL)
    assert all(not t.plan.changed for t in report.tools)
    assert "tools.configured" not in " ".join(report.created)
    second = snapshot(small_repo, isolated_user)
    changed = {p for p in first if first[p] != second.get(p)} - {
        p for p in first if "/.pretense/index.db" in p
    }
    assert changed == set()
    assert {p: os.stat(p).st_mtime_ns for p in mtimes} == mtimes  # not even rewritten


def test_a_file_we_cannot_parse_is_left_untouched_with_one_line(small_repo: Path) -> None:
    bad = '{\n  // Claude Code ignores this file\n  "model": "opus"\n}\n'
    write(small_repo, {".claude/settings.json": bad})
    r = run_cli("init", "--tools", "claude-code,cursor", cwd=small_repo)
    assert r.code == 1
    assert (small_repo / ".claude/settings.json").read_text() == bad
    errors = [line for line in r.err.splitlines() if line.startswith("pretense-dev:")]
    assert errors == [
        "pretense-dev: .claude/settings.json is not valid JSON (line 2 column 3: comments are "
        "not allowed in strict JSON); left untouched"
    ]
    # All or nothing per tool: Claude Code is not routed without its hooks (a routed
    # but ungated Claude Code would look protected); the other tool was still set up.
    assert not (small_repo / ".claude/settings.local.json").exists()
    assert "settings.local.json" not in (small_repo / ".git/info/exclude").read_text()
    assert "    claude-code (named with --tools): NOT configured (see the errors below)" in r.out
    assert (
        "      claude-code: nothing was changed for it (not routed, no hooks) because of the "
        "problem below; fix it, then run `pretense-dev init`" in r.out
    )
    assert "prompts go through the proxy" not in r.out
    assert (small_repo / ".cursor/hooks.json").exists()
    text = (small_repo / ".pretense/config.toml").read_text()
    assert 'configured = ["cursor"]' in text


def test_files_follow_the_documented_formats(small_repo: Path, vscode_dir: Path) -> None:
    init_repo(small_repo, tools=ALL)
    ctx = ctx_of(small_repo)
    # Claude Code hooks: event → [{matcher?, hooks: [handler]}].
    settings = json.loads((small_repo / ".claude/settings.json").read_text())
    assert set(settings["hooks"]) == {"SessionStart", "UserPromptSubmit", "PreToolUse"}
    for event, groups in settings["hooks"].items():
        for g in groups:
            assert set(g) <= {"matcher", "hooks"}
            for h in g["hooks"]:
                assert h == {
                    "type": "command",
                    "command": hook_command("claude-code", event),
                    "timeout": 10,
                    "onFailure": "block",
                }
    matcher = settings["hooks"]["PreToolUse"][0]["matcher"]
    assert matcher == "Read|Edit|MultiEdit|NotebookEdit|Grep|Bash"
    local = json.loads((small_repo / ".claude/settings.local.json").read_text())
    assert local == {"env": {"ANTHROPIC_BASE_URL": f"http://127.0.0.1:9339/r/{ctx.repo_id}"}}
    assert git(small_repo, "check-ignore", ".claude/settings.local.json").strip()
    # Cursor (https://cursor.com/docs/agent/hooks): version 1, camelCase events,
    # {command, timeout, failClosed}; every gate fails closed, preToolUse included.
    hooks = json.loads((small_repo / ".cursor/hooks.json").read_text())
    assert hooks["version"] == 1
    documented = {
        "sessionStart",
        "beforeSubmitPrompt",
        "beforeShellExecution",
        "beforeMCPExecution",
        "beforeReadFile",
        "preToolUse",
        "beforeTabFileRead",
        "afterFileEdit",
        "stop",
    }
    assert set(hooks["hooks"]) <= documented
    for event, entries in hooks["hooks"].items():
        assert entries == [
            {"command": hook_command("cursor", event), "timeout": 10, "failClosed": True}
        ]
    assert {"preToolUse", "beforeSubmitPrompt", "beforeReadFile"} <= set(hooks["hooks"])
    # Copilot hooks: version 1, CLI event names, bash/powershell.
    gh = json.loads((small_repo / ".github/hooks/pretense-dev.json").read_text())
    assert gh["version"] == 1
    assert set(gh["hooks"]) == {"sessionStart", "userPromptSubmitted", "preToolUse"}
    for event, entries in gh["hooks"].items():
        (h,) = entries
        assert h["type"] == "command" and h["timeoutSec"] == 10 and h["cwd"] == "."
        assert h["bash"] == hook_command("copilot", event)
        assert h["powershell"] == hook_command("copilot", event, powershell=True)
    # VS Code BYOK (§1): customendpoint, chat completions, url used as is.
    (group,) = json.loads((vscode_dir / "chatLanguageModels.json").read_text())
    assert group["vendor"] == "customendpoint" and group["apiType"] == "chat-completions"
    assert group["apiKey"].startswith("${input:")
    (model,) = group["models"]
    assert model["url"] == f"http://127.0.0.1:9339/r/{ctx.repo_id}/v1/chat/completions"
    assert "/chat/completions" in model["url"]  # so VS Code appends nothing
    assert model["id"] == "gpt-4.1" and model["toolCalling"] is True


def test_check_finds_no_drift_after_init_and_names_each_kind_of_drift(
    small_repo: Path, vscode_dir: Path, isolated_user: Path
) -> None:
    init_repo(small_repo, tools=ALL)
    ctx = ctx_of(small_repo)
    assert setup.check(ctx, ALL) == []
    local = small_repo / ".claude/settings.local.json"
    local.write_text('{"env": {"ANTHROPIC_BASE_URL": "https://api.anthropic.com"}}')
    settings = small_repo / ".claude/settings.json"
    data = json.loads(settings.read_text())
    del data["hooks"]["UserPromptSubmit"]
    data["disableAllHooks"] = True
    settings.write_text(json.dumps(data))
    (small_repo / ".cursor/hooks.json").write_text('{"version": 1, "hooks": {}}')
    (vscode_dir / "chatLanguageModels.json").write_text("[]")
    lines = [d.line() for d in setup.check(ctx, ALL)]
    assert lines[:4] == [
        f"claude-code: .claude/settings.local.json: ANTHROPIC_BASE_URL is "
        f"https://api.anthropic.com, not {ctx.repo_url} — run `pretense-dev init`",
        "claude-code: .claude/settings.json: the UserPromptSubmit hook is missing — run "
        "`pretense-dev init`",
        "claude-code: .claude/settings.json: disableAllHooks turns the gate off — remove "
        "disableAllHooks from .claude/settings.json",
        "cursor: .cursor/hooks.json: the sessionStart hook is missing — run `pretense-dev init`",
    ]
    assert any("pretense-dev chat models are missing" in line for line in lines)
    # init repairs it all (except the user's own disableAllHooks, which is theirs).
    init_repo(small_repo, tools=ALL)
    assert [d.problem for d in setup.check(ctx, ALL)] == ["disableAllHooks turns the gate off"]


def test_uninstall_without_a_record_still_takes_out_only_ours(small_repo: Path) -> None:
    """A teammate's clone: our hooks are committed, there is no .pretense/integrations.json."""
    write(small_repo, {".claude/settings.json": USER_CLAUDE})
    init_repo(small_repo, tools=("claude-code",))
    (small_repo / ".pretense/integrations.json").unlink()
    uninstall_repo(small_repo)
    settings = json.loads((small_repo / ".claude/settings.json").read_text())
    assert settings == json.loads(USER_CLAUDE)
    # Only the emptied containers ours went with them; the user's file stays.
    assert (small_repo / ".claude/settings.json").read_text() == USER_CLAUDE


def test_a_value_the_user_changed_after_init_is_theirs(small_repo: Path) -> None:
    init_repo(small_repo, tools=("claude-code",))
    local = small_repo / ".claude/settings.local.json"
    mine = '{\n  "env": {\n    "ANTHROPIC_BASE_URL": "https://my.gateway"\n  }\n}\n'
    local.write_text(mine)
    uninstall_repo(small_repo)
    assert local.read_text() == mine


def test_dry_run_prints_a_diff_and_writes_nothing(small_repo: Path, vscode_dir: Path) -> None:
    before = {p: p.read_bytes() for p in small_repo.rglob("*") if p.is_file()}
    r = run_cli("init", "--dry-run", "--tools", "claude-code,cursor", cwd=small_repo)
    assert r.code == 0, r.err
    assert "+++ b/.claude/settings.json" in r.out
    assert '+    "ANTHROPIC_BASE_URL": "http://127.0.0.1:9339/r/<repo-id>"' in r.out
    assert "+++ b/.cursor/hooks.json" in r.out
    assert "would change .claude/settings.json" in r.err
    after = {p: p.read_bytes() for p in small_repo.rglob("*") if p.is_file()}
    assert after == before


def test_init_detects_tools_by_their_traces(
    small_repo: Path, vscode_dir: Path, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    claude = bin_dir / "claude"
    claude.write_text("#!/bin/sh\necho '2.1.331 (Claude Code)'\n")
    claude.chmod(0o755)
    git_dir = os.path.dirname(shutil.which("git") or "/usr/bin/git")
    env_path = f"{bin_dir}:{git_dir}"
    ctx = Context(small_repo, "abc", environ={**os.environ, "PATH": env_path})
    found = setup.detect(ctx)
    assert found == {
        "claude-code": "`claude` is on PATH",
        "copilot": "VS Code's settings directory exists",
    }


# The instructions file each tool reads from a repository (its documented name).
INSTRUCTIONS = {
    "claude-code": "CLAUDE.md",
    "codex": "AGENTS.md",
    "gemini-cli": "GEMINI.md",
    "copilot": ".github/copilot-instructions.md",
    "cursor": ".cursorrules",
}


@pytest.mark.parametrize("tool", sorted(INSTRUCTIONS))
def test_a_committed_instructions_file_is_a_trace_of_its_tool(
    git_repo: Path, isolated_user: Path, monkeypatch: pytest.MonkeyPatch, tool: str
) -> None:
    # A team that commits CLAUDE.md works on the repository with Claude Code: `init`
    # saying "not detected" there leaves every developer's Claude Code unguarded.
    rel = INSTRUCTIONS[tool]
    write(git_repo, {"billing/ledger.py": "def reconcile_invoices(total):\n    pass\n"})
    write(git_repo, {rel: "Keep functions short.\n"})
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "code and agent instructions")
    git_dir = os.path.dirname(shutil.which("git") or "/usr/bin/git")
    monkeypatch.setenv("PATH", git_dir)  # no tool's command on PATH, no user directory
    r = run_cli("init", cwd=git_repo)
    assert r.code == 0, r.err
    assert f"    {tool} ({rel} is in the repository): wrote " in r.out, r.out
    assert f"{tool}: not detected" not in r.out
    others = [t for t in INSTRUCTIONS if t != tool]
    assert all(f"    {t}: not detected" in r.out for t in others), r.out


def test_a_readme_alone_is_no_trace_of_any_tool(
    git_repo: Path, isolated_user: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(git_repo, {"README.md": "# ledger\n", "docs/AGENTS.txt": "not an instructions file\n"})
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "docs")
    git_dir = os.path.dirname(shutil.which("git") or "/usr/bin/git")
    ctx = Context(git_repo, "abc", environ={**os.environ, "PATH": git_dir})
    assert setup.detect(ctx) == {}


def test_init_output_says_plainly_what_cannot_be_done(small_repo: Path, vscode_dir: Path) -> None:
    r = run_cli("init", "--tools", "cursor,copilot", cwd=small_repo)
    assert r.code == 0, r.err
    out = " ".join(r.out.split())
    assert "blocked or passed — never mutated" in out
    assert "inline completions, next-edit suggestions and chat with GitHub-hosted models" in out
    assert "cannot be routed with supported settings" in out
    assert "tool integration is not available yet" not in r.out


def test_no_tools_and_unknown_tools(small_repo: Path) -> None:
    r = run_cli("init", "--no-tools", cwd=small_repo)
    assert r.code == 0 and "tools: not configured (--no-tools)" in r.out
    assert not (small_repo / ".claude").exists()
    r = run_cli("init", "--tools", "claude-code,emacs", cwd=small_repo)
    assert r.code == 2
    assert r.err.strip() == (
        "pretense-dev: unknown tool 'emacs' — choose from claude-code, cursor, copilot, codex, "
        "aider, gemini-cli"
    )


def test_a_teammates_init_sets_up_the_tools_the_policy_lists(small_repo: Path) -> None:
    init_repo(small_repo, tools=("cursor",))
    shutil.rmtree(small_repo / ".cursor")
    report = init_repo(small_repo)  # nothing detected here, but the policy lists cursor
    assert [(t.tool, t.reason) for t in report.tools] == [("cursor", "listed in tools.configured")]
    assert (small_repo / ".cursor/hooks.json").exists()


def test_an_unknown_hooks_file_of_ours_is_not_clobbered(small_repo: Path) -> None:
    theirs = '{"version": 1, "hooks": {"preToolUse": [{"type": "command", "bash": "./x"}]}}'
    write(small_repo, {".github/hooks/pretense-dev.json": theirs})
    report = init_repo(small_repo, tools=("copilot",))
    assert report.problems == [
        ".github/hooks/pretense-dev.json exists and holds hooks that are not pretense-dev's; "
        "left untouched"
    ]
    assert (small_repo / ".github/hooks/pretense-dev.json").read_text() == theirs


@pytest.mark.parametrize("module", [claude_code, cursor, copilot])
def test_each_module_has_the_four_functions(module: Any) -> None:
    for name in ("plan", "apply", "check", "remove"):
        assert callable(getattr(module, name))


def test_claude_version_parsing() -> None:
    assert claude_code.parse_version("2.1.331 (Claude Code)") == (2, 1, 331)
    assert claude_code.parse_version("nothing") is None
    assert re.match(r"\d", "2")


@pytest.mark.parametrize("tool", ["claude-code", "cursor", "copilot"])
def test_every_manifest_hook_is_one_the_entry_point_understands(tool: str) -> None:
    from pretense_dev.integrations.base import manifest
    from pretense_dev.integrations.toolhook import dialects as hooks

    for event, items in manifest(tool)["hooks"].items():
        assert hooks.KINDS.get(event, hooks.OTHER) != hooks.OTHER, event
        handlers = [h for g in items for h in g.get("hooks", [g])]
        for h in handlers:
            for key in ("command", "bash", "powershell"):
                if key in h:
                    assert h[key] == hook_command(tool, event, powershell=key == "powershell")


def test_a_cursor_gate_written_without_fail_closed_is_drift_and_init_repairs_it(
    small_repo: Path,
) -> None:
    """An entry from before `failClosed` lets Cursor pass the action when the hook fails."""
    init_repo(small_repo, tools=("cursor",))
    path = small_repo / ".cursor/hooks.json"
    data = json.loads(path.read_text())
    del data["hooks"]["beforeReadFile"][0]["failClosed"]
    path.write_text(json.dumps(data))
    ctx = ctx_of(small_repo)
    assert [d.problem for d in cursor.check(ctx)] == [
        "the beforeReadFile hook is outdated (not fail-closed)"
    ]
    cursor.apply(ctx)
    assert cursor.check(ctx) == []
    fixed = json.loads(path.read_text())["hooks"]["beforeReadFile"]
    assert fixed == [
        {"command": hook_command("cursor", "beforeReadFile"), "timeout": 10, "failClosed": True}
    ]
