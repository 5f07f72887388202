"""False-positive classes from reviewing scans of real trees, each quiet, each beside a sibling.

The trees: Rails, Kubernetes' examples, ansible.  The siblings keep a filter
honest: quieting a class must not quiet the real secret written the same way.
Values are built at run time from parts.
"""

from __future__ import annotations

import base64
import random
import string

import pytest

from pretense_dev.secrets import Detector

KEY = bytes(range(32))
RNG = random.Random(7)
B62 = string.ascii_letters + string.digits


def rand(n: int, alphabet: str = B62) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(scope="module")
def det() -> Detector:
    return Detector(KEY)


def rules(det: Detector, text: str, path: str | None) -> list[str]:
    return [f.rule for f in det.scan_text(text, path)]


SECRET_HEAD = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: storage\ntype: Opaque\ndata:\n"


def quiet_cases() -> list[tuple[str, str, str | None]]:
    tok = rand(40)
    return [
        (
            "Secret data that names where to connect, not a credential",
            SECRET_HEAD
            + f"  apiAddress: {b64('tcp://127.0.0.1:5705')}\n"
            + f"  apiUsername: {b64('storageos')}\n"
            + f"  azurestorageaccountname: {b64('k8stest')}\n"
            + f"  node.session.auth.username_in: {b64('muser2')}\n",
            "secret.yaml",
        ),
        (
            "Secret data whose password is a placeholder",
            SECRET_HEAD + f"  node.session.auth.password: {b64('password')}\n"
            f"  key: {b64('mypassword')}\n",
            "chap-secret.yaml",
        ),
        (
            "ConfigMap data",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n"
            "  token_endpoint: https://auth.example.net/oauth/token\n"
            "  session_key_name: _app_session\n",
            "configmap.yaml",
        ),
        (
            "Rails CSRF token in a rendered form",
            f'<input type="hidden" name="authenticity_token" value="{tok}" autocomplete="off" />\n',
            "app/views/users/_form.html.erb",
        ),
        (
            "Rails CSRF token in a request log",
            'Processing by UsersController#create as HTML\n  Parameters: {"authenticity_token"=>"'
            + tok
            + '", "user"=>{"name"=>"x"}}\n',
            "log/development.log",
        ),
        (
            "CSRF meta tag and header",
            f'<meta name="csrf-token" content="{tok}" />\nX-CSRF-Token: {tok}\n',
            "index.html",
        ),
        (
            "forgery protection setting",
            'config.action_controller.request_forgery_protection_token = "_xsrf_token_here"\n',
            "config/application.rb",
        ),
        (
            "redaction markers",
            'Parameters: {"password"=>"[FILTERED]", "api_token"=>"[FILTERED]"}\n'
            "DB_PASSWORD=<redacted>\nSECRET_TOKEN=(hidden)\n",
            "log/production.log",
        ),
        (
            "shell $PWD-style references",
            "API_TOKEN_FILE=$PWD/secrets/token\nDB_PASSWORD=${HOME}/.pgpass\n"
            'export SIGNING_KEY="$XDG_CONFIG_HOME/app/signing.key"\n',
            "env.sh",
        ),
        (
            "HTML form fields in doc comments",
            '#   text_field_tag "token"\n'
            f'#   # => <input type="hidden" name="token" id="token" value="{rand(22)}@" />\n'
            '#   # => <input type="password" id="login_pass" name="login[pass]" size="20" />\n',
            "form_tag_helper.rb",
        ),
        (
            "a route and a words-only constant",
            'put "/disk/:encoded_token" => "active_storage/disk#update"\n'
            'WITH_INDIFFERENT_ACCESS_KEY = "_aj_hash_with_indifferent_access"\n',
            "routes.rb",
        ),
        (
            "documentation's URL stand-ins",
            '#   DATABASE_URL="mysql://myuser:mypass@localhost/somedatabase"\n'
            '  DATABASE_URL: "postgresql://baduser:badpass@127.0.0.1/dbname"\n',
            "database.yml",
        ),
        (
            "typed example values",
            "api_key: a1B2c3D4e5F6\npassword: AbcDef123!@#\n"
            'password: "MySekret' + "Pa$$" + 'word"\n'
            "self.vault_password = 'not-hunter42'\n",
            "example.yml",
        ),
    ]


QUIET = quiet_cases()


@pytest.mark.parametrize(("name", "text", "path"), QUIET, ids=[q[0] for q in QUIET])
def test_false_positive_class_is_quiet(
    det: Detector, name: str, text: str, path: str | None
) -> None:
    assert rules(det, text, path) == [], name


