"""A Service Binding Secret's descriptive entries are not secrets; its credentials are.

Found by `pretense-dev init` on spring-projects/spring-petclinic: its
`k8s/db.yml` is a `servicebinding.io/postgresql` Secret whose `type:
"postgresql"` and `provider: "postgresql"` were reported as high-confidence
secrets, so every agent's read of the manifest was refused.  The spec's
well-known entries `type` and `provider` (https://servicebinding.io/spec/core/1.0.0/)
name the kind of service, like `host` and `port`; the password beside them must
still be found, under `stringData:` and under base64 `data:`.  Values are built
at run time from parts.
"""

from __future__ import annotations

import base64
import json
import random
import string
from pathlib import Path

from tests.conftest import git, run_cli, write

RNG = random.Random(23)


def rand(n: int) -> str:
    return "".join(RNG.choice(string.ascii_letters + string.digits) for _ in range(n))


def binding(section: str, password: str) -> str:
    def value(v: str) -> str:
        return base64.b64encode(v.encode()).decode() if section == "data" else f'"{v}"'

    entries = {
        "type": "postgresql",
        "provider": "postgresql",
        "scheme": "postgresql",
        "driver": "org.postgresql.Driver",
        "host": "demo-db",
        "port": "5432",
        "database": "petclinic",
        "username": "petclinic",
        "password": password,
    }
    body = "".join(f"  {k}: {value(v)}\n" for k, v in entries.items())
    return (
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: demo-db\n"
        f"type: servicebinding.io/postgresql\n{section}:\n{body}"
    )


def test_only_the_password_of_a_service_binding_secret_is_found(
    git_repo: Path, isolated_user: Path
) -> None:
    password = rand(12) + "-" + rand(9)
    write(
        git_repo,
        {
            "k8s/db.yml": binding("stringData", password),
            "k8s/db-encoded.yml": binding("data", password),
        },
    )
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "manifests")
    r = run_cli("scan", "--format", "json", "k8s", cwd=git_repo)
    assert r.code == 1, r.err
    found = sorted((f["path"], f["line"], f["rule"]) for f in json.loads(r.out)["findings"])
    assert found == [
        ("k8s/db-encoded.yml", 16, "kubernetes-secret"),
        ("k8s/db.yml", 16, "kubernetes-secret"),
    ]
    assert password not in r.out + r.err


def test_a_type_entry_is_never_a_reason_to_quiet_a_credential_key(
    git_repo: Path, isolated_user: Path
) -> None:
    # `token_type`, `key-type`, `credential-type` end like a descriptive entry but
    # name a credential: their values are still read.
    values = {k: rand(24) for k in ("token_type", "key-type", "credential-type")}
    body = "".join(f'  {k}: "{v}"\n' for k, v in values.items())
    text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n" + body
    write(git_repo, {"deploy/app.yml": text})
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "manifest")
    r = run_cli("scan", "--format", "json", "deploy", cwd=git_repo)
    assert r.code == 1, r.err
    lines = sorted(f["line"] for f in json.loads(r.out)["findings"])
    assert lines == [6, 7, 8]
