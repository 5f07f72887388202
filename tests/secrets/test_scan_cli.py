"""`pretense-dev scan` end to end: exit codes, formats, ranges, baseline, config errors.

Also the property the whole part rests on: no secret value ever reaches an
output, a file or the index.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pretense_dev.lifecycle import init_repo
from pretense_dev.secrets import report
from pretense_dev.secrets.model import redact
from pretense_dev.secrets.rules import default_rules
from pretense_dev.secrets.run import run_scan
from pretense_dev.secrets.samples import generate
from tests.conftest import git, run_cli, write

RNG = random.Random(7)


def token() -> str:
    return generate("gh" + "p_{b62:30}{ghcrc}", RNG)


@pytest.fixture
def repo(git_repo: Path) -> Path:
    init_repo(git_repo, hooks=False)
    return git_repo


def test_exit_codes_and_text_output(repo: Path) -> None:
    r = run_cli("scan", cwd=repo)
    assert (r.code, r.out) == (0, "")
    tok = token()
    write(repo, {"src/app/conf.py": f'GH = "{tok}"\n'})
    r = run_cli("scan", cwd=repo / "src")
    assert r.code == 1
    assert r.out.startswith("src/app/conf.py:1: github-pat (high) ghp_…(40) fingerprint ")
    assert "pretense: allow" in r.err and "--update-baseline" in r.err
    assert tok not in r.out + r.err
    r = run_cli("scan", "no/such/dir", cwd=repo)
    assert r.code == 2 and "no/such/dir: no such file or directory" in r.err
    r = run_cli("scan", "--staged", "--rev", "HEAD", cwd=repo)
    assert r.code == 2 and "cannot be combined" in r.err


def test_a_file_name_cannot_forge_text_output_lines(repo: Path) -> None:
    tok = token()
    forged = "x.py:1: github-pat (high) ghp_…(40) fingerprint 000000000000"
    name = f"evil\n{forged}.py"
    write(repo, {name: f'GH = "{tok}"\n'})
    r = run_cli("scan", cwd=repo)
    assert r.code == 1
    lines = r.out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(json.dumps(name, ensure_ascii=False) + ":1: github-pat (high) ")
    assert tok not in r.out + r.err


def test_json_and_sarif(repo: Path) -> None:
    tok = token()
    write(repo, {"a.py": f'\n\nGH = "{tok}"\n'})
    r = run_cli("scan", "--format", "json", cwd=repo)
    assert r.code == 1
    (f,) = json.loads(r.out)["findings"]
    assert set(f) == {"path", "line", "end_line", "rule", "fingerprint", "redacted", "confidence"}
    assert (f["path"], f["line"], f["end_line"], f["rule"]) == ("a.py", 3, 3, "github-pat")
    r = run_cli("scan", "--format", "sarif", cwd=repo)
    doc = json.loads(r.out)
    assert doc["version"] == "2.1.0"
    (res,) = doc["runs"][0]["results"]
    assert res["ruleId"] == "github-pat"
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert res["partialFingerprints"]["pretenseFingerprint/v1"] == f["fingerprint"]
    assert tok not in r.out


def test_rev_range_reports_the_introducing_commit(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    tok = token()
    write(repo, {"a.py": f'GH = "{tok}"\n'})
    git(repo, "add", "a.py")
    git(repo, "commit", "-q", "--no-verify", "-m", "add")
    sha = git(repo, "rev-parse", "HEAD").strip()
    write(repo, {"a.py": "GH = None\n", "b.py": "x = 1\n"})
    git(repo, "add", "a.py", "b.py")
    git(repo, "commit", "-q", "--no-verify", "-m", "fix")
    r = run_cli("scan", "--rev", f"{base}..HEAD", "--format", "json", cwd=repo)
    assert r.code == 1
    (f,) = json.loads(r.out)["findings"]
    assert (f["path"], f["commit"]) == ("a.py", sha)
    # A range without the commit is clean; the work tree is clean too.
    assert run_cli("scan", "--rev", f"{sha}..HEAD", cwd=repo).code == 0
    assert run_cli("scan", cwd=repo).code == 0


def test_update_baseline_accepts_current_findings_only(repo: Path) -> None:
    write(repo, {"a.py": f'GH = "{token()}"\n'})
    r = run_cli("scan", "--update-baseline", cwd=repo)
    assert r.code == 0 and "accepted 1 finding(s)" in r.err
    baseline = (repo / ".pretense" / "baseline.json").read_text()
    assert "ghp_" not in baseline and json.loads(baseline)["findings"][0]["path"] == "a.py"
    assert run_cli("scan", cwd=repo).code == 0
    assert run_cli("scan", "--no-baseline", cwd=repo).code == 1
    write(repo, {"b.py": f'GH = "{token()}"\n'})
    r = run_cli("scan", "--format", "json", cwd=repo)
    assert [f["path"] for f in json.loads(r.out)["findings"]] == ["b.py"]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("allow_regexes = ['(unclosed']", "secrets.allow_regexes: '(unclosed' is not a valid"),
        ("disabled_rules = ['github-pta']", "did you mean 'github-pat'?"),
        ("baseline = '/etc/baseline.json'", "must be a path inside the repository"),
        ("baseline = '../x.json'", "must be a path inside the repository"),
        ("allow_path = []", "unknown key 'secrets.allow_path' (did you mean 'allow_paths'?)"),
    ],
)
def test_bad_secrets_config_is_refused_with_file_and_line(
    repo: Path, section: str, message: str
) -> None:
    cfg = repo / ".pretense" / "config.toml"
    cfg.write_text(f"version = 1\n\n[secrets]\n{section}\n")
    r = run_cli("scan", cwd=repo)
    assert r.code == 2
    assert r.err.startswith(f"pretense-dev: {cfg}:4: ") and message in r.err


def test_corrupt_baseline_is_an_error_not_an_empty_baseline(repo: Path) -> None:
    (repo / ".pretense" / "baseline.json").write_text("{not json")
    r = run_cli("scan", cwd=repo)
    assert r.code == 2 and "baseline.json: not a readable baseline" in r.err


def test_hook_path_imports_nothing_heavy(repo: Path) -> None:
    write(repo, {"a.py": "x = 1\n"})
    git(repo, "add", "a.py")
    code = (
        "import sys\n"
        "from pretense_dev.cli import main\n"
        "rc = main(['scan', '--staged'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tree_sitter', 'aiohttp', 'textual', 'keyring', 'yaml'))\n"
        "print(rc, heavy)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True)
    assert p.stdout.strip() == "0 []", p.stderr


SAMPLED = [r for r in default_rules() if r.sample and r.family != "private-key"]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rule_index=st.integers(0, len(SAMPLED) - 1),
    seed=st.integers(0, 2**32),
    before=st.text(st.characters(blacklist_categories=["Cs"]), max_size=40),
)
def test_no_secret_value_in_any_output_or_file(
    repo: Path, rule_index: int, seed: int, before: str
) -> None:
    rule = SAMPLED[rule_index]
    assert rule.sample is not None
    value = generate(rule.sample, random.Random(seed))
    name = rule.sample_key or "value"
    write(repo, {rule.sample_path or "conf/settings.env": f"{before}\n{name}={value}\n"})
    outcome = run_scan(root=repo)
    found = outcome.result.found
    outputs = [report.text(found), report.as_json(found), report.sarif(found, "0")]
    outputs += [repr(loc.finding) for loc in found]
    for out in outputs:
        assert value not in out
    from pretense_dev.index.indexer import run_index
    from pretense_dev.repo import Repo

    r = Repo(repo)
    with r.open_store() as store:
        run_index(repo, store, r.config, r.key)
    for p in (repo / ".pretense").iterdir():
        if p.is_file():
            assert value.encode() not in p.read_bytes(), p.name


@given(st.binary(min_size=0, max_size=200))
def test_redaction_shows_at_most_four_characters(value: bytes) -> None:
    shown = redact(value)
    head = shown.split("…", 1)[0]
    assert len(head) <= 4
    text = value.decode("utf-8", "replace")
    if len(text) < 12:
        assert head == ""
