"""Formats a security team finds missing in an hour: each found, and a look-alike left alone.

Every secret is built here at run time from parts (a prefix, random characters
of its alphabet, its checksum); no test holds a secret-shaped literal.
"""

from __future__ import annotations

import base64
import json
import random
import string
import zlib

import pytest

from pretense_dev.secrets import Detector
from pretense_dev.secrets.checks import base62
from pretense_dev.secrets.samples import STRUCTURED

KEY = bytes(range(32))
RNG = random.Random(13)
B62 = string.ascii_letters + string.digits
URLSAFE = B62 + "-_"
HEX = "0123456789abcdef"


def rand(alphabet: str, n: int) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def uuid4() -> str:
    return STRUCTURED["uuid"](RNG)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt(header: dict[str, str] | None = None) -> str:
    head = b64url(json.dumps(header or {"alg": "RS256", "typ": "JWT"}).encode())
    claims = {"iss": rand(B62, 12), "exp": RNG.randrange(10**9, 2 * 10**9)}
    body = b64url(json.dumps(claims).encode())
    return f"{head}.{body}.{b64url(RNG.randbytes(64))}"


def with_crc(prefix: str, body: str) -> str:
    """A token ending in the base62 CRC32 of its body (GitHub's and Vercel's scheme)."""
    return prefix + body + base62(zlib.crc32(body.encode()), 6).decode()


@pytest.fixture(scope="module")
def det() -> Detector:
    return Detector(KEY)


def rules(det: Detector, text: str, path: str | None = None) -> list[str]:
    return [f.rule for f in det.scan_text(text, path)]


def found(det: Detector, text: str, path: str | None = None) -> bool:
    return bool(det.scan_text(text, path))


# -- each format: (name, text holding a secret, path, a look-alike that holds none) --


