"""Upstream and client faults against the real proxy process, with real signals.

The proxy runs as ``python -m pretense_dev.proxy.server`` (what `proxy start`
spawns) on an initialised repository in an isolated home; evidence is read
from the real audit log.  The broken upstream is a raw TCP server writing the
faulty bytes; the impatient client is a real process killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest

from pretense_dev.audit.events import AuditEvent
from pretense_dev.proxy import state
from pretense_dev.proxy.replay import BackgroundServer
from tests.proxy.conftest import initialised
from tests.proxy.test_faults import FIRST_CHUNK, SSE_HEAD, RawUpstream, slow_upstream


@pytest.fixture
def repo(git_repo: Path) -> Path:
    return initialised(git_repo)


def start_proxy(upstream: str, read_timeout: float) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pretense_dev.proxy.server",
            "--port",
            "0",
            "--read-timeout",
            str(read_timeout),
            "--upstream-anthropic",
            upstream,
            "--upstream-openai",
            upstream + "/v1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        st = state.running()
        if st is not None and st.pid == proc.pid:
            return proc
        assert proc.poll() is None, "the proxy exited at start"
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the proxy did not start")


@pytest.fixture
def proxies() -> Iterator[list[subprocess.Popen[bytes]]]:
    made: list[subprocess.Popen[bytes]] = []
    yield made
    for p in made:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def last_request_event() -> AuditEvent:
    from pretense_dev.audit.store import AuditStore

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with AuditStore.open_readonly() as store:
            found = [e.event for e in store.events("event = 'request'")]
        if found:
            return found[-1]
        time.sleep(0.05)  # the audit thread appends after the answer went out
    raise AssertionError("no audit event")


def repo_base(repo: Path, st: state.ProxyState) -> str:
    repo_id = (repo / ".pretense" / "repo-id").read_text().strip()
    return f"{st.url}/r/{repo_id}"


def test_invalid_chunk_from_upstream_ends_the_stream_with_an_error(
    repo: Path, proxies: list[subprocess.Popen[bytes]]
) -> None:
    up = RawUpstream(SSE_HEAD + FIRST_CHUNK, b"zz-not-hex\r\n")
    try:
        proxies.append(start_proxy(f"http://127.0.0.1:{up.port}", read_timeout=1))
        st = state.running()
        assert st is not None
        client = anthropic.Anthropic(
            base_url=repo_base(repo, st), api_key="sk-ant-x", max_retries=0, timeout=30
        )
        with (
            pytest.raises(anthropic.APIStatusError) as e,
            client.messages.stream(
                model="m",
                max_tokens=5,
                messages=[{"role": "user", "content": "why LedgerReconciler?"}],
            ) as stream,
        ):
            for _ in stream:
                pass
        assert "pretense-dev: the upstream stream broke" in str(e.value)
        (sent,) = up.requests
        assert b"LedgerReconciler" not in sent
    finally:
        up.close()
    event = last_request_event()
    assert event.decision == "forwarded" and event.upstream_status == 200
    assert event.reason.startswith("upstream stream broke")


CLIENT = """
import http.client, json, sys, time
body = json.dumps({"model": "m", "max_tokens": 5,
                   "messages": [{"role": "user", "content": "quarterly prompt text"}]}).encode()
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
c.request("POST", sys.argv[2] + "/v1/messages", body,
          {"Content-Type": "application/json", "anthropic-version": "2023-06-01"})
print("sent", flush=True)
c.getresponse()
"""


def test_killed_client_cancels_the_upstream_request(
    repo: Path, proxies: list[subprocess.Popen[bytes]]
) -> None:
    app, started, cancelled = slow_upstream(120)
    bg = BackgroundServer()
    try:
        up_port = bg.serve(app)
        proxies.append(start_proxy(f"http://127.0.0.1:{up_port}", read_timeout=900))
        st = state.running()
        assert st is not None
        path = "/" + repo_base(repo, st).split("/", 3)[3]
        client = subprocess.Popen(
            [sys.executable, "-c", CLIENT, str(st.port), path], stdout=subprocess.PIPE
        )
        assert started.wait(30), "the request never reached the upstream"
        os.kill(client.pid, signal.SIGKILL)
        client.wait(10)
        assert cancelled.wait(30), "the upstream request was not cancelled"
    finally:
        bg.close()
    event = last_request_event()
    assert event.decision == "forwarded"
    assert event.reason == "client went away before the answer"
    assert "quarterly prompt text" not in json.dumps(event.to_dict())
