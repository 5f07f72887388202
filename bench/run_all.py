"""Run every benchmark script in bench/ in turn (`make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    rc = 0
    for script in sorted(HERE.glob("*.py")):
        if script.name.startswith("_") or script.name == "run_all.py":
            continue
        print(f"\n### {script.name}", flush=True)
        rc |= subprocess.run(
            [sys.executable, "-m", f"bench.{script.stem}"], cwd=HERE.parent
        ).returncode
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
