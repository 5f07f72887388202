"""History mode (`scan --rev`, pre-push) on real git repositories built here.

The scan reads the lines each commit adds from one streamed `git log -p`; these
tests pin what that must still see: secrets added then removed, the commit and
the line in that commit's version, merges (a branch's commit, an evil merge),
renames, binary files and key stores, a commit larger than one scan piece,
PEM blocks, the baseline, and `pretense: allow` on an unchanged line above.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from pretense_dev.lifecycle import init_repo
from pretense_dev.secrets import history
from pretense_dev.secrets.detector import Detector
from pretense_dev.secrets.samples import STRUCTURED, generate
from pretense_dev.secrets.scan import Located, scan_range
from tests.conftest import git, run_cli, write

RNG = random.Random(1312)
KEY = bytes(range(32))


def token() -> str:
    return generate("gh" + "p_{b62:30}{ghcrc}", RNG)


def commit(repo: Path, files: dict[str, str], message: str = "c") -> str:
    write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def scan(repo: Path, *rev: str) -> list[tuple[str, str | None, int, int, str | None]]:
    found = scan_range(Detector(KEY), repo, list(rev)).found
    return sorted((loc.finding.rule, loc.finding.path, loc.finding.line,
                   loc.finding.end_line, loc.commit) for loc in found)  # fmt: skip


def lines(n: int, prefix: str = "x") -> str:
    return "".join(f"{prefix}{i} = {i}\n" for i in range(n))


def test_added_then_removed_is_reported_at_the_adding_commit_with_its_line(
    git_repo: Path,
) -> None:
    base = git(git_repo, "rev-parse", "HEAD").strip()
    first = commit(git_repo, {"app/conf.py": lines(30)})
    body = lines(30).splitlines(keepends=True)
    body[19] = f'GH = "{token()}"\n'
    added = commit(git_repo, {"app/conf.py": "".join(body)})
    removed = commit(git_repo, {"app/conf.py": lines(30)})
    assert scan(git_repo, f"{base}..HEAD") == [("github-pat", "app/conf.py", 20, 20, added)]
    # The range that starts after the secret left is clean; so is the work tree.
    assert scan(git_repo, f"{added}..HEAD") == []
    assert scan(git_repo, f"{first}..{removed}") == [("github-pat", "app/conf.py", 20, 20, added)]


def test_each_secret_once_at_the_oldest_commit_and_lines_in_later_versions(
    git_repo: Path,
) -> None:
    tok, tok2 = token(), token()
    a = commit(git_repo, {"a.py": f'A = "{tok}"\n'})
    # Moved down and re-added: the same secret in the same file is not new.
    commit(git_repo, {"a.py": lines(5) + f'A = "{tok}"\n'})
    # Two hunks far apart in one commit: each line number is the new version's.
    b = commit(git_repo, {"a.py": f'B = "{tok2}"\n' + lines(5) + f'A = "{tok}"\n' + lines(40)
                          + "z = 1\n" + f'C = "{token()}"\n'})  # fmt: skip
    assert scan(git_repo, "HEAD") == sorted(
        [("github-pat", "a.py", 1, 1, a), ("github-pat", "a.py", 1, 1, b),
         ("github-pat", "a.py", 49, 49, b)]
    )  # fmt: skip


def test_merges_credit_the_branch_commit_and_catch_an_evil_merge(git_repo: Path) -> None:
    base = commit(git_repo, {"m.py": "x = 1\n"})
    git(git_repo, "checkout", "-q", "-b", "topic")
    on_branch = commit(git_repo, {"t.py": f'T = "{token()}"\n'})
    git(git_repo, "checkout", "-q", "main")
    commit(git_repo, {"m.py": "x = 2\n"})
    git(git_repo, "merge", "-q", "--no-ff", "--no-commit", "topic")
    # The merge itself adds a line neither parent has.
    write(git_repo, {"m.py": f'x = 2\nM = "{token()}"\n'})
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "--no-verify", "-m", "merge")
    merge = git(git_repo, "rev-parse", "HEAD").strip()
    assert scan(git_repo, f"{base}..HEAD") == [
        ("github-pat", "m.py", 2, 2, merge),
        ("github-pat", "t.py", 1, 1, on_branch),
    ]
    # Only the merge in the range (the branch already pushed): the evil line alone.
    assert scan(git_repo, f"{merge}^1..{merge}", "--not", on_branch) == [
        ("github-pat", "m.py", 2, 2, merge)
    ]


def test_renames_add_no_lines_but_an_edit_in_a_rename_does(git_repo: Path) -> None:
    body = lines(20)
    added = commit(git_repo, {"old/name.py": f'K = "{token()}"\n' + body})
    (git_repo / "new").mkdir()
    git(git_repo, "mv", "old/name.py", "new/place.py")
    moved = commit(git_repo, {})
    assert scan(git_repo, f"{added}..{moved}") == []
    git(git_repo, "mv", "new/place.py", "new/other.py")
    edited = commit(git_repo, {"new/other.py": f'K = "{token()}"\n' + body})
    assert scan(git_repo, "HEAD") == [
        ("github-pat", "new/other.py", 1, 1, edited),
        ("github-pat", "old/name.py", 1, 1, added),
    ]


def test_binary_files_are_skipped_but_key_stores_are_scanned_whole(git_repo: Path) -> None:
    (git_repo / "blob.bin").write_bytes(b"\0\1\2" + f'GH = "{token()}"\n'.encode() + b"\0")
    (git_repo / "certs").mkdir()
    (git_repo / "certs" / "client.p12").write_bytes(b"0\x82\x01\x00\0" + os.urandom(300))
    sha = commit(git_repo, {"ok.txt": "fine\n"})
    assert scan(git_repo, "HEAD") == [("pkcs12-file", "certs/client.p12", 1, 1, sha)]


def test_odd_file_names_keep_their_path(git_repo: Path) -> None:
    names = ["sp ace/a b.py", "tab\there.py", 'q"uote.py', "ünï.py"]
    sha = commit(git_repo, {n: f'GH = "{token()}"\n' for n in names})
    assert sorted(str(p) for _, p, _, _, _ in scan(git_repo, "HEAD")) == sorted(names)
    assert {c for *_, c in scan(git_repo, "HEAD")} == {sha}


def test_a_pem_block_of_added_lines_is_one_finding(git_repo: Path) -> None:
    block = STRUCTURED["pem-rsa"](RNG)
    n = block.count("\n")
    where = "deploy/key.txt"
    sha = commit(git_repo, {where: lines(3) + block + lines(3, "y")})
    assert scan(git_repo, "HEAD") == [("private-key", where, 4, 3 + n, sha)]


@pytest.mark.parametrize("extra", [200, -20_000, -29_000])
def test_a_commit_larger_than_one_piece_is_read_in_pieces_with_context(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, extra: int
) -> None:
    block = STRUCTURED["pem-rsa"](RNG)
    n = block.count("\n")
    filler = lines(3000)  # ~30 KB
    text = filler + block + filler + f'GH = "{token()}"\n' + filler
    sha = commit(git_repo, {"big.txt": text})
    whole = scan(git_repo, "HEAD")
    assert whole == [
        ("github-pat", "big.txt", 6001 + n, 6001 + n, sha),
        ("private-key", "big.txt", 3001, 3000 + n, sha),
    ]
    # Pieces of 1 to 31 KB cut the PEM block: the carried lines keep it whole, once.
    monkeypatch.setattr(history, "CHUNK_BYTES", len(filler) + extra)
    assert scan(git_repo, "HEAD") == whole


def test_baseline_and_allow_on_an_unchanged_line_above(git_repo: Path) -> None:
    init_repo(git_repo, hooks=False)
    base = commit(git_repo, {".pretense/config.toml": (git_repo / ".pretense/config.toml")
                             .read_text()})  # fmt: skip
    commit(
        git_repo, {"a.py": f'GH = "{token()}"\n', "b.py": f"# pretense: allow\nGH = '{token()}'\n"}
    )
    # b.py: only the secret line changes; the allowance above it is context.
    commit(git_repo, {"b.py": f"# pretense: allow\nGH = '{token()}'\n"})
    r = run_cli("scan", "--rev", f"{base}..HEAD", "--format", "json", cwd=git_repo)
    assert r.code == 1
    assert [f["path"] for f in json.loads(r.out)["findings"]] == ["a.py"]
    assert run_cli("scan", "--update-baseline", cwd=git_repo).code == 0
    r = run_cli("scan", "--rev", f"{base}..HEAD", cwd=git_repo)
    assert (r.code, r.out) == (0, "")


def test_a_bad_range_is_one_line_and_exit_2(git_repo: Path) -> None:
    r = run_cli("scan", "--rev", "no-such-ref..HEAD", cwd=git_repo)
    assert r.code == 2
    assert r.err.startswith("pretense-dev: git log failed: ") and len(r.err.splitlines()) <= 2


def test_unquote_reads_git_c_quoting() -> None:
    assert history.unquote(b'"a\\tb\\"c\\\\d\\303\\274"') == 'a\tb"c\\dü'.encode()
    assert history.unquote(b"plain") == b"plain"


def test_located_carries_the_full_commit(git_repo: Path) -> None:
    sha = commit(git_repo, {"a.py": f'GH = "{token()}"\n'})
    (loc,) = scan_range(Detector(KEY), git_repo, ["HEAD"]).found
    assert isinstance(loc, Located) and loc.commit == sha and len(sha) == 40


def test_forked_workers_report_what_one_process_reports(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toks = [token() for _ in range(4)]
    commit(git_repo, {"a.py": f'A = "{toks[0]}"\n', "b.py": lines(10)})
    commit(git_repo, {"b.py": lines(10) + f'B = "{toks[1]}"\n' + f'A = "{toks[0]}"\n'})
    commit(git_repo, {"c.py": f'C = "{toks[2]}"\n', "a.py": "x = 1\n"})
    commit(git_repo, {"a.py": f'A = "{toks[0]}"\nD = "{toks[3]}"\n'})
    commit(git_repo, {"k.txt": STRUCTURED["pem-rsa"](RNG)})

    def run(workers: int) -> list[tuple[str, str | None, int, int, str]]:
        done = history.scan_history(Detector(KEY), git_repo, ["HEAD"], workers=workers)
        return sorted((f.rule, f.path, f.line, f.end_line, c) for f, c in done.found)

    alone = run(1)
    assert len(alone) == 6  # A twice: in a.py, then in b.py (another path)
    # Every file its own batch, several batches in flight at once.
    monkeypatch.setattr(history, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(history, "BATCH_FILES", 1)
    assert run(2) == alone
