"""Figure: the language server's memory with a 50,000-name map.

Builds a repository that defines 50,000 names (500 Python files × 100
functions), initialises it, starts `pretense-dev lsp`, opens a file, hovers
over a name, opens a 5,000-line unsaved buffer and types into it, and reads
the server's VmRSS / VmHWM from /proc.  Baseline in the same run: the same
steps in a repository with 10 names — the difference is what the map costs.

The server does not load the map into memory: hover, code actions and buffer
names use indexed point queries on `index.db`, so its size shows up only as
SQLite's page cache.

    .venv/bin/python -m bench.lsp_rss
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
from pathlib import Path

from bench._common import isolated_user
from bench._lsp import BenchClient, big_module, rss_kib


def make_repo(root: Path, files: int, per_file: int) -> None:
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for f in range(files):
        body = "".join(
            f"def settle_ledger_{f:03d}_{i:03d}(batch):\n    return batch\n\n\n"
            for i in range(per_file)
        )
        path = root / "pkg" / f"module_{f:03d}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(body)


async def measure(root: Path) -> dict[str, tuple[int, int]]:
    from lsprotocol import types

    client = BenchClient()
    await client.start(root)
    await client.status_after(0, "startup")
    out = {"started": rss_kib(client.pid)}
    target = root / "pkg" / "module_000.py"
    uri = client.open(target, target.read_text())
    await client.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=0, character=6),
        )
    )
    out["one file open, hover"] = rss_kib(client.pid)
    big = root / "pkg" / "big_unsaved.py"
    text = big_module(None)
    big_uri = client.open(big, text)
    for v in range(2, 12):
        client.change(big_uri, v, 10 * v, 0, 0, f"def typed_name_{v}():\n    pass\n")
    await client.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=big_uri),
            position=types.Position(line=20, character=6),
        )
    )
    out["+ 5,000-line buffer, 10 edits"] = rss_kib(client.pid)
    await client.stop()
    return out


def main() -> None:
    argparse.ArgumentParser().parse_args()
    from pretense_dev.lifecycle import init_repo
    from pretense_dev.repo import Repo

    results = {}
    with isolated_user() as base:
        for label, files, per_file in (("10 names", 1, 10), ("50,000 names", 500, 100)):
            root = base / label.replace(" ", "_").replace(",", "")
            make_repo(root, files, per_file)
            init_repo(root)
            with Repo(root).open_store() as store:
                count = store.active_count()
            results[label] = (count, asyncio.run(measure(root)))
    print(f"{'server RSS / peak (MiB)':34}" + "".join(f"{k:>24}" for k in results))
    steps = list(next(iter(results.values()))[1])
    for step in steps:
        row = f"{step:34}"
        for _, per in results.values():
            rss, hwm = per[step]
            row += f"{rss / 1024:>15.1f} / {hwm / 1024:>5.1f}"
        print(row)
    print("names protected: " + ", ".join(f"{k}: {c}" for k, (c, _) in results.items()))


if __name__ == "__main__":
    main()
