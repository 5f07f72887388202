"""Mutation speed: mutate / unmutate 1 MB of real code; streaming un-mutation.

The map is the whole stdlib's; streaming is measured at 16-byte chunks.

Baselines in the same run: the naive approach (one regex alternation of every
name, `re.sub` with a dict lookup) and our pure-Python reference (`re.split`
per token), which is what runs where the C kernel is not built.

    .venv/bin/python -m bench.mutation [--runs 5]
"""

from __future__ import annotations

import argparse
import re
import time

from bench._common import copy_stdlib, isolated_user, median_time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--naive-kb", type=int, default=64, help="naive baseline sample size (slow)")
    args = ap.parse_args()
    from pretense_dev.lifecycle import init_repo
    from pretense_dev.mutation import ESCAPE_PREFIX, KERNEL, _reference
    from pretense_dev.repo import Repo

    with isolated_user() as base:
        repo = base / "stdlib"
        copy_stdlib(repo)
        init_repo(repo)
        with Repo(repo).open_store() as store:
            m = store.load_map()
        files = sorted(repo.rglob("*.py"))
        text = ""
        for p in files[len(files) // 3 :]:
            text += p.read_text(encoding="utf-8", errors="replace")
            if len(text) >= 1_000_000:
                break
        text = text[:1_000_000]
        mb = len(text.encode()) / 1e6
        print(f"kernel: {KERNEL}; map: {len(m.forward)} names; text: {mb:.2f} MB of stdlib code")

        mutated = m.mutate(text)
        assert m.unmutate(mutated) == text
        t_mut = median_time(lambda: m.mutate(text), args.runs)
        t_unm = median_time(lambda: m.unmutate(mutated), args.runs)

        fwd_table = {s: ESCAPE_PREFIX + s for s in m.issued} | m.forward
        t_ref_mut = median_time(
            lambda: _reference.sub(text, fwd_table, ESCAPE_PREFIX, False, False, True), args.runs
        )
        t_ref_unm = median_time(
            lambda: _reference.sub(mutated, m.issued, ESCAPE_PREFIX, True, False, True), args.runs
        )

        t0 = time.perf_counter()
        names = sorted(m.forward, key=len, reverse=True)
        naive = re.compile(r"\b(?:" + "|".join(map(re.escape, names)) + r")\b")
        t_compile = time.perf_counter() - t0
        sample = text[: args.naive_kb * 1000]
        fwd = m.forward
        t_naive = median_time(lambda: naive.sub(lambda x: fwd[x.group()], sample), 1)
        naive_mbs = len(sample.encode()) / 1e6 / t_naive

        chunks = [mutated[i : i + 16] for i in range(0, len(mutated), 16)]

        def stream() -> str:
            su = m.stream_unmutator()
            feed = su.feed
            return "".join([feed(c) for c in chunks]) + su.flush()

        assert stream() == text
        t_stream = median_time(stream, args.runs)
        raw_chunks = [c.encode() for c in chunks]

        def stream_bytes() -> bytes:
            su = m.stream_unmutator_bytes(json=True)
            feed = su.feed
            return b"".join([feed(c) for c in raw_chunks]) + su.flush()

        t_stream_b = median_time(stream_bytes, args.runs)
        table = m._unmut

        def stream_wrapper() -> str:
            # The baseline: a Python feed around the kernel's whole-text `sub`, which
            # re-joins the held-back text itself (what `feed` did before the C stream).
            csub, sub = table.c_sub, table.sub
            assert csub is not None
            a = (table.prefix, table.strip, False, False)
            pending, out = "", []
            for c in chunks:
                if pending:
                    c = pending + c
                o, held = csub(c, *a)
                pending = c[len(c) - held :] if held else ""
                out.append(o)
            return "".join(out) + sub(pending, final=True)[0]

        assert stream_wrapper() == text
        t_stream_w = median_time(stream_wrapper, args.runs)

        print()
        print(
            f"{'figure (MB/s, median of ' + str(args.runs) + ')':<40}{'ours':>10}"
            f"{'py reference':>14}{'naive regex':>13}  goal"
        )
        row = "{:<40}{:>10.1f}{:>14}{:>13}  {}"
        print(
            row.format(
                "mutate 1 MB", mb / t_mut, f"{mb / t_ref_mut:.1f}", f"{naive_mbs:.3f}", "≥ 30"
            )
        )
        print(row.format("unmutate 1 MB", mb / t_unm, f"{mb / t_ref_unm:.1f}", "", "≥ 60"))
        print(
            row.format(
                "stream unmutate, 16-byte str chunks",
                mb / t_stream,
                f"wrapper {mb / t_stream_w:.1f}",
                "",
                "≥ 20",
            )
        )
        print(f"{'stream unmutate, 16-byte bytes, json':<40}{mb / t_stream_b:>10.1f}")
        print(
            f"(naive: one alternation of {len(names)} names, compiled in {t_compile:.1f} s, "
            f"run on {args.naive_kb} KB)"
        )


if __name__ == "__main__":
    main()
