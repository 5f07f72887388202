"""Starting and stopping the proxy process (stdlib only: no aiohttp until it runs).

`start` spawns ``python -m pretense_dev.proxy.server`` in its own session
(detached from the terminal, output appended to the proxy log) and returns
once the new process answers ``/health`` with its own pid — so a caller that
sees `start` succeed can send requests at once.  A second `start` finds the
running proxy and says so.  `stop` sends SIGTERM to the recorded pid only after
``/health`` confirms that pid is our proxy (a stale state file must never make
us signal an unrelated process that reused the pid).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pretense_dev import paths
from pretense_dev.errors import PretenseError
from pretense_dev.proxy import state

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class StartResult:
    """What `start` found or did."""

    state: state.ProxyState
    already_running: bool


@contextlib.contextmanager
def _start_lock() -> Iterator[None]:
    """One `start` at a time per user (two would race for the port)."""
    lock = paths.ensure_private_dir(paths.user_state_dir()) / "proxy.lock"
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock, the port still arbitrates
        yield
        return
    with open(lock, "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _tail(path: Path, lines: int) -> list[str]:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return []
    return data.splitlines()[-lines:]


def start(
    *,
    port: int = state.DEFAULT_PORT,
    upstream_anthropic: str = state.DEFAULT_UPSTREAM_ANTHROPIC,
    upstream_openai: str = state.DEFAULT_UPSTREAM_OPENAI,
    upstreams: tuple[str, ...] = (),
    timeout: float = START_TIMEOUT,
    read_timeout: float | None = None,
) -> StartResult:
    """Start the proxy in the background unless it runs; wait until it answers."""
    for url in (upstream_anthropic, upstream_openai):
        if not url.startswith(("http://", "https://")):
            raise PretenseError(f"upstream URL {url!r} is not http(s)", "pass a full URL")
    for value in upstreams:
        try:
            state.parse_upstream(value)
        except ValueError as e:
            raise PretenseError(
                str(e), "e.g. --upstream azure-openai=https://<resource>.openai.azure.com"
            ) from None
    with _start_lock():
        current = state.running()
        if current is not None:
            return StartResult(current, True)
        log = state.log_path()
        paths.ensure_private_dir(log.parent)
        cmd = [
            sys.executable,
            "-m",
            "pretense_dev.proxy.server",
            "--port",
            str(port),
            "--upstream-anthropic",
            upstream_anthropic,
            "--upstream-openai",
            upstream_openai,
            *[arg for value in upstreams for arg in ("--upstream", value)],
            *(["--read-timeout", repr(read_timeout)] if read_timeout is not None else []),
        ]
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=fd,
                stderr=fd,
                start_new_session=True,
                close_fds=True,
            )
        finally:
            os.close(fd)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = proc.poll()
            if code is not None:
                last = [line for line in _tail(log, 5) if line.strip()]
                why = last[-1] if last else f"exit code {code}"
                raise PretenseError(
                    f"the proxy did not start: {why}",
                    "see `pretense-dev proxy logs`; pass --port to use another port",
                )
            st = state.read_state()
            if st is not None and st.pid == proc.pid:
                answer = state.health(st.host, st.port, timeout=1.0)
                if answer is not None and answer.get("pid") == proc.pid:
                    return StartResult(st, False)
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        raise PretenseError(
            f"the proxy did not answer within {timeout:.0f} s", "see `pretense-dev proxy logs`"
        )


def stop(timeout: float = STOP_TIMEOUT) -> state.ProxyState | None:
    """Stop the running proxy; return its state, or None if none was running."""
    st = state.read_state()
    if st is None:
        return None
    if not state.pid_alive(st.pid):
        state.remove_state(st.pid)
        return None
    answer = state.health(st.host, st.port, timeout=2.0)
    if answer is None or answer.get("pid") != st.pid:
        raise PretenseError(
            f"process {st.pid} from the state file does not answer as the proxy on port {st.port}",
            f"if it is a hung proxy, stop it with `kill {st.pid}`; "
            f"then remove {state.state_path()}",
        )
    os.kill(st.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not state.pid_alive(st.pid) or _is_zombie(st.pid):
            state.remove_state(st.pid)
            return st
        time.sleep(0.05)
    raise PretenseError(
        f"the proxy (pid {st.pid}) did not stop within {timeout:.0f} s", f"`kill -9 {st.pid}`"
    )


def _is_zombie(pid: int) -> bool:
    """A terminated child not yet reaped (Linux); it has stopped serving."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def logs(lines: int) -> list[str]:
    """The last `lines` lines of the proxy log."""
    return _tail(state.log_path(), lines)
