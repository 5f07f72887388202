"""Every failure path answers in the API's own error format and forwards nothing.

Each test asserts on the fake upstream's record: an empty record is the proof
that nothing reached the vendor.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from pretense_dev.config import Config
from pretense_dev.proxy.repos import Scanner
from tests.proxy.conftest import NAMES, REPO_ID, Harness, build_index

MSG: Any = [{"role": "user", "content": "reconcile_batch"}]


def anthropic_at(base: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base, api_key="sk-ant-test", max_retries=0)


def openai_at(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base + "/v1", api_key="sk-test", max_retries=0)


def nothing_forwarded(h: Harness) -> None:
    assert h.upstream.records == []


def anthropic_error(body: bytes) -> dict[str, Any]:
    data = json.loads(body)
    assert data["type"] == "error" and set(data["error"]) >= {"type", "message"}
    return dict(data["error"])


def test_unknown_repo_id(h: Harness) -> None:
    client = anthropic_at(f"{h.url}/r/0000000000000000")
    with pytest.raises(anthropic.NotFoundError) as e:
        client.messages.create(model="m", max_tokens=5, messages=MSG)
    assert "no repository with id 0000000000000000" in str(e.value)
    with pytest.raises(openai.NotFoundError):
        openai_at(f"{h.url}/r/0000000000000000").chat.completions.create(model="m", messages=MSG)
    nothing_forwarded(h)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"messages": "reconcile_batch"}',
        b'{"messages": [{"role": "user", "content": {"a": 1}}]}',
        b'{"system": 5, "messages": []}',
        b'{"messages": [{"role": "user", "content": [{"type": "text", "text": 7}]}]}',
    ],
)
def test_unparseable_or_unprotectable_body(h: Harness, body: bytes) -> None:
    status, _, data = h.raw(f"/r/{REPO_ID}/v1/messages", body, {"anthropic-version": "2023-06-01"})
    assert status == 400
    err = anthropic_error(data)
    assert err["type"] == "invalid_request_error" and "not sent" in err["message"]
    nothing_forwarded(h)


def test_openai_unprotectable_body(h: Harness) -> None:
    status, _, data = h.raw(
        f"/r/{REPO_ID}/v1/chat/completions", b'{"model": "m", "messages": {"x": 1}}'
    )
    assert status == 400
    err = json.loads(data)["error"]
    assert err["type"] == "invalid_request_error" and "`messages` must be a list" in err["message"]
    status, _, _ = h.raw(f"/r/{REPO_ID}/v1/responses", b'{"model": "m", "input": 5}')
    assert status == 400
    nothing_forwarded(h)


def test_unknown_routes_are_not_forwarded(h: Harness) -> None:
    status, _, data = h.raw(f"/r/{REPO_ID}/v1/files", b"{}", {"anthropic-version": "2023-06-01"})
    assert status == 404 and "does not proxy" in anthropic_error(data)["message"]
    status, _, _ = h.raw("/v1/messages", b"{}", {"anthropic-version": "2023-06-01"})
    assert status == 404
    status, _, _ = h.raw(f"/r/{REPO_ID}/v1/messages", b"", method="GET")
    assert status == 405
    nothing_forwarded(h)


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example:9339"},
        {"Host": "127.0.0.1.nip.io"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
)
def test_dns_rebinding_and_cross_origin_rejected(h: Harness, headers: dict[str, str]) -> None:
    body = json.dumps({"model": "m", "max_tokens": 5, "messages": MSG}).encode()
    status, hdrs, data = h.raw(
        f"/r/{REPO_ID}/v1/messages", body, {"anthropic-version": "2023-06-01", **headers}
    )
    assert status == 403
    assert anthropic_error(data)["type"] == "permission_error"
    assert hdrs["x-pretense-decision"] == "blocked"
    nothing_forwarded(h)


def test_loopback_hosts_accepted(h: Harness) -> None:
    body = json.dumps({"model": "m", "max_tokens": 5, "messages": MSG}).encode()
    for host in (f"localhost:{h.port}", f"127.0.0.1:{h.port}", f"[::1]:{h.port}"):
        status, _, _ = h.raw(
            f"/r/{REPO_ID}/v1/messages",
            body,
            {"anthropic-version": "2023-06-01", "Host": host, "Origin": "http://localhost:3000"},
        )
        assert status == 200
    assert len(h.upstream.records) == 3


def _copy_repo(h: Harness, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    build_index(root, NAMES)
    return root


def test_map_not_loadable(h: Harness, tmp_path: Path) -> None:
    root = _copy_repo(h, tmp_path)
    (root / ".pretense" / "index.db").unlink()
    base = h.spawn(root)
    with pytest.raises(anthropic.InternalServerError) as e:
        anthropic_at(base).messages.create(model="m", max_tokens=5, messages=MSG)
    assert "identifier map" in str(e.value) and "pretense-dev index" in str(e.value)
    assert not (root / ".pretense" / "index.db").exists(), "an empty index must never be created"
    (root / ".pretense" / "index.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(openai.InternalServerError):
        openai_at(base).chat.completions.create(model="m", messages=MSG)
    nothing_forwarded(h)


def test_map_lost_while_running(h: Harness, tmp_path: Path) -> None:
    root = _copy_repo(h, tmp_path)
    base = h.spawn(root)
    client = anthropic_at(base)
    client.messages.create(model="m", max_tokens=5, messages=MSG)
    assert len(h.upstream.records) == 1
    h.upstream.records.clear()
    shutil.rmtree(root / ".pretense")
    with pytest.raises(anthropic.InternalServerError):
        client.messages.create(model="m", max_tokens=5, messages=MSG)
    nothing_forwarded(h)


def test_detector_cannot_load(h: Harness, tmp_path: Path) -> None:
    def broken(key: bytes, config: Config, root: Path) -> Scanner:
        raise RuntimeError("rules file unreadable")

    base = h.spawn(_copy_repo(h, tmp_path), scanner=broken)
    with pytest.raises(anthropic.InternalServerError) as e:
        anthropic_at(base).messages.create(model="m", max_tokens=5, messages=MSG)
    assert "secret detector cannot be loaded" in str(e.value)
    nothing_forwarded(h)


class ExplodingScanner:
    def scan_text(self, text: str, path: str | None = None) -> list[Any]:
        raise ValueError("boom")


def test_detector_fails_during_scan(h: Harness, tmp_path: Path) -> None:
    base = h.spawn(_copy_repo(h, tmp_path), scanner=lambda k, c, r: ExplodingScanner())
    with pytest.raises(openai.InternalServerError) as e:
        openai_at(base).chat.completions.create(model="m", messages=MSG)
    assert "secret scan failed" in str(e.value)
    nothing_forwarded(h)


def test_policy_refuses_vendor_and_model(h: Harness, tmp_path: Path) -> None:
    root = _copy_repo(h, tmp_path)
    (root / ".pretense" / "config.toml").write_text(
        'version = 1\n[proxy]\nvendors = ["anthropic"]\nmodels = ["claude-sonnet-*"]\n'
    )
    base = h.spawn(root)
    with pytest.raises(openai.PermissionDeniedError) as e:
        openai_at(base).chat.completions.create(model="gpt-4o", messages=MSG)
    assert "does not approve sending its code to openai" in str(e.value)
    with pytest.raises(anthropic.PermissionDeniedError) as e2:
        anthropic_at(base).messages.create(model="claude-opus-9", max_tokens=5, messages=MSG)
    assert "model 'claude-opus-9' is not approved" in str(e2.value)
    nothing_forwarded(h)
    anthropic_at(base).messages.create(model="claude-sonnet-5", max_tokens=5, messages=MSG)
    assert len(h.upstream.records) == 1


def test_invalid_policy_fails_closed(h: Harness, tmp_path: Path) -> None:
    root = _copy_repo(h, tmp_path)
    (root / ".pretense" / "config.toml").write_text("version = 1\n[proxy]\nvendorz = []\n")
    base = h.spawn(root)
    with pytest.raises(anthropic.InternalServerError) as e:
        anthropic_at(base).messages.create(model="m", max_tokens=5, messages=MSG)
    assert "unknown key 'proxy.vendorz'" in str(e.value)
    nothing_forwarded(h)


def test_upstream_unreachable_is_a_502(h: Harness, tmp_path: Path) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    from pretense_dev.proxy.repos import RepoSource
    from pretense_dev.proxy.server import Proxy, Settings
    from tests.proxy.conftest import KEY

    root = _copy_repo(h, tmp_path)
    proxy = Proxy(
        Settings(
            upstream_anthropic=f"http://127.0.0.1:{dead}",
            upstream_openai=f"http://127.0.0.1:{dead}/v1",
        ),
        resolver=lambda rid: RepoSource(rid, root, lambda: KEY),
        scanner_factory=h.proxy.scanner_factory,
        audit=h.sink,
    )
    port = h.bg.serve(proxy.create_app())
    with pytest.raises(anthropic.InternalServerError) as e:
        anthropic_at(f"http://127.0.0.1:{port}/r/{REPO_ID}").messages.create(
            model="m", max_tokens=5, messages=MSG
        )
    assert e.value.status_code == 502 and "could not reach" in str(e.value)


def test_refusals_are_audited_without_content(h: Harness) -> None:
    h.raw(
        f"/r/{REPO_ID}/v1/messages",
        b"not json reconcile_batch",
        {
            "anthropic-version": "2023-06-01",
            "x-api-key": "sk-ant-secretkey",
            "X-Claude-Code-Session-Id": "refused-1",
        },
    )
    ev = h.sink.event_for("refused-1")
    assert ev.decision == "blocked" and not ev.mutation_active and ev.upstream_status == 0
    dumped = json.dumps(ev.to_dict())
    assert "reconcile_batch" not in dumped and "sk-ant-secretkey" not in dumped
