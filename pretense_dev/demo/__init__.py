"""`make demo`: the whole product on a bundled sample repository, no API key needed.

The sample (`sample/`) is a small fictional billing product in seven languages.
The demo copies it into a temp git repository and runs the real commands on it,
with HOME-level state (registry, key file) in the same temp dir, so it leaves
nothing behind in the user's keyring or data dirs.  Each step is a function
taking the `DemoContext`; later parts add theirs to `STEPS`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from pretense_dev.demo.console import DemoContext, count, heading, out, side_by_side
from pretense_dev.errors import EXIT_FAILURE, EXIT_OK


def _copy_sample(dest: Path) -> None:
    src = resources.files("pretense_dev.demo").joinpath("sample")
    with resources.as_file(src) as sample:
        shutil.copytree(sample, dest, ignore=shutil.ignore_patterns("__pycache__"))


def _git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Demo",
        "GIT_AUTHOR_EMAIL": "demo@example.invalid",
        "GIT_COMMITTER_NAME": "Demo",
        "GIT_COMMITTER_EMAIL": "demo@example.invalid",
    }
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def _isolate(base: Path) -> None:
    """Keep the demo's key and registry in the temp dir, not the user's."""
    home = base / "home"
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        os.environ[var] = str(home / sub)
    os.environ["HOME"] = str(home)
    # No OS keyring for a throwaway repo: the key goes to a 0600 file in the temp dir.
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"


def step_init(ctx: DemoContext) -> bool:
    """`pretense-dev init` on the sample."""
    from pretense_dev.lifecycle import init_repo

    heading("pretense-dev init")
    report = init_repo(ctx.repo, workers=1)
    idx = report.index
    assert idx is not None
    langs = ", ".join(f"{lang} {n}" for lang, n in sorted(idx.languages.items()))
    out(f"indexed {idx.files_seen} files ({langs})")
    out(f"{idx.names_protected} names protected, in {report.seconds:.2f} s")
    return True


def step_mutation(ctx: DemoContext) -> bool:
    """Each file as the developer has it and as the vendor would see it; the round trip."""
    from pretense_dev.repo import Repo

    repo = Repo(ctx.repo)
    with repo.open_store() as store:
        mapping = store.load_map()
    ok = True
    files = sorted(p for p in ctx.repo.rglob("*") if p.is_file() and ".git" not in p.parts)
    for path in files:
        rel = path.relative_to(ctx.repo).as_posix()
        if rel.startswith(".pretense/"):
            continue
        text = path.read_text(encoding="utf-8")
        mutated = mapping.mutate(text)
        heading(f"{rel}  →  {mapping.mutate(rel)}")
        side_by_side(text, mutated, ctx.width, ("on your machine", "what the AI vendor sees"))
        back = mapping.unmutate(mutated)
        if back != text:
            ok = False
            out(f"ROUND TRIP FAILED for {rel}")
    heading("round trip")
    out(
        "every file: unmutate(mutate(file)) == file, byte for byte"
        if ok
        else "ROUND TRIP FAILED (see above)"
    )
    return ok


def step_audit(ctx: DemoContext) -> bool:
    """The audit log on simulated events: verify, evidence, and tampering caught.

    Uses its own log file in the demo's temp dir, so the real events the
    proxy step records stay separate from these simulated ones.
    """
    import sqlite3
    import time

    from pretense_dev.audit import chain
    from pretense_dev.audit.evidence import build_evidence
    from pretense_dev.audit.sample import START, sample_events
    from pretense_dev.audit.store import AuditStore

    heading("audit log (simulated events)")
    db = ctx.base / "audit-simulated.db"
    with AuditStore(db) as store:
        store.append_many(sample_events(12))
        result = store.verify()
        doc = build_evidence(store, since=START - 86400, until=time.time())
    head = result.head
    out(f"{result.rows} events from 12 simulated sessions, hash-chained in {db.name}")
    out(f"pretense-dev audit verify → intact; head {head}")
    cov = doc["coverage"]
    req = cov["requests"]
    out(
        f"evidence: {cov['sessions']} sessions, {req['forwarded']} requests forwarded, "
        f"{req['forwarded_protected']} protected, {req['forwarded_unprotected']} unprotected, "
        f"{cov['secrets']['blocked']} secrets blocked, {count(cov['drift_events'], 'drift event')}"
    )
    for c in doc["controls"]:
        why = ", ".join(f"{k} = {v}" for k, v in c["exceptions"].items())
        out(f"  {c['id']}: {c['status']}" + (f" ({why})" if why else ""))

    heading("tampering with a copy of the log")
    copy = ctx.base / "audit-tampered.db"
    with sqlite3.connect(db) as conn:
        conn.execute("VACUUM INTO ?", (str(copy),))
    conn.close()
    raw = sqlite3.connect(copy, isolation_level=None)
    raw.execute("DELETE FROM events WHERE seq = 7")
    raw.execute("UPDATE events SET data = replace(data, '\"dana\"', '\"eve\"') WHERE seq = 20")
    raw.execute("DELETE FROM events WHERE seq > ?", (result.rows - 3,))
    raw.close()
    out("deleted row 7, edited row 20, removed the last 3 rows")
    with AuditStore.open_readonly(copy) as store:
        tampered = store.verify(anchors=[head] if head else [])
    for p in tampered.problems:
        out(f"  {p}")
    kinds = [p.kind for p in tampered.problems]
    ok = result.ok and kinds == [chain.MISSING, chain.ALTERED, chain.TRUNCATED]
    out("verify caught every change" if ok else "VERIFY DID NOT CATCH THE CHANGES")
    return ok


def _step_secrets(ctx: DemoContext) -> bool:
    from pretense_dev.demo.secrets_step import step_secrets

    return step_secrets(ctx)


def step_proxy(ctx: DemoContext) -> bool:
    """The proxy with the official SDKs: what the vendor received beside what you saw."""
    from pretense_dev.demo.proxy_step import run  # deferred: aiohttp and the SDKs

    return run(ctx)


def step_tools(ctx: DemoContext) -> bool:
    """Claude Code, Cursor and Copilot set up, two hook decisions, and uninstall."""
    from pretense_dev.demo.tools_step import run

    return run(ctx)


def step_editor(ctx: DemoContext) -> bool:
    """The language server on an unsaved buffer, and the watcher on a generated file."""
    from pretense_dev.demo.editor_step import run  # deferred: pygls and watchdog

    return run(ctx)


STEPS: list[Callable[[DemoContext], bool]] = [
    step_init,
    step_mutation,
    _step_secrets,
    step_proxy,
    step_tools,
    step_audit,
    step_editor,
]


def run_demo(*, keep: bool = False) -> int:
    """Run every step; exit 1 if one fails."""
    base = Path(tempfile.mkdtemp(prefix="pretense-demo-"))
    try:
        _isolate(base)
        repo = base / "nimbus-billing"
        _copy_sample(repo)
        _git(repo, "init", "-q")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "sample")
        width = shutil.get_terminal_size((160, 40)).columns
        ctx = DemoContext(base, repo, width)
        out(f"pretense-dev demo — sample repository copied to {repo}")
        for step in STEPS:
            if not step(ctx):
                return EXIT_FAILURE
        return EXIT_OK
    finally:
        if keep:
            out(f"\nkept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
