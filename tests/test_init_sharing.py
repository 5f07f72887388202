"""What `init` says is left to share: the files it wrote for the team, uncommitted or git-ignored.

Found trying the product on real repositories.  On pallets/flask `init` added
its block to the team's `.pre-commit-config.yaml` and said only "wrote": the
next `git commit` failed with the framework's "Your pre-commit configuration is
unstaged".  On gohugoio/hugo, whose `.gitignore` holds `.claude/`, the Claude
Code hooks file meant to be committed could never reach a teammate, and nothing
said so.  Run as a user runs it: a fresh interpreter in a real git repository.
"""

from __future__ import annotations

import random
from pathlib import Path

from pretense_dev.secrets.samples import generate
from tests.conftest import git, run_cli, write

LEDGER = {"billing/ledger.py": "def reconcile_invoices(batch_total):\n    return batch_total\n"}
LOCAL_HOOKS = "repos:\n  - repo: local\n    hooks: []\n"


def todo(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("  to do: ")]


def test_init_says_to_commit_the_shared_files_it_wrote_then_stops_saying_it(
    git_repo: Path, isolated_user: Path
) -> None:
    write(git_repo, {**LEDGER, ".pre-commit-config.yaml": LOCAL_HOOKS})
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "code and the team's pre-commit config")
    r = run_cli("init", "--tools", "claude-code", cwd=git_repo)
    assert r.code == 0, r.err
    assert (
        "  to do: commit .pre-commit-config.yaml, .claude/settings.json, .pretense/.gitignore, "
        ".pretense/config.toml so that every clone gets the same policy and gates (pre-commit "
        "refuses every commit while its config has unstaged changes)"
    ) in todo(r.out), r.out
    # The per-clone files are not named: they are the clone's own.
    assert "settings.local.json" not in "".join(todo(r.out))
    assert "repo-id" not in "".join(todo(r.out))
    git(
        git_repo,
        "add",
        ".pre-commit-config.yaml",
        ".claude/settings.json",
        ".pretense/.gitignore",
        ".pretense/config.toml",
    )
    git(git_repo, "commit", "-qm", "pretense-dev", "--no-verify")
    again = run_cli("init", "--tools", "claude-code", cwd=git_repo)
    assert again.code == 0, again.err
    assert [t for t in todo(again.out) if "commit" in t or "ignored" in t] == []


def test_init_names_a_shared_file_the_repository_ignores_and_the_rule(
    git_repo: Path, isolated_user: Path
) -> None:
    write(git_repo, {**LEDGER, ".gitignore": "*.test\npublic/\n.claude/\n"})
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "code")
    r = run_cli("init", "--no-hooks", "--tools", "claude-code", cwd=git_repo)
    assert r.code == 0, r.err
    assert todo(r.out)[-2:] == [
        "  to do: commit .pretense/.gitignore, .pretense/config.toml so that every clone gets "
        "the same policy and gates",
        "  to do: .claude/settings.json is ignored by git here (.gitignore:3:.claude/), so a "
        "teammate's clone will not get it: `git add -f .claude/settings.json`",
    ]
    # `.pretense/.gitignore` un-ignores the policy: it is never reported as ignored.
    assert not any(".pretense/config.toml is ignored" in t for t in todo(r.out))


def test_init_counts_the_files_status_counts_and_says_the_binary_ones_apart(
    git_repo: Path, isolated_user: Path
) -> None:
    # On hugo init said "files: 2544 (other 1362, go 907, …)", a breakdown summing to
    # 2303, while `status` said 2303: the 241 images and fonts were counted, not read.
    write(git_repo, LEDGER)
    (git_repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "code and an image")
    r = run_cli("init", "--no-tools", "--no-hooks", cwd=git_repo)
    assert r.code == 0, r.err
    assert "  files: 1 (python 1); 1 binary or unreadable not read" in r.out.splitlines()
    st = run_cli("status", cwd=git_repo)
    assert "files:      1" in st.out.splitlines(), st.out


def test_an_uncommitted_baseline_is_named_with_the_policy(
    git_repo: Path, isolated_user: Path
) -> None:
    # The accepted findings are the team's: a baseline only one clone has would
    # leave every other clone's agents blocked on the same files.
    token = generate("gh" + "p_{b62:30}{ghcrc}", random.Random(4))
    write(git_repo, {**LEDGER, "settings.py": f'GITHUB_TOKEN = "{token}"\n'})
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "code")
    assert run_cli("init", "--no-tools", "--no-hooks", cwd=git_repo).code == 0
    assert run_cli("scan", "--update-baseline", cwd=git_repo).code == 0
    r = run_cli("init", "--no-tools", "--no-hooks", cwd=git_repo)
    assert r.code == 0, r.err
    assert todo(r.out) == [
        "  to do: commit .pretense/.gitignore, .pretense/baseline.json, .pretense/config.toml "
        "so that every clone gets the same policy and gates"
    ]
