"""What `init`, `index` and `scan` print: the secrets that will block agents, and progress.

Run as a user runs them (a fresh interpreter, a real git repository), piped and
on a pseudo-terminal, with the exact output asserted.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from pretense_dev.secrets.samples import generate
from tests.conftest import cli_on_a_terminal, run_cli, write

CODES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
COLOUR = re.compile(r"\x1b\[([0-9;]*)m")
ERASED = "\r\x1b[1A\x1b[2K"  # Rich's transient bar: cursor up, erase the line


def _token(seed: int) -> str:
    """A GitHub token shape built at run time (no secret literal in the repository)."""
    return generate("gh" + "p_{b62:30}{ghcrc}", random.Random(seed))


def _init(repo: Path) -> list[str]:
    r = run_cli("init", "--no-tools", "--no-hooks", cwd=repo)
    assert r.code == 0, r.err
    assert r.err == ""
    return r.out.splitlines()


def _section(lines: list[str]) -> list[str]:
    """The `secrets:` lines of init's report, up to the next report item."""
    start = next(i for i, line in enumerate(lines) if line.startswith("  secrets: "))
    end = next(i for i, line in enumerate(lines) if line.startswith(("  to do: ", "  tools: ")))
    return lines[start:end]


def _read(repo: Path, rel: str) -> dict[str, str]:
    """What Claude Code's PreToolUse hook answers for a Read of `rel`."""
    payload = {
        "session_id": "68082d82-aaaa-bbbb-cccc-000000000001",
        "transcript_path": "/tmp/t.jsonl",
        "cwd": str(repo),
        "hook_event_name": "PreToolUse",
        "tool_name": "Read",
        "tool_use_id": "toolu_1",
        "tool_input": {"file_path": str(repo / rel)},
    }
    r = run_cli("hook", "claude-code", "PreToolUse", cwd=repo, stdin=json.dumps(payload))
    assert r.code == 0, r.err
    if not r.out.strip():
        return {}
    out: dict[str, str] = json.loads(r.out)["hookSpecificOutput"]
    return out


def test_init_names_the_findings_that_will_block_and_the_command_that_accepts_them(
    git_repo: Path,
) -> None:
    tok = _token(5)
    write(git_repo, {"deploy/env.sh": f"export GH={tok}\n", "app.py": "def run_ledger(): pass\n"})
    lines = _init(git_repo)
    assert _section(lines) == [
        "  secrets: 1 finding in 1 file will block AI agents:",
        "    deploy/env.sh:1: github-pat (high) ghp_…(40)",
        "  The tool hooks refuse an agent's read of this file, and the proxy refuses a",
        "  request that carries one of these secrets. Remove each secret; if one is not a",
        '  secret, add "pretense: allow" to its line. To accept all current findings as',
        "  the team's: `pretense-dev scan --update-baseline`, then commit",
        "  .pretense/baseline.json.",
    ]
    assert all(len(line) <= 80 for line in _section(lines))
    # What it says is what happens: the agent's read is refused.
    assert _read(git_repo, "deploy/env.sh")["permissionDecision"] == "deny"
    # The command it names accepts the finding: init is then silent and the read allowed.
    r = run_cli("scan", "--update-baseline", cwd=git_repo)
    assert (r.code, r.err) == (
        0,
        f"pretense-dev: accepted 1 finding(s) in {git_repo}/.pretense/baseline.json\n",
    )
    assert not any("secrets" in line for line in _init(git_repo))
    assert _read(git_repo, "deploy/env.sh").get("permissionDecision") != "deny"
    # A new secret is named again; the accepted one is not.
    write(git_repo, {"ci/token.txt": f"{_token(6)}\n"})
    assert _section(_init(git_repo))[:2] == [
        "  secrets: 1 finding in 1 file will block AI agents:",
        "    ci/token.txt:1: github-pat (high) ghp_…(40)",
    ]
    assert tok not in json.dumps(lines)


def test_init_groups_findings_by_file_and_shows_ten_files(git_repo: Path) -> None:
    files = {f"conf/f{i:02}.env": f"A={_token(i)}\n" for i in range(12)}
    files["conf/f00.env"] += f"B={_token(100)}\nC={_token(101)}\n"
    write(git_repo, files)
    section = _section(_init(git_repo))
    assert section[0] == "  secrets: 14 findings in 12 files will block AI agents:"
    assert section[1] == "    conf/f00.env:1: github-pat (high) ghp_…(40), and 2 more in this file"
    assert section[2:11] == [
        f"    conf/f{i:02}.env:1: github-pat (high) ghp_…(40)" for i in range(1, 10)
    ]
    assert section[11] == "    … and 2 more files (`pretense-dev scan` lists every finding)"
    assert section[12].startswith("  The tool hooks refuse an agent's read of these files, ")


def test_a_long_path_puts_its_finding_on_the_next_line(git_repo: Path) -> None:
    deep = "test/integration/targets/become_unprivileged/setup_unprivileged_users.yml"
    write(git_repo, {deep: f"token: {_token(8)}\n"})
    assert _section(_init(git_repo))[:3] == [
        "  secrets: 1 finding in 1 file will block AI agents:",
        f"    {deep}:1:",
        "      github-pat (high) ghp_…(40)",
    ]


def test_a_file_name_cannot_forge_a_line_of_the_report(git_repo: Path) -> None:
    name = "evil\n    app.py:1: nothing here.txt"
    write(git_repo, {name: f"{_token(9)}\n"})
    section = _section(_init(git_repo))
    assert section[:2] == [
        "  secrets: 1 finding in 1 file will block AI agents:",
        f"    {json.dumps(name)}:1: github-pat (high) ghp_…(40)",
    ]


