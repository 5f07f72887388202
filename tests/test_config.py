"""Strict config: each invalid file in tests/data/config/invalid gives exactly its .err lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from pretense_dev.config import DEFAULT_CONFIG_TEXT, Config, load_config, parse_config
from pretense_dev.errors import ConfigError
from tests.conftest import run_cli, write

DATA = Path(__file__).parent / "data" / "config"
INVALID = sorted(DATA.glob("invalid/*.toml"))


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_config_messages(path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(path.read_text(), f"invalid/{path.name}")
    expected = path.with_suffix(".err").read_text().splitlines()
    assert e.value.lines() == expected


def test_valid_config() -> None:
    cfg = load_config(DATA / "valid" / "full.toml")
    assert cfg.identifiers.always == ("Initech", "billing.acme-internal.net")
    assert cfg.identifiers.min_length == 5
    assert cfg.index.exclude == ("gen/**", "*.generated.ts")
    assert cfg.index.skip_vendored is False


def test_default_text_is_the_default_config() -> None:
    assert parse_config(DEFAULT_CONFIG_TEXT, "default") == Config()


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "nope.toml") == Config()


def test_cli_reports_config_error_with_exit_2(git_repo: Path) -> None:
    write(git_repo, {".pretense/config.toml": "version = 1\n[identifiers]\nnevr = []\n"})
    r = run_cli("init", cwd=git_repo)
    assert r.code == 2
    assert r.err == (
        f"pretense-dev: {git_repo}/.pretense/config.toml:3: unknown key 'identifiers.nevr' "
        "(did you mean 'never'?)\n"
    )
    assert r.out == ""
    # Nothing was written: no id, no index, no gitignore.
    assert sorted(p.name for p in (git_repo / ".pretense").iterdir()) == ["config.toml"]
