"""PHP's false-positive classes and flags in code literals, from scanning laravel/framework.

`.` joins PHP strings, so the text between two literals (`'.$conn['password']`)
reads like a quoted value; Laravel's validation rules (`'password' =>
'required|confirmed'`) sit exactly where a password would.  Each quiet class has
a sibling: the real secret written the same way must still be found.  A
command-line flag's value inside a literal (`"mysql --password=…"`) is text in
any language and is found; a flag followed by an expression is not.  Values are
built at run time from parts.
"""

from __future__ import annotations

import random
import string

import pytest

from pretense_dev.secrets import Detector
from pretense_dev.secrets.filters import generic_value_reason

KEY = bytes(range(32))
RNG = random.Random(11)
B62 = string.ascii_letters + string.digits


def rand(n: int) -> str:
    return "".join(RNG.choice(B62) for _ in range(n))


@pytest.fixture(scope="module")
def det() -> Detector:
    return Detector(KEY)


# `value="` is kept apart from the PHP around it so that this file's own source
# does not hold the pattern it tests (tests/secrets/test_self_scan.py scans it).
VALUE_ATTR = 'value="'
QUIET = [
    (
        "a command-line flag joined to a variable",
        "'password' => '--password='.$connection['password'],\n",
    ),
    ("a flag joined to a call", "$cmd = '--password='.escapeshellarg($pass).' -h db';\n"),
    (
        "an HTML attribute joined to a call",
        'return new HtmlString(\'<input type="hidden" name="_token" '
        + VALUE_ATTR
        + "'.csrf_token().'\" autocomplete=\"off\">');\n",
    ),
    ("an attribute joined to a variable", "echo '<input name=\"api_key\" value=\"'.$key.'\">';\n"),
    ("validation rules", "return ['password' => 'required|confirmed'];\n"),
    (
        "validation rules with arguments",
        "$rules = ['password' => 'required|string|min:8|confirmed',\n"
        "          'api_token' => 'nullable|string|size:40',\n"
        "          'secret' => 'sometimes|alpha_num|max:255'];\n",
    ),
]


@pytest.mark.parametrize(("name", "text"), QUIET, ids=[q[0] for q in QUIET])
def test_php_false_positive_class_is_quiet(det: Detector, name: str, text: str) -> None:
    assert [f.rule for f in det.scan_text(text, "app/Http/Controller.php")] == [], name


def found() -> list[tuple[str, str]]:
    pw = rand(10) + "!" + rand(3)
    return [
        ("a password in a PHP array", f"'password' => '{pw}',\n"),
        ("a password after a flag", f"$cmd = 'mysql --password={pw} -h db';\n"),
        ("a token in a PHP array", f"'api_token' => '{rand(40)}',\n"),
        ("a password with a pipe in it", "'password' => '" + rand(6) + "|" + rand(5) + "9!',\n"),
        ("a password that starts with a dot", "'password' => '." + rand(9) + "#2',\n"),
        ("a password that starts with a plus", "'password' => '+" + rand(9) + "(x',\n"),
    ]


FOUND = found()


@pytest.mark.parametrize(("name", "text"), FOUND, ids=[f[0] for f in FOUND])
def test_php_sibling_secret_is_still_found(det: Detector, name: str, text: str) -> None:
    assert [f.rule for f in det.scan_text(text, "config/database.php")] != [], name


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b".$connection[", "code expression"),
        (b"'.csrf_token().'", "code expression"),
        (b"'.$key.'", "code expression"),
        (b"required|string|min:8|confirmed", "validation rules"),
        (b".Kx9mQ2zP#2", None),
        (b"+Kx9mQ2zP(x", None),
        (b"Kx9mQ2|zP7w9!", None),
    ],
)
def test_reason_is_exact(value: bytes, reason: str | None) -> None:
    assert generic_value_reason(value, password=True, quoted=True) == reason


def flag_cases() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    pw = rand(10) + "!" + rand(3)
    found = [
        ("python", "app.py", f'subprocess.run("mysql --password={pw} -h db", shell=True)\n'),
        ("javascript", "deploy.js", f"execSync(`psql --password={pw}`);\n"),
        ("go", "main.go", f'cmd := exec.Command("sh", "-c", "redis-cli --pass {pw}")\n'),
        ("ruby", "task.rb", f"system('mysqldump --password={pw} app')\n"),
    ]
    quiet = [
        ("python", "app.py", 'subprocess.run(f"mysql --password={pw} -h db")\n'),
        ("python", "app.py", 'cmd = "mysql --password=" + password\n'),
        ("python", "app.py", 'cmd = "mysql --password=%s" % password\n'),
        ("javascript", "deploy.js", "execSync(`psql --password=${pw}`);\n"),
        ("ruby", "task.rb", 'system("mysqldump --password=#{pw} app")\n'),
        ("python", "cli.py", '"""Run `tool --password=<password>` or --password=PASSWORD."""\n'),
    ]
    return [(f"{lang}: {t}", f"{p}\0{t}") for lang, p, t in found], [
        (f"{lang}: {t}", f"{p}\0{t}") for lang, p, t in quiet
    ]


FLAG_FOUND, FLAG_QUIET = flag_cases()


@pytest.mark.parametrize(("name", "case"), FLAG_FOUND, ids=[c[0] for c in FLAG_FOUND])
def test_flag_value_inside_a_literal_in_code_is_found(det: Detector, name: str, case: str) -> None:
    path, text = case.split("\0")
    assert [f.rule for f in det.scan_text(text, path)] == ["generic-password"], name


@pytest.mark.parametrize(("name", "case"), FLAG_QUIET, ids=[c[0] for c in FLAG_QUIET])
def test_flag_followed_by_an_expression_is_quiet(det: Detector, name: str, case: str) -> None:
    path, text = case.split("\0")
    assert [f.rule for f in det.scan_text(text, path)] == [], name