def test_init_leaves_out_what_allow_paths_allows_now(git_repo: Path) -> None:
    write(git_repo, {"fixtures/keys.txt": f"{_token(7)}\n"})
    assert any(line.startswith("  secrets: 1 finding") for line in _init(git_repo))
    config = git_repo / ".pretense/config.toml"
    text = config.read_text(encoding="utf-8")
    assert "\nallow_paths = []\n" in text
    config.write_text(
        text.replace("\nallow_paths = []\n", '\nallow_paths = ["fixtures/**"]\n', 1),
        encoding="utf-8",
    )
    assert not any("secrets" in line for line in _init(git_repo))
    assert _read(git_repo, "fixtures/keys.txt").get("permissionDecision") != "deny"


# -- progress ------------------------------------------------------------------


def _frames(raw: str) -> list[str]:
    """The lines a terminal was sent, terminal codes removed, in order."""
    return [f for f in CODES.sub("", raw).replace("\r\n", "\r").split("\r") if f.strip()]


def test_index_draws_progress_on_a_terminal_and_prints_one_line_when_piped(
    git_repo: Path,
) -> None:
    write(git_repo, {f"pkg/mod_{i}.py": f"def handler_{i}(): pass\n" for i in range(39)})
    (git_repo / "pkg/blob.dat").write_bytes(b"\x00\x01binary")  # read, then left out
    _init(git_repo)
    piped = run_cli("index", "--full", cwd=git_repo)
    assert piped.code == 0 and piped.err == ""
    assert re.fullmatch(
        r"indexed 39 of 40 files \(0 removed\) in \d+\.\d\d s; 78 names protected \(\+0 −0\)\n",
        piped.out,
    )
    code, out, err = cli_on_a_terminal(["index", "--full"], git_repo)
    assert code == 0
    assert re.fullmatch(r"indexed 39 of 40 files .*\n", out)
    frames = _frames(err)
    # The last frame drawn: every file read, the names found (handler_N and mod_N), time.
    assert re.fullmatch(r"indexing ━+ 40/40 files, 78 names 0:00:\d\d", frames[-1]), frames
    # A frame drawn mid-way ends its bar in a half cell (Rich draws ╸ or ╺ there);
    # a loaded machine draws such frames, a quiet one may jump straight to the end.
    assert all(
        re.fullmatch(r"indexing [━╸╺]+ +\d+/(\d+|\?) files(, \d+ names)? 0:00:\d\d", f)
        for f in frames
    ), frames
    assert all(len(f) <= 100 for f in frames)
    assert err.endswith(ERASED)  # erased when done: only the summary stays
    assert "\x1b[32m" in err  # coloured on a terminal


def test_no_color_keeps_the_bar_without_colour(git_repo: Path) -> None:
    write(git_repo, {f"m{i}.py": f"def f_{i}(): pass\n" for i in range(5)})
    _init(git_repo)
    code, _, err = cli_on_a_terminal(["index", "--full"], git_repo, env={"NO_COLOR": "1"})
    assert code == 0
    assert re.fullmatch(r"indexing ━+ 5/5 files, 10 names 0:00:\d\d", _frames(err)[-1])
    colours = {c for m in COLOUR.findall(err) for c in m.split(";") if c}
    assert not colours & {str(n) for n in (*range(30, 38), *range(90, 98))}, colours


def test_init_draws_progress_on_a_terminal_and_its_report_is_unchanged(git_repo: Path) -> None:
    write(git_repo, {f"pkg/mod_{i}.py": f"def handler_{i}(): pass\n" for i in range(40)})
    code, out, err = cli_on_a_terminal(["init", "--no-tools", "--no-hooks"], git_repo)
    assert code == 0
    assert re.fullmatch(r"indexing ━+ 40/40 files, 80 names 0:00:\d\d", _frames(err)[-1])
    assert err.endswith(ERASED)
    lines = out.splitlines()
    assert lines[0].startswith("pretense-dev initialised ")
    assert "  files: 40 (python 40)" in lines and "  names protected: 80" in lines


def test_scan_draws_progress_on_a_terminal_only_for_a_work_tree_scan(git_repo: Path) -> None:
    write(git_repo, {f"src/m{i}.py": f"X_{i} = 1\n" for i in range(30)})
    _init(git_repo)
    code, out, err = cli_on_a_terminal(["scan"], git_repo)
    assert (code, out) == (0, "")
    frames = _frames(err)
    assert re.fullmatch(r"scanning ━+ 30/30 files 0:00:\d\d", frames[-1]), frames
    assert err.endswith(ERASED)
    piped = run_cli("scan", cwd=git_repo)
    assert (piped.code, piped.out, piped.err) == (0, "", "")
    # A commit hook's scan of staged changes draws nothing, even on a terminal.
    assert cli_on_a_terminal(["scan", "--staged"], git_repo) == (0, "", "")


def test_a_worker_forked_while_the_bar_is_drawn_writes_to_the_real_stderr(tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    snippet = (
        "import os, sys\n"
        "from pretense_dev.progress import progress\n"
        "with progress('x') as report:\n"
        "    assert report is not None and sys.stderr is not sys.__stderr__\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        os._exit(0 if sys.stderr is sys.__stderr__ else 3)\n"
        "    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])\n"
        "    print('child', code, file=sys.__stdout__)\n"
    )
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm-256color"
    p = subprocess.run(
        [sys.executable, "-c", snippet],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    os.close(slave)
    os.close(master)
    assert (p.returncode, p.stdout) == (0, b"child 0\n")
