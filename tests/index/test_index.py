"""The index against real git repositories: full, incremental, removal, config, schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pretense_dev.config import parse_config
from pretense_dev.index.indexer import run_index
from pretense_dev.index.store import MIGRATIONS, IndexStore
from pretense_dev.lifecycle import init_repo
from pretense_dev.mutation import synthesize
from pretense_dev.mutation.synth import SCHEME
from pretense_dev.repo import Repo
from pretense_dev.sqlite import schema
from tests.conftest import git, write

LEDGER = """\
SETTLEMENT_TOLERANCE_CENTS = 2

class LedgerReconciler:
    def reconcile_batch(self, refund_total_cents):
        drift_cents = refund_total_cents - 1
        return drift_cents
"""
TOKEN = re.compile(r"[A-Za-z0-9_]+")


def _init(repo: Path, files: dict[str, str]) -> Repo:
    write(repo, files)
    init_repo(repo, workers=1)
    return Repo(repo)


def _index(r: Repo, **kw: object) -> object:
    with r.open_store() as store:
        return run_index(r.root, store, r.config, r.key, **kw)  # type: ignore[arg-type]


def _map(r: Repo) -> dict[str, str]:
    with r.open_store() as store:
        return store.load_map().forward


def test_init_protects_defined_names(git_repo: Path) -> None:
    r = _init(git_repo, {"billing/ledger_reconciler.py": LEDGER})
    fwd = _map(r)
    for name in (
        "LedgerReconciler",
        "reconcile_batch",
        "refund_total_cents",
        "drift_cents",
        "SETTLEMENT_TOLERANCE_CENTS",
        "ledger_reconciler",
    ):
        assert name in fwd, name
    with r.open_store() as store:
        mutated = store.load_map().mutate(LEDGER)
    assert not set(TOKEN.findall(mutated)) & set(fwd)
    assert re.search(r"^class Cls\d{3}:$", mutated, re.M), mutated
    assert re.search(r"^CONST\d{3} = 2$", mutated, re.M), mutated
    assert re.search(r"def mt\d{3}\(self, arg\d{3}\):", mutated), mutated


def test_domain_words_are_protected_and_generic_code_words_are_not(git_repo: Path) -> None:
    src = "".join(
        f"def {n}(): pass\n"
        for n in ("refund", "diagnosis", "tariff", "clinic", "reactor", "wrapper", "redirect")
    )
    fwd = _map(_init(git_repo, {"app.py": src + "def f(param, meth, func, defaults): pass\n"}))
    assert {"refund", "diagnosis", "tariff", "clinic", "reactor"} <= set(fwd)
    assert not {"wrapper", "redirect", "param", "meth", "func", "defaults"} & set(fwd)


def test_new_store_uses_the_current_scheme_and_an_old_one_keeps_scheme_1(git_repo: Path) -> None:
    r = _init(git_repo, {"app.py": "def settlement_window(): pass\n"})
    with r.open_store() as store:
        assert store.synth_scheme() == SCHEME == 2
        assert store.meta("synth_scheme") == "2"
        syn = store.load_map().forward["settlement_window"]
    assert syn == synthesize(r.key, "settlement_window", "function", (), 2)
    # A store from before schemes were recorded: synthetics issued, no meta row.
    with r.open_store() as store:
        store.conn.execute("DELETE FROM meta WHERE key = 'synth_scheme'")
        store.conn.execute("UPDATE identifiers SET synthetic = ?", ("fn_q7k2md",))
        store.conn.commit()
    (git_repo / "app.py").write_text("def settlement_window(): pass\ndef payout_batch(): pass\n")
    _index(r)
    with r.open_store() as store:
        assert store.synth_scheme() == 1
        fwd = store.load_map().forward
    # The old synthetic is untouched and the new name gets a scheme-1 synthetic, so a
    # conversation resent after the upgrade mutates to the same bytes.
    assert fwd["settlement_window"] == "fn_q7k2md"
    assert fwd["payout_batch"] == synthesize(r.key, "payout_batch", "function", (), 1)
    assert re.fullmatch(r"fn_[0-9a-z]{6}", fwd["payout_batch"])


def test_incremental_reparses_only_changed_files(git_repo: Path) -> None:
    r = _init(git_repo, {"a/ledger.py": LEDGER, "b/other_module.py": "def payout_window(): pass\n"})
    report = _index(r)
    assert report.files_parsed == 0  # type: ignore[attr-defined]
    (git_repo / "b/other_module.py").write_text("def payout_window_days(): pass\n")
    report = _index(r)
    assert report.files_parsed == 1  # type: ignore[attr-defined]
    fwd = _map(r)
    assert "payout_window_days" in fwd and "payout_window" not in fwd


def test_same_content_new_mtime_is_not_reparsed(git_repo: Path) -> None:
    r = _init(git_repo, {"ledger.py": LEDGER})
    p = git_repo / "ledger.py"
    p.write_text(p.read_text())
    import os

    os.utime(p, ns=(1, 1))
    with r.open_store() as store:
        v = store.map_version()
    report = _index(r)
    assert report.files_parsed == 0  # type: ignore[attr-defined]
    with r.open_store() as store:
        assert store.map_version() == v
        assert store.file_states()["ledger.py"].mtime_ns == 1


def test_removed_name_leaves_map_only_when_undefined_everywhere(git_repo: Path) -> None:
    r = _init(
        git_repo,
        {
            "one.py": "def refund_window_days(): pass\n",
            "two.py": "def refund_window_days(): pass\n",
        },
    )
    syn = _map(r)["refund_window_days"]
    (git_repo / "one.py").write_text("x = 1\n")
    _index(r)
    assert _map(r)["refund_window_days"] == syn
    (git_repo / "two.py").unlink()
    _index(r)
    assert "refund_window_days" not in _map(r)
    with r.open_store() as store:
        m = store.load_map()
        # Still known coming back: the synthetic keeps its meaning.
        assert m.original(syn) == "refund_window_days"
    (git_repo / "three.py").write_text("def refund_window_days(): pass\n")
    _index(r)
    assert _map(r)["refund_window_days"] == syn  # a synthetic, once issued, never changes


def test_full_index_issues_the_same_synthetics(git_repo: Path) -> None:
    r = _init(git_repo, {"ledger.py": LEDGER})
    before = _map(r)
    report = _index(r, full=True)
    assert report.files_parsed == 1  # type: ignore[attr-defined]
    assert _map(r) == before


def test_gitignore_binary_huge_and_vendored_are_skipped(git_repo: Path) -> None:
    write(
        git_repo,
        {
            ".gitignore": "ignored/\n",
            "ignored/secret_module.py": "def hidden_function_name(): pass\n",
            "node_modules/lib/index.js": "function vendoredFunctionName() {}\n",
            "kept.py": "def kept_function_name(): pass\n",
        },
    )
    (git_repo / "blob.py").write_bytes(b"def binary_function_name(): pass\n\0\0")
    (git_repo / "huge.py").write_text("def huge_function_name(): pass\n" + "#" * 1_100_000)
    r = _init(git_repo, {})
    fwd = _map(r)
    assert "kept_function_name" in fwd
    for name in (
        "hidden_function_name",
        "vendoredFunctionName",
        "binary_function_name",
        "huge_function_name",
    ):
        assert name not in fwd, name
    with r.open_store() as store:
        assert set(store.file_states()) == {".gitignore", "kept.py"}


def test_config_exclude_and_never_and_min_length(git_repo: Path) -> None:
    write(
        git_repo,
        {
            "gen/output_module.py": "def generated_helper_name(): pass\n",
            "app.py": "def visible_helper_name(): pass\ndef abc(): pass\n",
            ".pretense/config.toml": (
                "version = 1\n[identifiers]\nnever = ['visible_helper_name']\n"
                "[index]\nexclude = ['gen/']\n"
            ),
        },
    )
    r = _init(git_repo, {})
    fwd = _map(r)
    assert "generated_helper_name" not in fwd
    assert "visible_helper_name" not in fwd
    assert "abc" not in fwd  # shorter than min_length 4


def test_config_change_recomputes_map(git_repo: Path) -> None:
    r = _init(git_repo, {"app.py": "def settlement_window(): pass\n"})
    assert "settlement_window" in _map(r)
    (git_repo / ".pretense/config.toml").write_text(
        "version = 1\n[identifiers]\nnever = ['settlement_window']\n"
    )
    r = Repo(git_repo)
    _index(r)
    assert "settlement_window" not in _map(r)


def test_always_list_covers_casings_and_hosts(git_repo: Path) -> None:
    write(
        git_repo,
        {
            ".pretense/config.toml": (
                "version = 1\n[identifiers]\n"
                "always = ['Initech', 'payments.zorbcorp-internal.net']\n"
            )
        },
    )
    r = _init(git_repo, {"x.py": "pass\n"})
    fwd = _map(r)
    for n in ("Initech", "initech", "INITECH", "zorbcorp", "Zorbcorp", "ZORBCORP"):
        assert n in fwd, n
    with r.open_store() as store:
        m = store.load_map()
    out = m.mutate("Ask INITECH at payments.zorbcorp-internal.net")
    assert "INITECH" not in out and "zorbcorp" not in out
    assert m.unmutate(out) == "Ask INITECH at payments.zorbcorp-internal.net"


def test_map_version_bumps_only_on_change(git_repo: Path) -> None:
    r = _init(git_repo, {"app.py": "def settlement_window(): pass\n"})
    with r.open_store() as store:
        v1 = store.map_version()
    _index(r)
    with r.open_store() as store:
        assert store.map_version() == v1
    (git_repo / "app.py").write_text("def settlement_window(): pass\ndef payout_cutoff(): pass\n")
    _index(r)
    with r.open_store() as store:
        assert store.map_version() == v1 + 1


def test_lookalike_tokens_are_never_issued(git_repo: Path) -> None:
    r = _init(git_repo, {"app.py": "def settlement_window(): pass\n"})
    syn = _map(r)["settlement_window"]
    # A new repo whose code already contains that exact token: the synthetic must differ.
    other = git_repo.parent / "other"
    other.mkdir()
    git(other, "init", "-q")
    write(other, {"app.py": f"def settlement_window(): pass\n{syn} = 1\n"})
    # Same key, so the same first candidate; the lookalike forces a longer one.
    (other / ".pretense").mkdir()
    (other / ".pretense/repo-id").write_text(r.repo_id + "\n")
    init_repo(other, workers=1)
    other_syn = _map(Repo(other))["settlement_window"]
    assert other_syn != syn and re.fullmatch(r"fn\d{3}", other_syn)


def test_parallel_full_index_matches_serial(git_repo: Path) -> None:
    files = {
        f"pkg{i}/module_{i}.py": f"def handler_number_{i}(arg_value_{i}): pass\n" for i in range(80)
    }
    write(git_repo, files)
    r = _init(git_repo, {})
    serial = _map(r)
    with r.open_store() as store:
        report = run_index(r.root, store, r.config, r.key, full=True, workers=2)
    assert report.files_parsed == 80
    assert _map(r) == serial


def test_only_paths_handle_deleted_files(git_repo: Path) -> None:
    r = _init(git_repo, {"app.py": "def settlement_window(): pass\n"})
    (git_repo / "app.py").unlink()
    report = _index(r, only=["app.py"])
    assert report.files_removed == 1  # type: ignore[attr-defined]
    assert "settlement_window" not in _map(r)


def test_schema_is_pinned(tmp_path: Path) -> None:
    with IndexStore(tmp_path / "index.db") as store:
        tables = {name for kind, name, _ in schema(store.conn) if kind == "table"}
        names = [row[0] for row in store.conn.execute("SELECT name FROM _migrations ORDER BY name")]
        mode = store.conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert {"files", "definitions", "identifiers", "lookalikes", "meta", "_migrations"} <= tables
    assert names == [name for name, _ in MIGRATIONS.steps]
    assert mode == "wal"


def test_reopening_applies_no_migration_twice(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    IndexStore(path).close()
    with IndexStore(path) as store:
        assert MIGRATIONS.apply(store.conn) == []


def test_default_config_parses() -> None:
    # An empty file is refused (no `version`): tests/data/config/invalid/empty.toml.
    cfg = parse_config("version = 1\n", "config.toml")
    assert cfg.identifiers.min_length == 4


@pytest.mark.parametrize(
    ("pattern", "path", "skipped"),
    [
        ("node_modules/", "a/node_modules/x.js", True),
        ("node_modules/", "node_modules_x/y.js", False),
        ("*.min.js", "web/app.min.js", True),
        ("*.min.js", "web/app.js", False),
        ("build", "build/out.py", True),
        ("build", "src/build.py", False),
        ("gen/", "gen/a.py", True),
        ("/gen/", "src/gen/a.py", False),
        ("src/gen/", "src/gen/a.py", True),
        ("docs/**/*.py", "docs/a/b/c.py", True),
        ("docs/**/*.py", "src/docs.py", False),
        ("*.g[oe]", "x/y.go", True),
        ("*.g[!o]", "x/y.go", False),
        ("Cargo.lock", "crates/x/Cargo.lock", True),
    ],
)
def test_path_filter(pattern: str, path: str, skipped: bool) -> None:
    from pretense_dev.worktree import PathFilter

    assert PathFilter([pattern])(path) is skipped


def test_kind_of_a_name_is_its_most_telling_definition(git_repo: Path) -> None:
    # "a.py" sorts first but only uses the name as a variable; the class wins the hint.
    r = _init(
        git_repo,
        {"a.py": "SettlementRecord = None\n", "b.py": "class SettlementRecord:\n    pass\n"},
    )
    assert re.fullmatch(r"Cls\d{3}", _map(r)["SettlementRecord"])
