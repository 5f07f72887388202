r"""What mutation costs in tokens: original vs mutated source, per language, per tokenizer.

For each corpus the bench copies HEAD into a fresh git repository, runs the
real indexer (`lifecycle.init_repo`, the user's HOME and keyring pointed
away), and tokenizes every indexed source file three ways with OpenAI's
o200k and cl100k encodings (`bench/_tokens.py`, offline):

* **orig**: the file as it is;
* **scheme 1**: mutated with the synthetics repositories initialised before
  scheme 2 keep (``fn_q7k2md``), the baseline;
* **scheme 2**: mutated with the map the indexer issued (``fn482``).

It prints the tokens of the original and the change with each scheme, side by
side; the goal is at most +3 %.  Usage::

    .venv/bin/python -m bench.tokens /work/.mirror/psf+requests/repo \
        /work/.mirror/sindresorhus+ky/repo ...

The README figures were taken on psf/requests (Python), expressjs/express
(JavaScript), sindresorhus/ky (TypeScript), spf13/cobra (Go), google/gson
(Java), jbogard/MediatR (C#), sinatra/sinatra (Ruby) and BurntSushi/ripgrep
(Rust), brought with the search tool's ``fetch`` or ``git clone --bare``.
Never commit fetched code.
"""

from __future__ import annotations

import argparse
import subprocess
from collections import defaultdict
from pathlib import Path

from bench._common import isolated_user
from bench._tokens import ENCODINGS, count
from bench.leak import copy_corpus, corpus_name


def measure(src: Path, work: Path) -> dict[str, list[int]]:
    """Per language: [files, then orig, scheme 1, scheme 2 for each encoding]."""
    from pretense_dev.identifiers.languages import GRAMMARS
    from pretense_dev.lifecycle import init_repo
    from pretense_dev.mutation import IdentifierMap, synthesize
    from pretense_dev.repo import Repo

    work.mkdir(parents=True)
    copy_corpus(src, work)
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    init_repo(work)
    repo = Repo(work)
    with repo.open_store() as store:
        assert store.synth_scheme() == 2
        m2 = store.load_map()
        issued = store.issued()
        files = {p: s.language for p, s in store.file_states().items()}
        taken = store.taken_tokens()
    forward1: dict[str, str] = {}
    for n in sorted(m2.forward):
        s = synthesize(repo.key, n, issued[n].kind, taken, 1)
        taken.add(s)
        forward1[n] = s
    m1 = IdentifierMap(forward1)
    rows: dict[str, list[int]] = defaultdict(lambda: [0] * (1 + 3 * len(ENCODINGS)))
    for rel, lang in sorted(files.items()):
        if lang not in GRAMMARS:
            continue
        data = (work / rel).read_bytes()
        texts = [t.decode("utf-8", "replace") for t in (data, m1.mutate(data), m2.mutate(data))]
        row = rows[lang]
        row[0] += 1
        for i, enc in enumerate(ENCODINGS):
            for j, text in enumerate(texts):
                row[1 + 3 * i + j] += count(enc, text)
    return dict(rows)


def pct(new: int, old: int) -> str:
    return f"{100 * (new - old) / old:+.1f}%" if old else "-"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="+", type=Path)
    args = ap.parse_args(argv)
    head = f"{'corpus':<24} {'language':<11} {'files':>5}"
    for enc in ENCODINGS:
        e = enc.split("_")[0]
        head += f" {e + ' orig':>12} {'scheme 1':>9} {'scheme 2':>9}"
    print(head)
    totals = [0] * (3 * len(ENCODINGS))
    worst = -100.0
    with isolated_user() as base:
        for k, src in enumerate(args.corpus):
            rows = measure(src, base / f"corpus{k}")
            for lang, row in sorted(rows.items(), key=lambda kv: -kv[1][1]):
                line = f"{corpus_name(src):<24} {lang:<11} {row[0]:>5}"
                for i in range(len(ENCODINGS)):
                    orig, one, two = row[1 + 3 * i : 4 + 3 * i]
                    line += f" {orig:>12,} {pct(one, orig):>9} {pct(two, orig):>9}"
                    worst = max(worst, 100 * (two - orig) / orig if orig else 0)
                for i, v in enumerate(row[1:]):
                    totals[i] += v
                print(line)
    line = f"{'all':<24} {'':<11} {'':>5}"
    for i in range(len(ENCODINGS)):
        orig, one, two = totals[3 * i : 3 * i + 3]
        line += f" {orig:>12,} {pct(one, orig):>9} {pct(two, orig):>9}"
    print(line)
    print(f"worst row with scheme 2: {worst:+.1f}% (goal: at most +3.0%)")
    return 0 if worst <= 3.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
