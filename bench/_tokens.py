"""OpenAI's o200k and cl100k tokenizers, offline, for the token-cost bench and tests.

The Python ``tiktoken`` package downloads its vocabulary files from the
internet on first use.  The npm package ``tiktoken`` (the same project's
JS/WASM build) ships them inside the package (``encoders/<name>.json``: the
split pattern, the special tokens and the byte-pair ranks), so this module
fetches that package once with ``npm pack`` (from the npm registry, into
``.venv/tiktoken-npm/``) and builds Python ``tiktoken.Encoding`` objects from
its files.  Nothing on the runtime path imports this.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

NPM_PACKAGE = "tiktoken@1.0.22"
ENCODINGS = ("o200k_base", "cl100k_base")
CACHE = Path(__file__).resolve().parent.parent / ".venv" / "tiktoken-npm"


def _encoders_dir() -> Path:
    """The npm package's ``encoders`` directory, fetched once.

    Test workers run in parallel (pytest-xdist) and may all find it missing:
    each packs and unpacks into a directory of its own and renames it into
    place, so none ever reads another's half-written file; a rename that
    finds the directory already there leaves the winner's copy.
    """
    out = CACHE / "package" / "encoders"
    if (out / f"{ENCODINGS[0]}.json").is_file():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    own = Path(tempfile.mkdtemp(prefix="fetch-", dir=CACHE))
    try:
        done = subprocess.run(
            ["npm", "pack", NPM_PACKAGE, "--pack-destination", str(own), "--silent"],
            capture_output=True,
            text=True,
            check=True,
        )
        with tarfile.open(own / done.stdout.strip().splitlines()[-1]) as tar:
            tar.extractall(own, filter="data")
        with contextlib.suppress(OSError):  # another worker's copy is in place
            (own / "package").rename(CACHE / "package")
    finally:
        shutil.rmtree(own, ignore_errors=True)
    return out


@functools.cache
def encoding(name: str) -> tiktoken.Encoding:
    """The tiktoken Encoding `name` (``o200k_base``, ``cl100k_base``), built offline."""
    import tiktoken

    data = json.loads((_encoders_dir() / f"{name}.json").read_text(encoding="utf-8"))
    ranks: dict[bytes, int] = {}
    # Each line: "<first token> <rank of the first> <base64 token> <base64 token>…".
    for line in data["bpe_ranks"].split("\n"):
        if not line:
            continue
        parts = line.split(" ")
        first = int(parts[1])
        for i, tok in enumerate(parts[2:]):
            ranks[base64.b64decode(tok)] = first + i
    return tiktoken.Encoding(
        name,
        pat_str=data["pat_str"],
        mergeable_ranks=ranks,
        special_tokens=data["special_tokens"],
    )


def count(name: str, text: str) -> int:
    """Tokens of `text` under encoding `name`, special-token text counted as plain text."""
    return len(encoding(name).encode_ordinary(text))
