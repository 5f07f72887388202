"""Every private key `ssh-keygen` and `openssl` write is found, generated here at run time.

Unencrypted OpenSSH bodies start with runs of `A` (zero-length cipher and KDF
fields); a placeholder filter that calls six equal characters "filler" used to
drop them.  A key whose body decodes to the structure its armor names is never
a placeholder, so each generated key must come back as exactly one finding of
the expected rule, at the line where the block starts.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from pretense_dev.secrets import Detector
from pretense_dev.secrets.samples import generate

KEY = bytes(range(32))

SSH_KEYGEN = shutil.which("ssh-keygen")
OPENSSL = shutil.which("openssl")

# (name, ssh-keygen arguments); `-m PEM`/`PKCS8` write the older formats.
SSH_KEYS = [
    ("ed25519", ["-t", "ed25519"]),
    ("rsa-3072", ["-t", "rsa", "-b", "3072"]),
    ("rsa-1024", ["-t", "rsa", "-b", "1024"]),
    ("ecdsa-256", ["-t", "ecdsa", "-b", "256"]),
    ("ecdsa-384", ["-t", "ecdsa", "-b", "384"]),
    ("ecdsa-521", ["-t", "ecdsa", "-b", "521"]),
    ("rsa-pem", ["-t", "rsa", "-b", "2048", "-m", "PEM"]),
    ("ecdsa-pem", ["-t", "ecdsa", "-m", "PEM"]),
    ("rsa-pkcs8", ["-t", "rsa", "-b", "2048", "-m", "PKCS8"]),
    ("ecdsa-pkcs8", ["-t", "ecdsa", "-m", "PKCS8"]),
    ("ed25519-encrypted", ["-t", "ed25519", "-N", "pass-{b62:12}"]),
    ("rsa-encrypted", ["-t", "rsa", "-b", "2048", "-N", "pass-{b62:12}"]),
    ("rsa-pem-encrypted", ["-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "pass-{b62:12}"]),
]

# (name, openssl arguments writing the key to stdout)
OPENSSL_KEYS = [
    ("genpkey-rsa", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
    ("genpkey-rsa-pss", ["genpkey", "-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"]),
    ("genpkey-ec-p256", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]),
    ("genpkey-ec-p384", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"]),
    (
        "genpkey-ec-secp256k1",
        ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"],
    ),
    ("genpkey-ed25519", ["genpkey", "-algorithm", "ED25519"]),
    ("genpkey-ed448", ["genpkey", "-algorithm", "ED448"]),
    ("genpkey-x25519", ["genpkey", "-algorithm", "X25519"]),
    ("genpkey-x448", ["genpkey", "-algorithm", "X448"]),
    ("genrsa-traditional", ["genrsa", "-traditional", "2048"]),
    ("ecparam-sec1", ["ecparam", "-name", "prime256v1", "-genkey", "-noout"]),
    (
        "genpkey-rsa-encrypted",
        ["genpkey", "-algorithm", "RSA", "-aes256", "-pass", "pass:pass-{b62:12}"],
    ),
    (
        "genrsa-traditional-encrypted",
        ["genrsa", "-traditional", "-aes128", "-passout", "pass:pass-{b62:12}", "2048"],
    ),
]


def _fill(args: list[str], rng: random.Random) -> list[str]:
    return [generate(a, rng) if "{" in a else a for a in args]


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(KEY)


def _ssh_key(tmp_path: Path, args: list[str]) -> str:
    assert SSH_KEYGEN is not None
    out = tmp_path / "id"
    if "-N" not in args:
        args = [*args, "-N", ""]
    p = subprocess.run(
        [SSH_KEYGEN, "-q", "-f", str(out), "-C", "", *args], capture_output=True, check=False
    )
    if p.returncode != 0:
        pytest.skip(f"ssh-keygen cannot write this key type here: {p.stderr.decode().strip()}")
    return out.read_text()


def _openssl_key(args: list[str]) -> str:
    assert OPENSSL is not None
    p = subprocess.run([OPENSSL, *args], capture_output=True, check=False)
    if p.returncode != 0:
        pytest.skip(f"openssl cannot write this key type here: {p.stderr.decode().strip()}")
    return p.stdout.decode()


def _expected_rule(text: str) -> str:
    return "openssh-private-key" if "OPENSSH PRIVATE KEY" in text else "private-key"


def _assert_found(detector: Detector, text: str) -> None:
    rule = _expected_rule(text)
    # As a key file, pasted after a line of code, and JSON-escaped in a config.
    padded = f"# deploy key\nkey = open('id').read()\n{text}"
    for data, path, line in (
        (text, "id_key", 1),
        (padded, "notes.txt", 3),
        (json.dumps({"key": text}) + "\n", "cfg.json", 1),
    ):
        found = detector.scan_text(data, path)
        assert [(f.rule, f.line) for f in found] == [(rule, line)], (path, found)
        assert found[0].confidence in ("high", "medium")


@pytest.mark.skipif(SSH_KEYGEN is None, reason="ssh-keygen is not installed")
@pytest.mark.parametrize(("name", "args"), SSH_KEYS, ids=[n for n, _ in SSH_KEYS])
def test_ssh_keygen_keys_are_found(
    detector: Detector, tmp_path: Path, name: str, args: list[str]
) -> None:
    text = _ssh_key(tmp_path, _fill(args, random.Random(name)))
    if "encrypted" not in name and "OPENSSH" in text:
        assert "AAAAAAAA" in text  # the shape that used to be called a placeholder
    _assert_found(detector, text)
    if "encrypted" not in name:
        assert detector.scan_text(text, "k.pem")[0].confidence == "high"  # structurally valid


@pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")
@pytest.mark.parametrize(("name", "args"), OPENSSL_KEYS, ids=[n for n, _ in OPENSSL_KEYS])
def test_openssl_keys_are_found(detector: Detector, name: str, args: list[str]) -> None:
    text = _openssl_key(_fill(args, random.Random(name)))
    assert "PRIVATE KEY-----" in text
    _assert_found(detector, text)
    if "encrypted" not in name:
        assert detector.scan_text(text, "k.pem")[0].confidence == "high"


def test_filler_keys_stay_quiet(detector: Detector) -> None:
    """A block of filler is still a placeholder: its body is not a key structure."""
    for body in ("A" * 200, "x" * 64 + "\n" + "x" * 64, "AAAAAAAAAAAAAAAAAAAAAAAA" + "B" * 80):
        for label in ("OPENSSH PRIVATE KEY", "RSA PRIVATE KEY", "PRIVATE KEY"):
            text = f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"
            assert detector.scan_text(text, "k.pem") == [], (label, body[:10])


def test_bearer_token_with_a_run_of_a_is_found(detector: Detector) -> None:
    """X (Twitter) app-only bearer tokens start with about twenty `A`s, then random text."""
    rng = random.Random(7)
    token = generate("{A*21}{b62:6}{A*7}{b62:1}%2B{b62:8}%2B{b62:10}%3D{b62:50}", rng)
    for text in (
        f'curl -H "Authorization: Bearer {token}" https://api.x.com/2/tweets\n',
        f"TWITTER_BEARER_TOKEN={token}\n",
    ):
        found = detector.scan_text(text, ".env" if "=" in text else None)
        assert [f.end_line for f in found] == [1], text
    # Filler after a prefix stays a placeholder.
    assert detector.scan_text("TWITTER_BEARER_TOKEN=" + "A" * 60 + "\n", ".env") == []


@pytest.mark.parametrize(
    ("template", "path", "rule"),
    [
        ("SLACK_TOKEN=xo" + "xa-2-{d:12}-{d:12}-{d:12}-{h:64}", ".env", "slack-token"),
        ("SLACK_TOKEN=xo" + "xr-{d:12}-{d:12}-{b62:24}", ".env", "slack-token"),
        ("API_TOKEN ::= {b62:30}", "Makefile", "generic-secret"),
        ("API_TOKEN :::= {b62:30}", "Makefile", "generic-secret"),
    ],
)
def test_newer_formats(detector: Detector, template: str, path: str, rule: str) -> None:
    text = generate(template, random.Random(template)) + "\n"
    assert [f.rule for f in detector.scan_text(text, path)] == [rule]
