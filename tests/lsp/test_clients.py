"""Editor clients in `lsp/`: the VS Code extension builds; the configs start the server.

The build runs only where node and npm exist (they do on CI).  It builds a
copy in tmp, so the checkout gets no node_modules/ or out/, with the user's
real npm cache (HOME is a tmp dir in tests): `npm ci --prefer-offline`
installs from that cache when it is warm.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REAL_HOME, REPO_ROOT

CLIENTS = REPO_ROOT / "lsp"
VSCODE = CLIENTS / "vscode"


def test_vscode_extension_builds(tmp_path: Path) -> None:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("node/npm not installed")
    work = tmp_path / "vscode"
    work.mkdir()
    for name in ("package.json", "package-lock.json", ".npmrc", "tsconfig.json"):
        shutil.copy(VSCODE / name, work / name)
    shutil.copytree(VSCODE / "src", work / "src")
    env = {**os.environ, "HOME": str(REAL_HOME)}
    for cmd in (
        [npm, "ci", "--prefer-offline", "--no-audit", "--no-fund"],
        [npm, "run", "compile"],
    ):
        p = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, f"{' '.join(cmd[1:])} failed:\n{p.stdout}\n{p.stderr}"
    js = (work / "out" / "extension.js").read_text()
    assert '"pretense/status"' in js
    assert "vscode-languageclient/node" in js


def test_vscode_manifest_matches_the_server_options() -> None:
    from dataclasses import fields

    from pretense_dev.lsp.options import InitOptions

    manifest = json.loads((VSCODE / "package.json").read_text())
    props = manifest["contributes"]["configuration"]["properties"]
    wire = {f.metadata["wire"]: f.default for f in fields(InitOptions)}
    settings = {k.removeprefix("pretense."): v["default"] for k, v in props.items()}
    settings.pop("command")
    assert settings == wire
    assert props["pretense.command"]["default"] == ["pretense-dev", "lsp"]
    lock = json.loads((VSCODE / "package-lock.json").read_text())
    assert all("resolved" in p for name, p in lock["packages"].items() if name), (
        "package-lock.json lost its resolved URLs: `npm ci --offline` needs them"
    )


# Each language's default `language-servers` in Helix 25.07.1, the current release
# (https://github.com/helix-editor/helix/blob/25.07.1/languages.toml): names it
# does not define yet (`zuban`, `roslyn-language-server`) must not appear.
HELIX_DEFAULTS = {
    "python": ["ty", "ruff", "jedi", "pylsp"],
    "javascript": ["typescript-language-server"],
    "jsx": ["typescript-language-server"],
    "typescript": ["typescript-language-server"],
    "tsx": ["typescript-language-server"],
    "go": ["gopls", "golangci-lint-lsp"],
    "java": ["jdtls"],
    "c-sharp": ["omnisharp"],
    "ruby": ["ruby-lsp", "solargraph"],
    "rust": ["rust-analyzer"],
}


def test_helix_config_keeps_the_current_release_defaults_and_adds_only_pretense() -> None:
    helix = tomllib.loads((CLIENTS / "helix" / "languages.toml").read_text())
    got = {lang["name"]: lang["language-servers"] for lang in helix["language"]}
    assert got == {name: [*servers, "pretense-dev"] for name, servers in HELIX_DEFAULTS.items()}
    assert set(helix["language-server"]) == {"pretense-dev"}


def test_helix_and_neovim_configs_start_the_server() -> None:
    helix = tomllib.loads((CLIENTS / "helix" / "languages.toml").read_text())
    server = helix["language-server"]["pretense-dev"]
    assert [server["command"], *server["args"]] == ["pretense-dev", "lsp"]
    assert helix["language-server"]["pretense-dev"]["config"]["severity"] == "error"
    langs = {lang["name"] for lang in helix["language"]}
    assert {"python", "javascript", "typescript", "go", "java", "c-sharp", "ruby", "rust"} <= langs
    for lang in helix["language"]:
        assert "pretense-dev" in lang["language-servers"]
    lua = (CLIENTS / "neovim" / "pretense.lua").read_text()
    assert "vim.lsp.start" in lua and '{ "pretense-dev", "lsp" }' in lua
    assert '"pretense/status"' in lua
