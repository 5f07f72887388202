"""Detection quality on a labelled, generated set: recall and precision per family, beside gitleaks.

Usage:  python bench/secrets_quality.py [--seed N] [--per-rule K] [--show-misses]

Every sample is one file in a temp directory, generated at run time (nothing
secret-shaped is stored): positives from every rule's format (in several
assignment contexts) plus the usual blind spots of secret scanners (credentials in URLs and
connection strings, passwords with punctuation, encoded values, concatenated
literals, key blocks); negatives are tempting look-alikes (placeholders, AWS
example keys, environment references, UUIDs, digests, integrity hashes, image
data, public keys and certificates, i18n strings, names with "token").  A file
counts as detected when a tool reports anything in it.  Both tools scan the
same directory through their CLIs.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import subprocess
import sys
import tempfile
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench._secrets_common import gitleaks_binary, gitleaks_dir, gitleaks_version
from pretense_dev.secrets.rules import default_rules
from pretense_dev.secrets.samples import STRUCTURED, generate, password


@dataclass
class Sample:
    """One labelled file of the set."""

    family: str
    positive: bool
    name: str  # file name (its extension picks the context)
    text: str


def contexts(name: str, value: str) -> list[tuple[str, str]]:
    q = json.dumps(value)
    return [
        ("settings.py", f"{name} = {q}\n"),
        (".env", f"{name.upper()}={value}\n"),
        ("values.yaml", f"{name}: {q}\n"),
        ("config.json", json.dumps({name: value}) + "\n"),
    ]


def positives(rng: random.Random, per_rule: int) -> list[Sample]:
    out: list[Sample] = []
    for rule in default_rules():
        if not rule.sample or rule.family in ("generic", "private-key", "structured", "url"):
            continue
        for _ in range(per_rule):
            value = generate(rule.sample, rng)
            if rule.sample_path or " " in value or "\n" in value:
                out.append(Sample(rule.family, True, rule.sample_path or "notes.txt", value))
                continue
            name = rule.sample_key or "service_value"
            fname, text = rng.choice(contexts(name, value))
            out.append(Sample(rule.family, True, fname, text))
    # Credentials in URLs, headers and connection strings.
    for _ in range(per_rule):
        pw = generate("{b62:10}!{b62:4}", rng)
        for t in (
            f"postgres://app:{pw}@db.internal:5432/app",
            f"mysql://root:{pw}@10.0.0.5:3306/shop",
            f"mongodb+srv://svc:{pw}@cluster0.ab1cd.mongodb.net/db",
            f"redis://:{pw}@cache.internal:6379/0",
            f"amqp://svc:{pw}@mq.internal:5672/vhost",
            f"https://deploy:{pw}@git.acme-corp.io/team/repo.git",
            f"Server=tcp:sql01,1433;Database=crm;User ID=svc;Password={pw};",
            f"Data Source=sql01;Initial Catalog=crm;User Id=svc;Pwd={pw};",
            generate("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={b64:86}==;", rng),
            generate(
                "https://acct.blob.core.windows.net/c/f?sv=2022-11-02&sp=r&sig={b62:43}%3D", rng
            ),
            generate("https://{h:32}:{h:32}@o{d:6}.ingest.sentry.io/{d:7}", rng),
            generate("https://hooks.slack.com/services/T{A:8}/B{A:10}/{b62:24}", rng),
            generate("https://discord.com/api/webhooks/{d:18}/{u:68}", rng),
            f"Authorization: Basic {STRUCTURED['basic-auth'](rng)}",
        ):
            out.append(Sample("url", True, "app.env", f"VALUE={t}\n"))
    # Passwords with punctuation, in the syntaxes people use.
    for _ in range(per_rule):
        for fname, tmpl in (
            ("settings.py", 'DB_PASSWORD = "{P}"\n'),
            ("values.yaml", "db_password: '{P}'\n"),
            (".env", "DB_PASSWORD={P}\n"),
            ("config.json", '{"password": "{P}"}\n'),
            ("settings.xml", "<password>{P}</password>\n"),
            ("application.properties", "spring.datasource.password={P}\n"),
            ("seed.ts", 'const adminPassword = "{P}";\n'),
            ("main.go", 'os.Setenv("DB_PASSWORD", "{P}")\n'),
        ):
            out.append(Sample("password", True, fname, tmpl.replace("{P}", password(rng))))
    # Formats the rules were not tuned on: the same secrets in other files.
    for _ in range(per_rule):
        pw, tok = password(rng), generate("gh" + "p_{b62:30}{ghcrc}", rng)
        for fname, text in (
            ("main.tf", f'resource "x" "y" {{\n  password = "{pw}"\n}}\n'),
            (
                "docker-compose.yml",
                f"services:\n  db:\n    environment:\n      - POSTGRES_PASSWORD={pw}\n",
            ),
            ("Dockerfile", f"FROM alpine\nENV GITHUB_TOKEN={tok}\n"),
            ("setup.cfg", f"[upload]\nusername = ci\npassword = {pw}\n"),
            ("pyproject.toml", f'[tool.x]\napi_token = "{tok}"\n'),
            ("deploy.sh", f"export DEPLOY_PASSWORD='{pw}'\n"),
            ("notes.md", f"Use `{tok}` for the bot account.\n"),
            ("App.kt", f'val dbPassword: String = "{pw}"\n'),
        ):
            out.append(Sample("other-formats", True, fname, text))
    # Encoded values.
    for _ in range(per_rule):
        tok = generate("gh" + "p_{b62:30}{ghcrc}", rng)
        stripe = generate("sk" + "_live_{b62:24}", rng)
        out += [
            Sample("encoded", True, ".env", f"GH_TOKEN_B64={base64.b64encode(tok.encode()).decode()}\n"),
            Sample("encoded", True, "k8s/secret.yaml", STRUCTURED["k8s-secret"](rng)),
            Sample("encoded", True, "config.json", STRUCTURED["docker-auth"](rng)),
            Sample("encoded", True, "links.txt", "https://example.org/cb?t=" + "".join(f"%{b:02X}" for b in stripe.encode()) + "\n"),
            Sample("encoded", True, "data.json", '{"token": "' + "".join(f"\\u{ord(c):04x}" for c in tok) + '"}\n'),
        ]  # fmt: skip
    # Concatenated literals.
    forms = (
        ("a.py", 'token = "{A}" + "{B}"\n'),
        ("a.py", 'token = ("{A}"\n         "{B}")\n'),
        ("a.js", "const token = '{A}' +\n  '{B}';\n"),
        ("A.java", 'String token = "{A}"\n    + "{B}";\n'),
        ("main.go", 'token := "{A}" + "{B}"\n'),
        ("main.rs", 'let token = concat!("{A}", "{B}");\n'),
        ("b.py", 'token = "".join(["{A}", "{B}"])\n'),
        ("c.py", 'token = "{A}"\ntoken += "{B}"\n'),
    )
    for _ in range(per_rule):
        for fname, tmpl in forms:
            tok = generate(
                rng.choice(
                    [
                        "gh" + "p_{b62:30}{ghcrc}",
                        "sk" + "_live_{b62:24}",
                        "xo" + "xb-{d:12}-{d:12}-{b62:24}",
                    ]
                ),
                rng,
            )
            cut = rng.randrange(8, len(tok) - 8)
            out.append(Sample("concatenated", True, fname, tmpl.replace("{A}", tok[:cut]).replace("{B}", tok[cut:])))  # fmt: skip
    # Key blocks and key files.
    for _ in range(per_rule):
        for kind in ("pem-rsa", "pem-openssh", "pem-pgp", "putty"):
            out.append(Sample("private-key", True, "key.txt", STRUCTURED[kind](rng)))
        out.append(
            Sample("private-key", True, "k.json", json.dumps({"key": STRUCTURED["pem-rsa"](rng)}))
        )
        out.append(Sample("private-key", True, "sa.json", STRUCTURED["gcp-service-account"](rng)))
    return out


def negatives(rng: random.Random, per_rule: int) -> list[Sample]:
    out: list[Sample] = []
    for rule in default_rules():
        for tmpl in rule.negatives:
            out.append(Sample(rule.family, False, rule.sample_path or "conf.txt", generate(tmpl, rng) + "\n"))  # fmt: skip
    fake = "x" * 36
    placeholders = [
        "GITHUB_TOKEN=gh" + "p_" + fake, "STRIPE_KEY=sk_" + "live_" + "X" * 24,
        "SLACK_TOKEN=xoxb-your-token-here", 'api_key = "your-api-key-here"', 'token: "<your token>"',
        "password = 'changeme'", "aws_access_key_id = AKIA" + "IOSFODNN7" + "EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
        'OPENAI_API_KEY="sk-...your key..."', "password: ********",
    ]  # fmt: skip
    refs = [
        'password = os.environ["DB_PASSWORD"]', "const token = process.env.API_TOKEN;",
        "DB_PASSWORD=${DB_PASSWORD}", "password: ${{ secrets.DB_PASSWORD }}",
        "password: {{ .Values.db.password }}", "set PASSWORD=%DB_PASSWORD%",
        'token = ENV["API_TOKEN"]', 'String pw = System.getenv("DB_PASSWORD");',
        "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: db\n        key: password",
        "postgres://app:${DB_PASSWORD}@db:5432/app",
    ]  # fmt: skip
    for _ in range(per_rule):
        out += [Sample("placeholder", False, "conf.env", t + "\n") for t in placeholders]
        out += [Sample("env-reference", False, "conf.yaml", t + "\n") for t in refs]
        sha = hashlib.sha256(rng.randbytes(16)).hexdigest()
        integrity = base64.b64encode(hashlib.sha512(rng.randbytes(8)).digest()).decode()
        png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + rng.randbytes(120)).decode()
        out += [
            Sample("digest", False, "ids.py", f'request_id = "{uuid.UUID(int=rng.getrandbits(128))}"\n'),
            Sample("digest", False, "log.txt", f"commit {hashlib.sha1(rng.randbytes(8)).hexdigest()}\n"),
            Sample("digest", False, "sums.py", f'checksum = "{sha}"\n'),
            Sample("digest", False, "package-lock.json", f'"integrity": "sha512-{integrity}"\n'),
            Sample("digest", False, "deploy.yaml", f"image: registry.acme-corp.io/app@sha256:{sha}\n"),
            Sample("digest", False, "page.html", f'<img src="data:image/png;base64,{png}">\n'),
            Sample("digest", False, "cache.py", f'cache_key = "user:{rng.randrange(10**6)}:profile"\n'),
        ]  # fmt: skip
        body = "\n".join(base64.b64encode(rng.randbytes(48)).decode() for _ in range(4))
        out += [
            Sample("public-key", False, "pub.pem", f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"),
            Sample("public-key", False, "cert.pem", f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"),
            Sample("public-key", False, "authorized_keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + base64.b64encode(rng.randbytes(24)).decode() + " dev@laptop\n"),
        ]  # fmt: skip
        out += [
            Sample("i18n", False, "fr.json", '{"password": "Mot de passe", "forgot": "Mot de passe oublié ?"}\n'),
            Sample("i18n", False, "en.yaml", "password_label: Enter your password\nforgot_password: Forgot your password?\n"),
            Sample("i18n", False, "messages.json", '{"passwordTooShort": "Password must be at least 8 characters"}\n'),
        ]  # fmt: skip
        noise = base64.b64encode(rng.randbytes(24)).decode()
        out += [
            Sample("high-entropy", False, "csp.conf", f"Content-Security-Policy: script-src 'sha256-{noise}'\n"),
            Sample("high-entropy", False, "webpack.js", f'chunk.{rng.randbytes(10).hex()}.js "{rng.randbytes(8).hex()}"\n'),
            Sample("high-entropy", False, "nonce.py", f'nonce = "{rng.randbytes(16).hex()}"\nsalt = "{noise}"\n'),
            Sample("high-entropy", False, "go.sum", f"github.com/x/y v1.2.3 h1:{noise}=\n"),
            Sample("high-entropy", False, "fixtures.py", f'EXAMPLE_TOKEN = "{generate("ghp_{{b62:8}}", rng)}..."\n'),
            Sample("high-entropy", False, "svg.html", f'<path d="M{rng.randrange(99)} {rng.randrange(99)}L{noise}"/>\n'),
        ]  # fmt: skip
        out += [
            Sample("identifier", False, "model.py", 'token_type = "bearer"\nmax_tokens = 4096\ntokenizer = "bert-base-uncased"\n'),
            Sample("identifier", False, "auth.py", 'TOKEN_URL = "https://auth.acme-corp.io/oauth/token"\nAPI_KEY_HEADER = "X-Api-Key"\n'),
            Sample("identifier", False, "views.py", "password = get_password()\nsecret = self.settings.secret\n"),
        ]  # fmt: skip
    return out


def ours(root: Path) -> set[str]:
    p = subprocess.run(
        [sys.executable, "-m", "pretense_dev", "scan", "--format", "json"],
        cwd=root, capture_output=True, check=False,
    )  # fmt: skip
    return {f["path"].split("/")[0] for f in json.loads(p.stdout)["findings"]}


def gitleaks(binary: str, root: Path, report: Path) -> set[str]:
    return {Path(f["File"]).relative_to(root).parts[0] for f in gitleaks_dir(binary, root, report)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--per-rule", type=int, default=3)
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    samples = positives(rng, args.per_rule) + negatives(rng, args.per_rule)
    binary = gitleaks_binary()
    with tempfile.TemporaryDirectory(prefix="secrets-quality-") as tmp:
        root = Path(tmp) / "set"
        for i, s in enumerate(samples):
            d = root / f"s{i:05d}"
            d.mkdir(parents=True)
            (d / s.name).parent.mkdir(parents=True, exist_ok=True)
            (d / s.name).write_text(s.text, encoding="utf-8")
        hit_ours = ours(root)
        hit_gl = gitleaks(binary, root, Path(tmp) / "gl.json") if binary else set()
    fam: dict[str, list[int]] = defaultdict(lambda: [0] * 6)  # P, TP ours, TP gl, N, FP ours, FP gl
    misses: list[str] = []
    for i, s in enumerate(samples):
        key = f"s{i:05d}"
        row = fam[s.family]
        if s.positive:
            row[0] += 1
            row[1] += key in hit_ours
            row[2] += key in hit_gl
            if key not in hit_ours:
                misses.append(f"miss {s.family}: {s.name}: {s.text[:60]!r}")
        else:
            row[3] += 1
            row[4] += key in hit_ours
            row[5] += key in hit_gl
            if key in hit_ours:
                misses.append(f"false alarm {s.family}: {s.name}: {s.text[:60]!r}")

    def pct(a: int, b: int) -> str:
        return f"{100 * a / b:5.1f}%" if b else "    - "

    gl = gitleaks_version(binary) if binary else "not found"
    print(f"{len(samples)} samples (seed {args.seed}); gitleaks {gl}")
    print(f"{'family':<14}{'pos':>5}{'neg':>5}   recall ours / gitleaks   precision ours / gitleaks   false alarms ours / gitleaks")  # fmt: skip
    totals = [0] * 6
    for name in sorted(fam):
        p, tpo, tpg, n, fpo, fpg = fam[name]
        totals = [a + b for a, b in zip(totals, fam[name], strict=True)]
        print(
            f"{name:<14}{p:>5}{n:>5}   {pct(tpo, p):>8} / {pct(tpg, p):<8}     "
            f"{pct(tpo, tpo + fpo):>8} / {pct(tpg, tpg + fpg):<8}       {fpo:>4} / {fpg:<4}"
        )
    p, tpo, tpg, n, fpo, fpg = totals
    print(
        f"{'all':<14}{p:>5}{n:>5}   {pct(tpo, p):>8} / {pct(tpg, p):<8}     "
        f"{pct(tpo, tpo + fpo):>8} / {pct(tpg, tpg + fpg):<8}       {fpo:>4} / {fpg:<4}"
    )
    if args.show_misses:
        print("\n".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
