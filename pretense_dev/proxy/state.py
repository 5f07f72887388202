"""Whether the proxy runs, and where: the state file and a health probe.

Standard library only: `verify`, the hooks and `doctor` call `running()` on
every prompt, so this module must not pull aiohttp (or anything heavy) into
their start-up path (tests/proxy/test_daemon.py checks it).

The running proxy writes ``<user state dir>/proxy.json`` (0600) once it is
listening, and removes it when it stops.  A state file alone proves nothing (a
crashed proxy leaves one behind), so `running()` also checks that the pid is
alive and, by default, that ``/health`` on the recorded port answers as a
pretense-dev proxy with that pid.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pretense_dev import paths

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9339
DEFAULT_UPSTREAM_ANTHROPIC = "https://api.anthropic.com"
# As the OpenAI SDK's base_url: it includes /v1.
DEFAULT_UPSTREAM_OPENAI = "https://api.openai.com/v1"
# Base URLs a developer may set per cloud route (`proxy start --upstream NAME=URL`): the
# Azure OpenAI resource has no default; the others default to the vendors' public hosts.
CLOUD_UPSTREAM_NAMES = ("bedrock", "vertex", "gemini", "azure-openai")


def parse_upstream(value: str) -> tuple[str, str]:
    """``NAME=URL`` → (name, url); ValueError with the reason otherwise."""
    name, sep, url = value.partition("=")
    if not sep or name not in CLOUD_UPSTREAM_NAMES:
        known = ", ".join(CLOUD_UPSTREAM_NAMES)
        raise ValueError(f"--upstream takes NAME=URL with NAME one of {known}, not {value!r}")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"upstream URL {url!r} is not http(s)")
    return name, url.rstrip("/")


SERVICE = "pretense-dev"
STATE_NAME = "proxy.json"
LOG_NAME = "proxy.log"


@dataclass(frozen=True)
class ProxyState:
    """What the running proxy recorded about itself."""

    pid: int
    host: str
    port: int
    upstream_anthropic: str
    upstream_openai: str
    started_at: float
    version: str
    log_path: str

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        return f"http://{self.host}:{self.port}"

    def repo_url(self, repo_id: str) -> str:
        """The base URL for one repository (Anthropic SDK ``base_url``; OpenAI adds ``/v1``)."""
        return f"{self.url}/r/{repo_id}"


def state_path() -> Path:
    """`<user state dir>/proxy.json`."""
    return paths.user_state_dir() / STATE_NAME


def log_path() -> Path:
    """`<user log dir>/proxy.log`."""
    return paths.user_log_dir() / LOG_NAME


def read_state(path: Path | None = None) -> ProxyState | None:
    """The recorded state, or None if there is none (or it is unreadable)."""
    p = path or state_path()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        return ProxyState(**{k: data[k] for k in ProxyState.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_state(state: ProxyState, path: Path | None = None) -> Path:
    """Record the state (atomically, 0600)."""
    p = path or state_path()
    paths.ensure_private_dir(p.parent)
    paths.atomic_write(p, json.dumps(asdict(state), indent=2) + "\n", mode=0o600)
    return p


def remove_state(pid: int, path: Path | None = None) -> None:
    """Remove the state file if it still belongs to `pid` (a newer proxy may own it)."""
    p = path or state_path()
    current = read_state(p)
    if current is not None and current.pid == pid:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (it may belong to someone else)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except OSError:
        return False
    return True


def health(host: str, port: int, timeout: float = 1.0) -> dict[str, Any] | None:
    """GET /health; the parsed answer if it is a pretense-dev proxy, else None."""
    # A raw loopback request, not urllib: no HTTP_PROXY can reroute it, and hooks
    # do not pay urllib's ~40 ms import on every prompt (pretense_dev/loopback.py).
    from pretense_dev import loopback

    try:
        _, data = loopback.get_json(host, port, "/health", timeout=timeout)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("service") != SERVICE:
        return None
    return data


def running(*, probe: bool = True, timeout: float = 1.0) -> ProxyState | None:
    """The running proxy's state, or None if no proxy runs.

    With `probe` (the default), the proxy must also answer ``/health`` with the
    recorded pid; without it, a live pid is enough (cheaper, less certain).
    """
    state = read_state()
    if state is None or not pid_alive(state.pid):
        return None
    if not probe:
        return state
    answer = health(state.host, state.port, timeout)
    if answer is None or answer.get("pid") != state.pid:
        return None
    return state
