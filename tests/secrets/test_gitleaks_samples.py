"""gitleaks' own rule samples as a table test: recall on its positives, quiet on its negatives.

The samples are rebuilt at run time from recipes (`gitleaks_samples.py`); the
extractor that writes the recipes (`scripts/extract_gitleaks_samples.py`) is
tested here on a small gitleaks-shaped repository.  The goal is on the raw
figures (every positive, every negative); the misses and the flagged negatives
are pinned per rule and sample, and a rule we deliberately disagree with names
the reason in rules.toml (`gitleaks_disagree`).
"""

from __future__ import annotations

import base64
import importlib.util
import random
import re
import string
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import pytest

from pretense_dev.secrets import Detector
from pretense_dev.secrets.rules import default_rules
from tests.conftest import REPO_ROOT
from tests.secrets.gitleaks_samples import DATA, Sample, from_regex, recipes, reveal, samples

KEY = bytes(range(32))
RECALL_GOAL = 0.98
# gitleaks 8.30.1 with its default config flags 30 of its own 374 negatives
# (another rule's positive, mostly): `python -m bench.secrets_samples` measures it.
GITLEAKS_FLAGGED_NEGATIVES = 30

# The positives we miss, per gitleaks rule: the samples' numbers among that
# rule's positives (`python -m bench.secrets_samples --show-misses` prints
# them).  Pinned, so that finding or losing one fails here and this table is
# changed on purpose.  The rules named in rules.toml's `gitleaks_disagree` say
# why we stay quiet; the others are misses we have not fixed.
MISSED = {
    "age-secret-key": list(range(26)),  # disagreed: Q-filled key
    "anthropic-api-key": [0],  # disagreed: typed by counting
    "aws-amazon-bedrock-api-key-long-lived": [0],  # disagreed: EXAMPLE filler
    "curl-auth-header": [1, 2],
    "curl-auth-user": [8],
    "gcp-service-account": [0],  # not in gitleaks' default config; rules.toml says why
    "generic-api-key": [54, 61, 62],
    "hashicorp-tf-password": [0],
    "jwt": [26, 27, 55],  # disagreed: header not JSON, or unsigned
    "jwt-base64": [140, 141, 142, 143, 220, 221, 222, 223],  # disagreed: header not JSON
    "kubernetes-secret-yaml": [1, 3, 4, 9, 11, 12, 13, 14, 15],  # disagreed: fixture values
    "pkcs12-file": [0, 1, 2],  # disagreed: empty files
    "sourcegraph-access-token": [1],
    "square-secret": [26],
}
# The negatives we flag, per gitleaks rule.  gitleaks flags 23 of these 26
# itself: the cloudflare ones are another cloudflare rule's positives, the
# meraki ones are 40 and 67 hex digits next to `meraki`.  Besides gitleaks:
# one more settlemint pair (random 16 characters assigned to a name ending in
# Token: a credential to the generic rule) and the Mailchimp key gitleaks' own
# file marks as a false negative of its pattern (rules.toml, above mailchimp).
FLAGGED = {
    "cisco-meraki-api-key": [1, 3],
    "cloudflare-api-key": [0, 1, 2, 3, 4],
    "cloudflare-global-api-key": [0, 1, 2, 3, 4],
    "cloudflare-origin-ca-key": [0, 1, 2, 3, 4, 5],
    "curl-auth-header": [8],
    "mailchimp-api-key": [0],
    "settlemint-application-access-token": [0, 1],
    "settlemint-personal-access-token": [0, 1],
    "settlemint-service-access-token": [0, 1],
}


@pytest.fixture(scope="module")
def results() -> list[tuple[Sample, bool]]:
    d = Detector(KEY)
    return [(s, bool(d.scan_text(s.text, s.path))) for s in samples()]


def disagreed() -> dict[str, str]:
    out: dict[str, str] = {}
    for r in default_rules():
        out.update(r.gitleaks_disagree)
    return out


def by_rule(items: list[Sample]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for s in items:
        out[s.rule].append(s.n)
    return dict(out)


def test_every_gitleaks_rule_has_samples_and_every_disagreement_a_rule() -> None:
    ids = {r["id"] for r in recipes()["rules"]}
    assert len(ids) >= 220
    assert set(disagreed()) <= ids


def test_recall_on_gitleaks_positives(results: list[tuple[Sample, bool]]) -> None:
    positives = [(s, f) for s, f in results if s.positive]
    assert len(positives) == 6450
    assert by_rule([s for s, f in positives if not f]) == MISSED
    recall = sum(f for _, f in positives) / len(positives)
    assert recall >= RECALL_GOAL  # raw: nothing left out
    assert round(recall, 4) == 0.9905
    # A disagreement stands only while we do miss that rule's positives.
    assert set(disagreed()) <= set(MISSED)


def test_negatives_flagged_no_more_often_than_gitleaks_flags_them(
    results: list[tuple[Sample, bool]],
) -> None:
    negatives = [s for s, f in results if not s.positive]
    assert len(negatives) == 374
    flagged = [s for s, f in results if not s.positive and f]
    assert by_rule(flagged) == FLAGGED
    assert len(flagged) == 26 <= GITLEAKS_FLAGGED_NEGATIVES


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_kubernetes_layouts_we_miss_are_found_with_a_real_value(
    results: list[tuple[Sample, bool]],
) -> None:
    """The Secret layouts of the missed samples are read; only their fixture values are quiet."""
    rng = random.Random(5)
    pw = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(14)) + "!q"
    auth = b64(f"bot:{pw}")
    real = {
        b64("admin:" + "password"): b64(f"deploy:{pw}"),
        b64("my" + "password"): b64(pw),
        b64('{"auths":{"https://example/v1/":{"auth":"opensesame"}}}\n'): b64(
            '{"auths":{"https://registry.internal/v1/":{"auth":"' + auth + '"}}}'
        ),
    }
    d = Detector(KEY)
    missed = [s for s, f in results if s.rule == "kubernetes-secret-yaml" and s.positive and not f]
    assert len(missed) == len(MISSED["kubernetes-secret-yaml"])
    for s in missed:
        text = s.text
        for fixture, value in real.items():
            text = text.replace(fixture, value)
        assert text != s.text, s.n
        assert d.scan_text(text, s.path) != [], s.n


