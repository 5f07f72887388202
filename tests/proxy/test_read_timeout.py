"""The upstream read timeout: `proxy start --read-timeout`, a repository's `[proxy] read_timeout`.

Real parts: `pretense-dev proxy start` spawning the daemon, an initialised
repository, the official Anthropic SDK as the client, and a raw TCP upstream
that takes the request and then says nothing.  The client waits up to 60 s: a
proxy that kept its 900 s default would fail the test by the client's own
timeout instead of answering with the proxy's 502.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest

from pretense_dev.config import parse_config
from pretense_dev.errors import ConfigError
from pretense_dev.proxy import state
from pretense_dev.repo import Repo
from tests.conftest import run_cli
from tests.proxy.conftest import initialised
from tests.proxy.test_faults import RawUpstream


@pytest.fixture
def repo(git_repo: Path) -> Path:
    return initialised(git_repo)


@pytest.fixture
def silent() -> Iterator[RawUpstream]:
    up = RawUpstream()  # reads the request, answers nothing
    try:
        yield up
    finally:
        up.close()


def ask(repo: Path) -> anthropic.APIStatusError:
    st = state.running()
    assert st is not None
    client = anthropic.Anthropic(
        base_url=f"{st.url}/r/{Repo(repo).repo_id}",
        api_key="sk-ant-test",
        max_retries=0,
        timeout=60,
    )
    with pytest.raises(anthropic.APIStatusError) as caught:
        client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=16,
            messages=[{"role": "user", "content": "why does LedgerReconciler fail?"}],
        )
    return caught.value


def start(*args: str) -> None:
    r = run_cli("proxy", "start", "--port", "0", *args)
    assert r.code == 0, r.err


@pytest.fixture
def stop_proxy() -> Iterator[None]:
    yield
    run_cli("proxy", "stop")


def test_proxy_start_read_timeout_flag_reaches_the_daemon(
    repo: Path, silent: RawUpstream, stop_proxy: None
) -> None:
    start("--read-timeout", "1", "--upstream-anthropic", f"http://127.0.0.1:{silent.port}")
    err = ask(repo)
    assert err.status_code == 502
    assert "the upstream answer from 127.0.0.1 broke" in err.message
    assert "the request had been sent" in err.message
    assert len(silent.requests) == 1


def test_a_repository_read_timeout_bounds_its_requests_on_a_default_daemon(
    repo: Path, silent: RawUpstream, stop_proxy: None
) -> None:
    cfg = repo / ".pretense/config.toml"
    cfg.write_text(cfg.read_text().replace("[proxy]\n", "[proxy]\nread_timeout = 1\n", 1))
    start("--upstream-anthropic", f"http://127.0.0.1:{silent.port}")  # 900 s by default
    err = ask(repo)
    assert err.status_code == 502 and "the request had been sent" in err.message


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0", "must be between 1 and 86400 seconds, got 0"),
        ("-5", "must be between 1 and 86400 seconds, got -5"),
        ("100000", "must be between 1 and 86400 seconds, got 100000"),
        ('"30s"', "must be a number, got '30s'"),
    ],
)
def test_a_bad_read_timeout_in_the_policy_is_one_line(value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(f"version = 1\n[proxy]\nread_timeout = {value}\n", "config.toml")
    assert caught.value.lines()[0] == f"config.toml:3: proxy.read_timeout: {problem}"


def test_valid_read_timeouts_parse() -> None:
    head = "version = 1\n[proxy]\n"
    assert parse_config(head + "read_timeout = 30\n", "c").proxy.read_timeout == 30
    assert parse_config(head + "read_timeout = 2.5\n", "c").proxy.read_timeout == 2.5
    assert parse_config("version = 1\n", "c").proxy.read_timeout is None


@pytest.mark.parametrize("value", ["0", "-1", "abc", "90000"])
def test_a_bad_read_timeout_flag_is_refused_before_anything_starts(value: str) -> None:
    r = run_cli("proxy", "start", "--port", "0", "--read-timeout", value)
    assert r.code == 2
    assert "--read-timeout" in r.err
    assert state.running() is None
