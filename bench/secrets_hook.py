"""Hook wall time for a one-file commit (goal: ≤ 150 ms median, Python start-up included).

Usage:  python bench/secrets_hook.py [--runs N]

In a temp repository initialised by `pretense-dev init` (key in the 0600 file),
with one small staged file, medians of:

* `python -c pass` and `python -S -c pass`: the interpreter floor;
* `pretense-dev scan --staged FILE`: the hook's process under pre-commit;
* `python -m pretense_dev.secrets.hook staged`: what init's plain git hook runs
  (no click; also refuses the store and key files);
* `pretense-dev guard-store FILE`: the store guard;
* `git commit` with init's plain git hook, and `git commit --no-verify`: the
  difference is what a developer waits for;
* `git commit` through the pre-commit framework (init's `repo: local` block);
* gitleaks `git --staged`, for comparison, when available.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._secrets_common import gitleaks_binary


def sh(repo: Path, *args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(args, cwd=repo, env=env, capture_output=True, check=False)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=21)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="secrets-hook-bench-") as tmp:
        home = Path(tmp) / "home"
        env = {
            **os.environ,
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b.invalid",
            "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b.invalid",
            "PRE_COMMIT_HOME": str(Path(tmp) / "pc"),
            "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
        }  # fmt: skip
        repo = Path(tmp) / "repo"
        repo.mkdir()
        py = sys.executable
        sh(repo, "git", "init", "-q", "-b", "main", env=env)
        (repo / "app.py").write_text("def main() -> int:\n    return 0\n" * 20)
        sh(repo, "git", "add", "app.py", env=env)
        sh(repo, "git", "commit", "-q", "--no-verify", "-m", "init", env=env)
        sh(repo, py, "-m", "pretense_dev", "init", "--no-tools", env=env)
        counter = [0]

        def stage() -> None:
            counter[0] += 1
            (repo / "app.py").write_text(f"VALUE = {counter[0]}\n" + "x = 1\n" * 40)
            sh(repo, "git", "add", "app.py", env=env)

        def timed(*cmd: str, prepare: bool = False) -> tuple[float, float]:
            """Median wall time and median CPU time (user + system) of `cmd`."""
            walls, cpus = [], []
            stage()
            for _ in range(args.runs):
                if prepare:  # a fresh change staged before each run, outside the timing
                    stage()
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t = time.perf_counter()
                subprocess.run(cmd, cwd=repo, env=env, capture_output=True, check=False)
                walls.append(time.perf_counter() - t)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            return statistics.median(walls), statistics.median(cpus)

        hook_mod = "pretense_dev.secrets.hook"
        cli = (py, "-m", "pretense_dev")
        commit = ("git", "commit", "-q", "-m", "x")
        rows: list[tuple[str, tuple[float, float]]] = [
            ("python -S -c pass", timed(py, "-S", "-c", "pass")),
            ("python -c pass", timed(py, "-c", "pass")),
            ("pretense-dev scan --staged app.py", timed(*cli, "scan", "--staged", "app.py")),
            (f"python -m {hook_mod} staged", timed(py, "-m", hook_mod, "staged")),
            ("pretense-dev guard-store app.py", timed(*cli, "guard-store", "app.py")),
            ("git commit --no-verify", timed(*commit, "--no-verify", prepare=True)),
            ("git commit (init's git hook)", timed(*commit, prepare=True)),
        ]
        gl = gitleaks_binary()
        if gl:
            gl_cmd = (gl, "git", "--staged", "--no-banner", "-l", "error")
            rows.append(("gitleaks git --staged", timed(*gl_cmd)))
        # The pre-commit framework path: init's `repo: local` block.
        from pretense_dev.integrations import git_hooks

        hooks = repo / ".git" / "hooks"
        for h in ("pre-commit", "pre-push"):
            (hooks / h).unlink(missing_ok=True)
        (repo / ".pre-commit-config.yaml").write_text(git_hooks.insert_block("repos:\n"))
        sh(repo, "git", "add", ".pre-commit-config.yaml", env=env)
        sh(repo, "pre-commit", "install", env=env)
        rows.append(("git commit (pre-commit framework)", timed(*commit, prepare=True)))
        load = os.getloadavg()[0]
        print(
            f"{'':<44}{'wall':>8}{'cpu':>8}   "
            f"(medians of {args.runs}; load {load:.1f} on {os.cpu_count()} cores)"
        )
        for name, (wall, cpu) in rows:
            print(f"{name:<44}{wall * 1000:>6.0f} ms{cpu * 1000:>6.0f} ms")
        base = dict(rows)
        hook = base["git commit (init's git hook)"][0] - base["git commit --no-verify"][0]
        print(f"{'hook cost in git commit (wall)':<44}{hook * 1000:>6.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