def test_regex_generator_draws_full_matches() -> None:
    rng = random.Random(1)
    for rx in (
        r"ghp_[0-9a-zA-Z]{36}",
        r"(?i)[a-z0-9=_\-]{8,20}",
        r"xox[ar]-(?:\d-)?[0-9a-z]{8,48}",
        r"\{\"iat\":[\d\.]{3,6}\}",
        r"[^\s'\"]{5}\w+",
    ):
        for _ in range(20):
            assert re.fullmatch(rx, from_regex(rx, rng)), rx


def _extractor() -> ModuleType:
    path = REPO_ROOT / "scripts" / "extract_gitleaks_samples.py"
    spec = importlib.util.spec_from_file_location("extract_gitleaks_samples", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


GENERATE_GO = """package utils

func GenerateSampleSecrets(identifier string, secret string) []string {
	samples := map[string]string{
		"ini - quoted1": "{i}Token=\\"{s}\\"", // a comment
		"yaml":          `{i}_token: {s}`,
	}
	replacer := strings.NewReplacer("{i}", identifier, "{s}", secret)
	return nil
}
"""

RULE_GO = """package rules

var words = []string{"demo"}

func DemoToken() *config.Rule {
	r := config.Rule{
		RuleID:   "demo-token",
		Regex:    utils.GenerateUniqueTokenRegex(`dmo_[a-z0-9]{30}`, false),
		Keywords: []string{"dmo_"},
		Allowlists: []*config.Allowlist{{Paths: []*regexp.Regexp{regexp.MustCompile(`x`)}}},
	}
	tps := utils.GenerateSampleSecrets("demo", "dmo_"+secrets.NewSecret(utils.AlphaNumeric("30")))
	tps = append(tps,
		fmt.Sprintf("DEMO=%s", secrets.NewSecret(`dmo_[a-z]{30}`)),
		`raw `+"line",
	)
	fps := []string{
		"dmo_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	}
	return utils.Validate(r, tps, fps)
}

func DemoFile() *config.Rule {
	r := config.Rule{RuleID: "demo-file"}
	tps := map[string]string{"a/key.p12": ""}
	fps := map[string]string{"a/key.p126.html": ""}
	return utils.ValidateWithPaths(r, tps, fps)
}
"""


def test_extractor_on_a_gitleaks_shaped_repository(tmp_path: Path) -> None:
    repo = tmp_path / "gl"
    (repo / "cmd/generate/config/rules").mkdir(parents=True)
    (repo / "cmd/generate/config/utils").mkdir(parents=True)
    (repo / "cmd/generate/config/rules/demo.go").write_text(RULE_GO)
    (repo / "cmd/generate/config/utils/generate.go").write_text(GENERATE_GO)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    ex = _extractor()
    data = ex.extract(str(repo / ".git"), "HEAD")
    again = ex.extract(str(repo / ".git"), "HEAD")
    assert data == again  # reproducible
    assert [reveal(t) for t in data["templates"].values()] == ['{i}Token="{s}"', "{i}_token: {s}"]
    demo = next(r for r in data["rules"] if r["id"] == "demo-token")
    assert demo["positives"][0]["text"] == {
        "samples": ex.conceal("demo"),
        "secret": [["l", ex.conceal("dmo_")], ["g", "[a-z0-9]{30}"]],
    }
    assert demo["positives"][1]["text"] == [["l", ex.conceal("DEMO=")], ["g", "dmo_[a-z]{30}"]]
    assert demo["positives"][2]["text"] == [["l", ex.conceal("raw line")]]
    assert [reveal(n["text"][0][1]) for n in demo["negatives"]] == ["dmo_" + "x" * 30]
    files = next(r for r in data["rules"] if r["id"] == "demo-file")
    assert files["positives"] == [{"path": "a/key.p12", "text": []}]
    assert files["negatives"] == [{"path": "a/key.p126.html", "text": []}]


def test_recipes_file_is_clean_for_our_scanner() -> None:
    assert Detector(KEY).scan_bytes(DATA.read_bytes(), str(DATA.relative_to(REPO_ROOT))) == []
