"""Open → first diagnostics in a freshly started editor session (goal ≤ 250 ms).

Each round starts `pretense-dev lsp` anew, as an editor does on its first
file: spawn, `initialize`, `initialized`, `didOpen` of a small Python file
holding a GitHub token (built at run time), until its `publishDiagnostics`
arrives.  Printed beside it, from the same run, its floors — the interpreter
alone (`python -c pass`) and the detector alone in a fresh process (import,
set-up and first scan of the same text: what a server that needed nothing else
could not beat) — with the figure's ratio to each, and where the rest goes:
the start-up loop's own import (`lsp.startup`: json and the detector), and
what now loads on a thread meanwhile (`lsprotocol.types` alone, pygls'
server whole), and the detector's set-up and first scan in process.
Medians; on a shared machine compare the ratios, not the milliseconds.

    .venv/bin/python -m bench.lsp_startup [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench._common import isolated_user
from bench._lsp import BenchClient
from bench.lsp_diagnostics import github_token

APP = "def reconcile_ledger(entries):\n    return sum(entries)\n"


async def one_session(root: Path, text: str) -> float:
    client = BenchClient()
    t0 = time.perf_counter()
    await client.start(root)
    uri = client.open(root / "app.py", text)
    t1, diags = await client.published_at(uri, 1)
    assert len(diags) == 1, diags
    await client.stop()
    return (t1 - t0) * 1000


def process_ms(code: str, *args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True)
    return (time.perf_counter() - t0) * 1000


DETECTOR = """
import time
from pretense_dev.lsp.context import WorkspaceRepo
t = time.perf_counter()
WorkspaceRepo(None).scanner().scan_text("x = 1\\n", "app.py")
print((time.perf_counter() - t) * 1000)
"""
# The lean floor: a fresh process that imports the detector and scans the benched
# text (its secret included), and nothing of pygls or lsprotocol.
LEAN = """
import sys
from pretense_dev.lsp.context import WorkspaceRepo
assert WorkspaceRepo(None).scanner().scan_text(sys.argv[1], "app.py")
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    runs = ap.parse_args().runs
    from pretense_dev.lifecycle import init_repo

    with isolated_user() as base:
        root = base / "repo"
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        (root / "app.py").write_text(APP)
        init_repo(root)
        text = APP + "X = " + repr(github_token()) + "\n"
        sessions, bare, lean, lsproto, server, loop, detector = [], [], [], [], [], [], []
        for _ in range(runs):
            sessions.append(asyncio.run(one_session(root, text)))
            bare.append(process_ms("pass"))
            lean.append(process_ms(LEAN, text))
            lsproto.append(process_ms("import lsprotocol.types"))
            server.append(process_ms("import pretense_dev.lsp.server"))
            loop.append(process_ms("import pretense_dev.lsp.startup"))
            out = subprocess.run(
                [sys.executable, "-c", DETECTOR], check=True, capture_output=True, text=True
            )
            detector.append(float(out.stdout))
    med = statistics.median
    first, floor, interp = med(sessions), med(lean), med(bare)
    print(f"open → first diagnostics, fresh server: {first:.0f} ms (median of {runs}; goal 250 ms)")
    print(f"  floor: python -c pass: {interp:.0f} ms (the server takes {first / interp:.1f}x that)")
    print(
        f"  floor: detector alone, fresh process (import, set-up, scan): {floor:.0f} ms "
        f"(the server takes {first / floor:.2f}x that)"
    )
    print(
        "  import pretense_dev.lsp.startup (process, what the first answer needs): "
        f"{med(loop):.0f} ms"
    )
    print(f"  import lsprotocol.types (process, on a thread now): {med(lsproto):.0f} ms")
    print(f"  import pretense_dev.lsp.server (process, on a thread now): {med(server):.0f} ms")
    print(f"  detector set-up + first scan (in process): {med(detector):.0f} ms")


if __name__ == "__main__":
    main()
