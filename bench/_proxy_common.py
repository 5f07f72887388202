"""Shared setup for the proxy benchmarks: a repo map from real code, servers, a client.

The bench repository's map comes from the standard library's own definitions
(every ``def``/``class`` name of 6+ characters in ~1.5 MB of stdlib code), and
request texts are cut from the same code, so the proxy mutates realistic text
at a realistic density.  Servers run in their own processes; the client is
`http.client` with keep-alive, so each figure is one request's latency.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from bench._common import stdlib_dir
from bench._proxy_servers import KEY, REPO_ID

DEF = re.compile(r"^\s*(?:def|class)\s+([A-Za-z_][A-Za-z0-9_]{5,})", re.M)


def corpus(limit: int = 1_600_000) -> str:
    """About `limit` characters of stdlib code."""
    text = ""
    for p in sorted(stdlib_dir().glob("*.py")):
        text += p.read_text(encoding="utf-8", errors="replace")
        if len(text) >= limit:
            break
    return text[:limit]


def build_repo(root: Path, text: str) -> int:
    """An initialised-looking repo whose index protects the names `text` defines."""
    from pretense_dev.index.store import IndexStore
    from pretense_dev.mutation import synthesize

    names = sorted(set(DEF.findall(text)))
    state = root / ".pretense"
    state.mkdir(parents=True, exist_ok=True)
    (state / "repo-id").write_text(REPO_ID + "\n")
    taken: set[str] = set()
    rows = []
    for n in names:
        s = synthesize(KEY, n, "function", taken)
        taken.add(s)
        rows.append((n, s, "function"))
    with IndexStore(state / "index.db") as store:
        store.update_identifiers(rows, [], [])
        store.mark_complete()  # a finished index run: the proxy refuses an incomplete map
    return len(rows)


@dataclass
class Server:
    """One server process and its port."""

    proc: subprocess.Popen[str]
    port: int

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_mb(self) -> float:
        with open(f"/proc/{self.pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0


def start_server(*args: str, src: Path | None = None) -> Server:
    """One server process; `src`: run another checkout's code (a baseline) instead of this one."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(src or Path(__file__).resolve().parent.parent)
    if src is not None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # read only: nothing written into that checkout
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._proxy_servers", *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=src,  # `-m` puts the working directory first on the path
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return Server(proc, int(line.split()[1]))


@contextlib.contextmanager
def servers(
    base: Path, text_file: Path, loop: str, audit: Path | None = None
) -> Iterator[tuple[Server, Server, Server]]:
    """(upstream, passthrough, pretense), all on 127.0.0.1, the proxies on `loop`.

    The proxy's audit events are dropped unless `audit` names a log file to write.
    """
    up = start_server("upstream", "--text", str(text_file), "--loop", "uvloop")
    url = f"http://127.0.0.1:{up.port}"
    pt = start_server("passthrough", "--upstream", url, "--loop", loop)
    pr = start_server(
        "pretense",
        "--upstream",
        url,
        "--root",
        str(base / "repo"),
        "--loop",
        loop,
        *(["--audit", str(audit)] if audit is not None else []),
    )
    try:
        yield up, pt, pr
    finally:
        for s in (pr, pt, up):
            s.proc.kill()
            s.proc.wait()


class Client:
    """A keep-alive HTTP/1.1 client for one server."""

    def __init__(self, port: int, prefix: str) -> None:
        self.port = port
        self.prefix = prefix
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    HEADERS: ClassVar[dict[str, str]] = {
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
        "x-api-key": "sk-ant-bench",
    }

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        # bytes bodies go out with the headers in one send(): no Nagle/delayed-ACK stall
        self.conn.request("POST", self.prefix + path, body, self.HEADERS)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, data

    def ttfb(self, path: str, body: bytes, marker: bytes = b"text_delta") -> tuple[float, float]:
        """(seconds to the first chunk holding `marker`, seconds to the end)."""
        t0 = time.perf_counter()
        self.conn.request("POST", self.prefix + path, body, self.HEADERS)
        r = self.conn.getresponse()
        first = 0.0
        buf = b""
        while True:
            chunk = r.read1(65536)
            if not chunk:
                break
            if not first:
                buf += chunk
                if marker in buf:
                    first = time.perf_counter() - t0
        return first, time.perf_counter() - t0


def clients(up: Server, pt: Server, pr: Server) -> dict[str, Client]:
    """Clients for: direct, passthrough (the floor), pretense."""
    return {
        "direct": Client(up.port, ""),
        "passthrough": Client(pt.port, f"/r/{REPO_ID}"),
        "pretense": Client(pr.port, f"/r/{REPO_ID}"),
    }


def request(blocks: list[str], *, stream: bool = False) -> bytes:
    """A Messages request whose user turns are `blocks` (alternating with short answers)."""
    messages: list[dict[str, object]] = []
    for i, b in enumerate(blocks):
        if i:
            messages.append({"role": "assistant", "content": [{"type": "text", "text": "ok"}]})
        messages.append({"role": "user", "content": [{"type": "text", "text": b}]})
    body: dict[str, object] = {"model": "claude-bench", "max_tokens": 100, "messages": messages}
    if stream:
        body["stream"] = True
    return json.dumps(body).encode()