def cases() -> list[tuple[str, str, str | None, str]]:
    vercel = with_crc("vc" + "p_", rand(URLSAFE, 50))
    cf_user = "cf" + "ut_" + rand(B62, 40) + rand(B62, 8)
    cf_key = "cf" + "k_" + rand(B62, 40) + rand(B62, 8)
    ghs = "gh" + "s_" + jwt()
    eth = "0x" + rand(HEX, 64)
    user_pw = rand(B62, 10) + "!" + rand(B62, 6)
    # Jenkins' hudson.util.Secret: version 1, IV length 16, then IV and ciphertext, base64.
    jenkins = "AQAAABAAAAAQ" + base64.b64encode(RNG.randbytes(48)).decode()
    return [
        (
            "vercel",
            f'VERCEL_TOKEN="{vercel}"\n',
            ".env",
            'VERCEL_TOKEN="vc' + "p_" + "x" * 56 + '"\n',
        ),
        (
            "vercel legacy",
            f"vercel_token = {rand(B62, 24)}\n",
            "settings.ini",
            "vercel_project_name = my-vercel-app-production\n",
        ),
        ("cloudflare cfut_", f"api_token: {cf_user}\n", "wrangler.yaml", "cf" + "ut_" + "X" * 48),
        ("cloudflare cfk_", f'CF_KEY = "{cf_key}"\n', "deploy.py", "cf" + "k_" + "<your key>"),
        ("github ghs_ JWT", f"Authorization: token {ghs}\n", None, "gh" + "s_" + "x" * 40),
        (
            "hubspot uuid",
            f'HUBSPOT_API_KEY = "{uuid4()}"\n',
            "config.py",
            f'HUBSPOT_PORTAL_FORM_ID = "{uuid4()}"\n',
        ),
        (
            "heroku uuid",
            f"HEROKU_API_KEY={uuid4()}\n",
            ".env",
            f"HEROKU_APP_ID={uuid4()}\n",
        ),
        (
            "base64 JWT",
            f'auth_blob = "{base64.b64encode(jwt().encode()).decode()}"\n',
            "app.js",
            f'logo = "{base64.b64encode(RNG.randbytes(120)).decode()}"\n',
        ),
        (
            "base64 JWT without alg",
            base64.b64encode(jwt({"kid": rand(B62, 10), "typ": "JWT"}).encode()).decode(),
            None,
            base64.b64encode(("ey" + rand(B62, 30) + "." + rand(B62, 30)).encode()).decode(),
        ),
        (
            "ethereum private key",
            f"DEPLOYER_PRIVATE_KEY={eth}\n",
            ".env",
            f"CONTRACT_ADDRESS=0x{rand(HEX, 40)}\nTX_HASH=0x{rand(HEX, 64)}\n",
        ),
        (
            "ethereum private key in JS",
            f'const privateKey = "{eth[2:]}";\n',
            "hardhat.config.js",
            f'const blockHash = "{eth[2:]}";\n',
        ),
        (
            "curl -H Authorization",
            f"curl -H 'Authorization: {rand(B62, 32)}' https://api.example.net/v1/items\n",
            "deploy.sh",
            "curl -H 'Authorization: Bearer $API_TOKEN' https://api.example.net/v1/items\n",
        ),
        (
            "curl -H on a continuation line",
            f'curl -X GET https://api.example.net/ \\\n  -H "X-Api-Key: {uuid4()}"\n',
            "README.md",
            'curl -X GET https://api.example.net/ \\\n  -H "Accept: application/json"\n',
        ),
        (
            "curl --user",
            f"curl --user deploy:{user_pw} https://ci.example.net/job\n",
            "run.sh",
            "curl --user deploy:$DEPLOY_PASSWORD https://ci.example.net/job\n",
        ),
        (
            "curl -u KEY: (the key as the user name, no password)",
            f'curl -u "{rand(B62, 10)}7x:" https://search.internal:9200/\n',
            "run.sh",
            'curl -u "elasticsearch-admin:" https://search.internal:9200/\n',
        ),
        (
            "curl -H with a long bearer token",
            f"curl -X PUT -H 'Authorization: Bearer {rand(B62 + '+/', 344)}' https://api.internal/\n",
            "run.sh",
            "curl -X PUT -H 'Authorization: Bearer $LONG_TOKEN' https://api.internal/\n",
        ),
        (
            "Makefile :::=",
            f'STRIPE_TOKEN :::= "sk_{"live"}_{rand(B62, 24)}"\nDB_PASSWORD :::= {user_pw}\n',
            "Makefile",
            "DB_PASSWORD :::= $(shell cat /run/secrets/db)\n",
        ),
        (
            "XML value on its own line",
            f"<config>\n  <apiToken>\n    {rand(B62, 32)}\n  </apiToken>\n</config>\n",
            "settings.xml",
            "<config>\n  <apiTokenUrl>\n    https://auth.example.net/token\n"
            "  </apiTokenUrl>\n</config>\n",
        ),
        (
            "Jenkins credentials.xml",
            "<com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>\n"
            "  <id>deploy</id>\n  <username>ci</username>\n"
            f"  <password>{{{jenkins}}}</password>\n"
            "</com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>\n",
            "credentials.xml",
            "<com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>\n"
            "  <id>deploy</id>\n  <username>ci</username>\n"
            "  <password>${DEPLOY_PASSWORD}</password>\n"
            "</com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>\n",
        ),
        (
            "KEY=value in a log line",
            "2026-03-01T10:00:02Z INFO  starting worker env: RAILS_ENV=production "
            f"DATABASE_PASSWORD={user_pw} API_SECRET={rand(B62, 32)} PORT=3000\n",
            "logs/worker.log",
            "2026-03-01T10:00:02Z INFO  starting worker env: RAILS_ENV=production "
            "DATABASE_PASSWORD=[FILTERED] API_SECRET=[FILTERED] PORT=3000\n",
        ),
    ]


CASES = cases()


@pytest.mark.parametrize(("name", "text", "path", "negative"), CASES, ids=[c[0] for c in CASES])
def test_format_found_and_look_alike_quiet(
    det: Detector, name: str, text: str, path: str | None, negative: str
) -> None:
    assert found(det, text, path), name
    assert rules(det, negative, path) == [], name


def test_vercel_checksum_raises_confidence(det: Detector) -> None:
    tok = with_crc("vc" + "k_", rand(URLSAFE, 50))
    assert [(f.rule, f.confidence) for f in det.scan_text(tok)] == [("vercel-token", "high")]
    bad = tok[:-1] + ("A" if tok[-1] != "A" else "B")
    assert [(f.rule, f.confidence) for f in det.scan_text(bad)] == [("vercel-token", "low")]


def test_ghs_jwt_is_one_finding_of_the_github_rule(det: Detector) -> None:
    tok = "gh" + "s_" + jwt()
    assert rules(det, f"GITHUB_TOKEN={tok}\n", ".env") == ["github-app-token-jwt"]