def found_cases() -> list[tuple[str, str, str | None]]:
    pw = rand(12) + "!" + rand(4)
    return [
        ("a Secret's real password", SECRET_HEAD + f"  password: {b64(pw)}\n", "secret.yaml"),
        (
            "a Secret's token under a name with user in it",
            SECRET_HEAD + f"  user-token: {b64(rand(40))}\n",
            "secret.yaml",
        ),
        ("an API token in a request log", f'Parameters: {{"api_token"=>"{rand(40)}"}}\n', "a.log"),
        ("a password next to a redacted one", f"DB_PASSWORD={pw} API_KEY=[FILTERED]\n", "x.log"),
        ("a token in a shell profile", f"export API_TOKEN={rand(40)}\n", "env.sh"),
        ("a URL password", f'DATABASE_URL="postgres://app:{pw}@db/app"\n', "app.env"),
        ("a base64 password in a manifest", f"password: {b64(pw)}\n", "values.yaml"),
        ("Rails secret_key_base", f"secret_key_base: {rand(128, '0123456789abcdef')}\n", "s.yml"),
        (
            "Rails encryption keys",
            f"deterministic_key: {rand(32)}\nkey_derivation_salt: {rand(32)}\n",
            "credentials.yml",
        ),
    ]


FOUND = found_cases()


@pytest.mark.parametrize(("name", "text", "path"), FOUND, ids=[f[0] for f in FOUND])
def test_sibling_secret_is_still_found(
    det: Detector, name: str, text: str, path: str | None
) -> None:
    assert rules(det, text, path) != [], name


def counting_value() -> str:
    """The typed stand-in of gitleaks' UUID samples, `12345678-ABCD-…`, built from parts."""
    return "-".join([string.digits[1:9]] + [string.ascii_uppercase[:4]] * 3 + ["1234567890AB"])


def test_typed_value_next_to_the_vendor_is_reported_low_and_quiet_elsewhere(
    det: Detector,
) -> None:
    typed = counting_value()
    zeros = "-".join("0" * n for n in (8, 4, 4, 4, 12))
    digits = "-".join(string.digits[1 : n + 1] for n in (8, 4, 4, 4)) + "-1234567890" + "12"
    for name, rule in (("snykToken", "snyk-api-token"), ("HEROKU_KEY", "vendor-uuid-key")):
        found = det.scan_text(f'const {name} = "{typed}"\n', None)
        assert [(f.rule, f.confidence) for f in found] == [(rule, "low")], name
        assert det.scan_text(f'const {name} = "{zeros}"\n', None) == [], name
        assert det.scan_text(f'const {name} = "{digits}"\n', None) == [], name
    # Without a vendor's name the same value is a stand-in: no rule reports it.
    assert det.scan_text(f'api_token = "{typed}"\n', None) == []
    assert det.scan_text(f'const client_secret = "{typed}"\n', None) == []


def test_telegram_shaped_near_misses_are_left_to_the_telegram_rule(det: Detector) -> None:
    tail = rand(34, B62 + "_-")
    valid = f"{rand(10, string.digits)}:A{tail}"
    assert rules(det, f'telegram_api_token = "{valid}"\n', None) == ["telegram-bot-api-token"]
    for near in (f"{rand(4, string.digits)}:A{tail}", f"{rand(17, string.digits)}:A{tail}",
                 f"{rand(10, string.digits)}:A{tail}{rand(5)}"):  # fmt: skip
        assert rules(det, f'telegram_api_token = "{near}"\n', None) == [], near
    # Not the Telegram shape: still a credential to the generic rule.
    pair = rand(8) + ":" + rand(30)
    assert rules(det, f'api_token = "{pair}"\n', None) == ["generic-secret"]
    # An XML qualified name (a prefix, capitalised words) is not a credential.
    qname = f"clm{rand(5, string.digits)}:AgencyCodeContentType"
    assert rules(det, f'api_token = "{qname}"\n', None) == []


def test_a_number_or_type_word_after_the_secret_word_keeps_the_name_secret(det: Detector) -> None:
    for name in ("some_api_token_123", "mySecretString", "API_KEY_2", "token_value", "creds"):
        assert rules(det, f'{name} = "{rand(30)}"\n', None) == ["generic-secret"], name
    # Still not secret: the word that says secret must come last but for these.
    for name in ("token_type", "secret_name", "token_count_2", "api_key_header_value"):
        assert rules(det, f'{name} = "{rand(30)}"\n', None) == [], name
