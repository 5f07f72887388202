"""Extract gitleaks' own rule samples into recipes (tests/secrets/gitleaks_samples.json).

Usage:  python scripts/extract_gitleaks_samples.py GITLEAKS_GIT_DIR [--rev REV] [--out PATH]

gitleaks (https://github.com/gitleaks/gitleaks) validates each rule of its
default config on true- and false-positive samples written in Go, in
`cmd/generate/config/rules/*.go`: string literals, `utils.GenerateSampleSecrets(id,
secret)` (one sample per assignment context of `cmd/generate/config/utils/generate.go`),
`secrets.NewSecret(regex)` (a random string matching the regex), `fmt.Sprintf`,
`append`, maps from path to text (`utils.ValidateWithPaths`).  This script reads
those files from a git directory at one revision, evaluates that small subset of
Go, and writes *recipes*, never the samples: every literal is stored
transformed (reversed, ROT13 on letters and ROT5 on digits) and every random
part as its regex, so the committed file holds nothing secret-shaped; the tests
and `bench/secrets_samples.py` rebuild the samples at run time
(`tests/secrets/gitleaks_samples.py`).  The output depends only on the
revision read: run it again on the same revision and nothing changes.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RULES_DIR = "cmd/generate/config/rules"
GENERATE_GO = "cmd/generate/config/utils/generate.go"
PATTERNS = {  # cmd/generate/config/utils/patterns.go
    "Numeric": "[0-9]{%s}",
    "Hex": "[a-f0-9]{%s}",
    "AlphaNumeric": "[a-z0-9]{%s}",
    "AlphaNumericExtendedShort": "[a-z0-9_-]{%s}",
    "AlphaNumericExtended": r"[a-z0-9=_\-]{%s}",
    "AlphaNumericExtendedLong": r"[a-z0-9\/=_\+\-]{%s}",
}
HEX_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

_ROT = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "nopqrstuvwxyzabcdefghijklmNOPQRSTUVWXYZABCDEFGHIJKLM5678901234",
)


def conceal(text: str) -> str:
    """Reverse, ROT13 the letters and ROT5 the digits (its own inverse after reversing)."""
    return text[::-1].translate(_ROT)


# ---------------------------------------------------------------- values

Part = list[Any]  # ["l", text] | ["g", regex] | ["p", regex] | ["b64", variant, parts]


@dataclass
class Str:
    """A string as parts: literal text, or random text generated from a regex at run time."""

    parts: list[Part] = field(default_factory=list)

    def __add__(self, other: Str) -> Str:
        out = [list(p) for p in self.parts]
        for p in other.parts:
            if out and out[-1][0] == "l" and p[0] == "l":
                out[-1] = ["l", out[-1][1] + p[1]]
            else:
                out.append(list(p))
        return Str(out)

    def literal(self) -> str:
        """The text, when it has no random part."""
        if any(p[0] != "l" for p in self.parts):
            raise Unsupported("a literal string was expected")
        return "".join(p[1] for p in self.parts)


@dataclass
class Samples:
    """`utils.GenerateSampleSecrets(identifier, secret)`: one sample per context template."""

    identifier: str
    secret: Str


class Unsupported(Exception):
    """Go we do not evaluate (the rule is then reported, not skipped silently)."""


def lit(text: str) -> Str:
    """A literal string."""
    return Str([["l", text]]) if text else Str([])


# ---------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""(?P<ws>[ \t\r]+)|(?P<nl>\n)|(?P<lc>//[^\n]*)|(?P<bc>/\*.*?\*/)
    |(?P<raw>`[^`]*`)|(?P<str>"(?:\\.|[^"\\\n])*")|(?P<rune>'(?:\\.|[^'\\])+')
    |(?P<num>\d+(?:\.\d+)?)|(?P<id>[A-Za-z_]\w*)
    |(?P<op>\.\.\.|:=|==|!=|<=|>=|&&|\|\||\+=|[-+*/%&|^<>=!(){}\[\],;:.])""",
    re.S | re.X,
)


@dataclass
class Tok:
    """A Go token: kind, source text and (strings) the value."""

    kind: str
    text: str
    value: str = ""


def tokenize(src: str) -> list[Tok]:
    """Go tokens, with semicolons inserted at line ends as the Go spec says."""
    out: list[Tok] = []
    pos = 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if m is None:
            raise Unsupported(f"cannot tokenize at {src[pos : pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        text = m.group()
        if kind in ("ws", "lc"):
            continue
        if kind == "nl" or (kind == "bc" and "\n" in text):
            if out and (
                out[-1].kind in ("id", "str", "num", "rune")
                or out[-1].text in (")", "]", "}")
                or out[-1].text in ("return", "break", "continue")
            ):
                out.append(Tok("op", ";"))
            continue
        if kind == "bc":
            continue
        if kind == "raw":
            out.append(Tok("str", text, text[1:-1].replace("\r", "")))
        elif kind == "str":
            out.append(Tok("str", text, ast.literal_eval(text)))
        else:
            out.append(Tok(kind, text))
    return out


# ---------------------------------------------------------------- evaluation


class Evaluator:
    """A recursive-descent reader of the Go expressions gitleaks' rule files use."""

    def __init__(self, toks: list[Tok], env: dict[str, Any], funcs: dict[str, list[Tok]]) -> None:
        self.toks = toks
        self.i = 0
        self.env = env
        self.funcs = funcs

    def peek(self, k: int = 0) -> Tok:
        """The token k ahead (an "eof" token past the end)."""
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else Tok("eof", "")

    def take(self, text: str | None = None) -> Tok:
        """Consume a token (which must be `text` when given)."""
        t = self.peek()
        if text is not None and t.text != text:
            raise Unsupported(f"expected {text!r}, got {t.text!r}")
        self.i += 1
        return t

    def skip_semis(self) -> None:
        """Skip inserted semicolons (a list may span lines)."""
        while self.peek().text == ";":
            self.i += 1

    def expr(self) -> Any:
        """An operand, or strings joined by `+`."""
        left = self.primary()
        while self.peek().text == "+":
            self.take()
            self.skip_semis()
            right = self.primary()
            if not isinstance(left, Str) or not isinstance(right, Str):
                raise Unsupported("+ on non-strings")
            left = left + right
        return left

    def args(self) -> list[Any]:
        """A call's arguments (`x...` marked as spread)."""
        self.take("(")
        out: list[Any] = []
        while self.peek().text != ")":
            self.skip_semis()
            if self.peek().text == ")":
                break
            v = self.expr()
            if self.peek().text == "...":
                self.take()
                v = _Spread(v)
            out.append(v)
            self.skip_semis()
            if self.peek().text == ",":
                self.take()
            self.skip_semis()
        self.take(")")
        return out

    def skip_type(self) -> None:
        """Skip a type: []string, map[string]string, *config.Rule, []*regexp.Regexp."""
        while True:
            t = self.peek()
            if t.text in ("[", "]", "*", ".") or t.kind == "id":
                if t.text == "[" and self.peek(1).kind == "id":  # map[K]
                    self.take()
                    self.skip_type()
                    self.take("]")
                    continue
                self.take()
                if t.kind == "id" and self.peek().text not in (".", "["):
                    return
                continue
            return

    def elements(self) -> list[tuple[Any, Any]]:
        """{a, b} or {k: v, …}: (key or None, value) pairs."""
        self.take("{")
        out: list[tuple[Any, Any]] = []
        while True:
            self.skip_semis()
            if self.peek().text == "}":
                break
            k: Any = None
            if self.peek().kind == "id" and self.peek(1).text == ":":  # a struct field
                k = _Name(self.take().text)
                self.take()
            v = self.value()
            if k is None and self.peek().text == ":":
                self.take()
                self.skip_semis()
                k, v = v, self.value()
            out.append((k, v))
            self.skip_semis()
            if self.peek().text == ",":
                self.take()
        self.take("}")
        return out

    def value(self) -> Any:
        """An element's value; one we cannot evaluate becomes None (checked where used)."""
        self.skip_semis()
        if self.peek().text == "{":
            return [e[1] for e in self.elements()]
        start = self.i
        try:
            return self.expr()
        except Unsupported:
            self.i = start
            depth = 0
            while self.peek().kind != "eof":
                t = self.peek()
                if depth == 0 and t.text in (",", "}"):
                    break
                if t.text in "({[":
                    depth += 1
                elif t.text in ")}]":
                    depth -= 1
                self.take()
            return None

    def primary(self) -> Any:
        """A literal, a name, a call, a composite literal or a parenthesised expression."""
        t = self.peek()
        if t.kind == "str":
            self.take()
            return lit(t.value)
        if t.kind == "num":
            self.take()
            return int(t.text) if t.text.isdigit() else float(t.text)
        if t.text == "(":
            self.take()
            v = self.expr()
            self.take(")")
            return v
        if t.text == "&":
            self.take()
            return self.primary()
        if t.text == "[" and self.peek(1).text == "]" and self.peek(2).text == "byte":
            self.i += 3
            return self.args()[0]  # []byte(s): the same text
        if t.text == "[" or t.text == "map":
            is_map = t.text == "map"
            self.skip_type() if not is_map else (self.take(), self.skip_type())
            if is_map:
                self.skip_type()
            elems = self.elements()
            if is_map:
                return {_key(k): v for k, v in elems}
            return [v for _, v in elems]
        if t.kind == "id":
            name = self.take().text
            while self.peek().text == "." and self.peek(1).kind == "id":
                self.take()
                name += "." + self.take().text
            if self.peek().text == "(":
                return self.call(name, self.args())
            if self.peek().text == "{" and (name[:1].isupper() or "." in name):
                return _Struct({_key(k): v for k, v in self.elements() if k is not None})
            if name in self.env:
                return self.env[name]
            if name in ("true", "false", "nil") or "." in name:
                return None  # a constant of gitleaks' own packages: not sample data
            raise Unsupported(f"unknown name {name}")
        raise Unsupported(f"unexpected {t.text!r}")

    def call(self, name: str, args: list[Any]) -> Any:
        """The functions gitleaks' rule files call to build samples."""
        short = name.split(".")[-1]
        if name.startswith("utils.") and short in PATTERNS:
            return lit(PATTERNS[short] % _as_lit(args[0]))
        if name == "utils.Hex8_4_4_4_12":
            return lit(HEX_UUID)
        if name == "secrets.NewSecret":
            return Str([["g", _as_lit(args[0])]])
        if name == "newPlausibleSecret":  # generic.go: a NewSecret with a digit in it
            return Str([["p", _as_lit(args[0])]])
        if name == "utils.GenerateSampleSecrets":
            return Samples(_as_lit(args[0]), args[1])
        if name == "utils.GenerateSampleSecret":
            return lit(f'{_as_lit(args[0])}_api_token = "') + args[1] + lit('"')
        if name == "fmt.Sprintf":
            return sprintf(_as_lit(args[0]), args[1:])
        if name == "strings.Repeat":
            return lit(_as_lit(args[0]) * int(args[1]))
        if name == "strings.ToUpper":
            return lit(_as_lit(args[0]).upper())
        if name == "append":
            base = _as_list(args[0])
            for a in args[1:]:
                if isinstance(a, _Spread):
                    base.extend(_as_list(a.v))
                else:
                    base.append(a)
            return base
        if name in ("string", "[]byte"):
            return args[0]
        if name in B64_ENCODINGS:
            return Str([["b64", B64_ENCODINGS[name], args[0].parts]])
        if name in ("utils.Validate", "utils.ValidateWithPaths"):
            return _Validate(args[0], args[1], args[2])
        if name == "generateTestValues":  # jwt.go: base64-encoded JWTs, one per header
            return jwt_examples(self.funcs["generateTestValues"], self.env)
        if name in self.funcs:
            return run_func(self.funcs[name], dict(self.env), self.funcs).get("return")
        if name.startswith(("regexp.", "utils.Generate", "utils.Merge", "utils.GetEnv")):
            return None  # the rule's own regex: not a sample
        raise Unsupported(f"call {name}")


def _as_list(v: Any) -> list[Any]:
    """A slice value: GenerateSampleSecrets' result stays one (expanded later) element."""
    if v is None:
        return []
    return list(v) if isinstance(v, list) else [v]


B64_ENCODINGS = {
    "base64.StdEncoding.EncodeToString": "std",
    "base64.RawStdEncoding.EncodeToString": "rawstd",
    "base64.URLEncoding.EncodeToString": "url",
    "base64.RawURLEncoding.EncodeToString": "rawurl",
}


@dataclass
class _Validate:
    rule: Any
    tps: Any
    fps: Any


@dataclass
class _Spread:
    v: Any


@dataclass
class _Struct:
    fields: dict[str, Any]


def _key(k: Any) -> str:
    if isinstance(k, Str):
        return k.literal()
    if isinstance(k, _Name):
        return k.name
    return str(k)


@dataclass
class _Name:
    name: str


def _as_lit(v: Any) -> str:
    if isinstance(v, Str):
        return v.literal()
    if isinstance(v, int):
        return str(v)
    raise Unsupported(f"a literal was expected, got {type(v).__name__}")


def sprintf(fmt: str, args: list[Any]) -> Str:
    """fmt.Sprintf with %s, %d, %q and %%."""
    out = Str([])
    pos = 0
    it = iter(args)
    for m in re.finditer(r"%[sdq%]", fmt):
        out = out + lit(fmt[pos : m.start()])
        pos = m.end()
        if m.group() == "%%":
            out = out + lit("%")
            continue
        a = next(it)
        if m.group() == "%q":
            out = out + lit('"') + a + lit('"')
        elif isinstance(a, Str):
            out = out + a
        else:
            out = out + lit(str(a))
    return out + lit(fmt[pos:])


def jwt_examples(body: list[Tok], env: dict[str, Any]) -> list[Any]:
    """jwt.go's generateTestValues: a JWT per known header, in four base64 encodings."""
    local = run_func(body, dict(env), {}, stop_at="for")
    suffix: Str = local["jwtSuffix"]
    out: list[Any] = []
    for key, values in local["headers"].items():
        for value in values:
            jwt = [["b64", "rawurl", (lit('{"' + key + '":') + value + lit("}")).parts]]
            token = Str(jwt) + suffix
            for variant in ("std", "rawstd", "url", "rawurl"):
                out.append(Str([["b64", variant, token.parts]]))
    return out


def run_func(
    toks: list[Tok], env: dict[str, Any], funcs: dict[str, list[Tok]], stop_at: str = ""
) -> dict[str, Any]:
    """Run a function body's assignments; `return X` is stored under "return"."""
    ev = Evaluator(toks, env, funcs)
    while ev.peek().kind != "eof":
        ev.skip_semis()
        t = ev.peek()
        if t.kind == "eof":
            break
        if stop_at and t.text == stop_at:
            break
        start = ev.i
        try:
            if t.text == "return":
                ev.take()
                env["return"] = ev.expr()
            elif t.text == "var" and ev.peek(1).text == "(":
                ev.take()
                ev.take()
                while ev.peek().text != ")":
                    ev.skip_semis()
                    if ev.peek().text == ")":
                        break
                    name = ev.take().text
                    ev.take("=")
                    env[name] = ev.expr()
                    ev.skip_semis()
                ev.take(")")
            elif t.text == "var" and ev.peek(1).kind == "id":
                ev.take()
                name = ev.take().text
                if ev.peek().text != "=":
                    ev.skip_type()
                ev.take("=")
                env[name] = ev.expr()
            elif t.kind == "id" and ev.peek(1).text in (":=", "="):
                name = ev.take().text
                ev.take()
                env[name] = ev.expr()
            else:
                raise Unsupported(f"statement {t.text}")
        except Unsupported as e:
            if (t.kind == "id" and t.text in ("tps", "fps")) or t.text == "return":
                raise Unsupported(f"{t.text}: {e}") from None
            ev.i = start
            _skip_statement(ev)
    return env


def _skip_statement(ev: Evaluator) -> None:
    depth = 0
    while ev.peek().kind != "eof":
        t = ev.take()
        if t.text in "({[":
            depth += 1
        elif t.text in ")}]":
            depth -= 1
        elif t.text == ";" and depth == 0:
            return


def split_file(toks: list[Tok]) -> tuple[dict[str, list[Tok]], list[list[Tok]]]:
    """Function bodies by name, and the top-level var/const statements."""
    funcs: dict[str, list[Tok]] = {}
    decls: list[list[Tok]] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.text == "func":
            name = toks[i + 1].text
            j = i
            while toks[j].text != "{":
                j += 1
            depth, k = 0, j
            while True:
                if toks[k].text == "{":
                    depth += 1
                elif toks[k].text == "}":
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            funcs[name] = toks[j + 1 : k]
            i = k + 1
        elif t.text in ("var", "const"):
            j, depth = i, 0
            while j < len(toks):
                if toks[j].text in "({[":
                    depth += 1
                elif toks[j].text in ")}]":
                    depth -= 1
                elif toks[j].text == ";" and depth == 0:
                    break
                j += 1
            stmt = toks[i : j + 1]
            if len(stmt) > 1 and stmt[1].text == "(":  # var ( a = 1; b = 2 )
                inner = stmt[2:-2]
                part: list[Tok] = []
                for tk in [*inner, Tok("op", ";")]:
                    if tk.text == ";" and part:
                        decls.append([Tok("id", "var"), *part, Tok("op", ";")])
                        part = []
                    elif tk.text != ";":
                        part.append(tk)
            else:
                decls.append([Tok("id", "var"), *stmt[1:]])
            i = j + 1
        else:
            i += 1
    return funcs, decls


# ---------------------------------------------------------------- output


def encode(v: Any) -> Any:
    """A Str as a recipe: literals concealed, random parts as their regex."""
    if isinstance(v, Str):
        return [_encode_part(p) for p in v.parts]
    if isinstance(v, Samples):
        return {"samples": conceal(v.identifier), "secret": encode(v.secret)}
    raise Unsupported(f"not a sample: {type(v).__name__}")


def _encode_part(p: Part) -> Part:
    if p[0] == "l":
        return ["l", conceal(p[1])]
    if p[0] == "b64":
        return ["b64", p[1], [_encode_part(q) for q in p[2]]]
    return list(p)


def git_show(git_dir: str, rev: str, path: str) -> str:
    """A file at a revision."""
    return subprocess.run(
        ["git", "--git-dir", git_dir, "show", f"{rev}:{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def templates(src: str) -> dict[str, str]:
    """The assignment contexts of GenerateSampleSecrets (generate.go's `samples` map)."""
    toks = tokenize(src)
    funcs, _ = split_file(toks)
    body = funcs["GenerateSampleSecrets"]
    env = run_func(body, {}, {}, stop_at="replacer")
    return {k: v.literal() for k, v in sorted(env["samples"].items())}


def extract(git_dir: str, rev: str) -> dict[str, Any]:
    """Every rule's samples as recipes; exits naming any rule it cannot evaluate."""
    commit = subprocess.run(
        ["git", "--git-dir", git_dir, "rev-parse", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    names = subprocess.run(
        ["git", "--git-dir", git_dir, "ls-tree", "--name-only", commit, f"{RULES_DIR}/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    files = {n: tokenize(git_show(git_dir, commit, n)) for n in sorted(names) if n.endswith(".go")}
    funcs: dict[str, list[Tok]] = {}
    env: dict[str, Any] = {}
    decls: list[list[Tok]] = []
    for toks in files.values():
        f, d = split_file(toks)
        funcs.update(f)
        decls.extend(d)
    for _ in range(3):  # package-level vars may refer to each other
        for d in decls:
            run_func(d, env, funcs)
    rules: list[dict[str, Any]] = []
    problems: list[str] = []
    for path, toks in files.items():
        f, _ = split_file(toks)
        for name, body in f.items():
            if not any(t.text in ("Validate", "ValidateWithPaths") for t in body):
                continue
            try:
                local = run_func(body, dict(env), funcs)
            except Unsupported as e:
                problems.append(f"{Path(path).name}: {name}: {e}")
                continue
            v = local.get("return")
            r = v.rule if isinstance(v, _Validate) else None
            rid = r.fields.get("RuleID") if isinstance(r, _Struct) else None
            if not isinstance(v, _Validate) or not isinstance(rid, Str):
                problems.append(f"{Path(path).name}: {name}: no RuleID")
                continue
            tps, fps = v.tps, v.fps
            rule: dict[str, Any] = {"id": rid.literal(), "file": Path(path).name, "func": name}
            for key, v in (("positives", tps), ("negatives", fps)):
                if isinstance(v, dict):
                    rule[key] = [{"path": p, "text": encode(s)} for p, s in sorted(v.items())]
                else:
                    rule[key] = [{"text": encode(s)} for s in _as_list(v)]
            rules.append(rule)
    if problems:
        raise SystemExit("cannot evaluate:\n" + "\n".join(problems))
    rules.sort(key=lambda r: (r["id"], r["func"]))
    contexts = templates(git_show(git_dir, commit, GENERATE_GO))
    return {
        "source": "https://github.com/gitleaks/gitleaks",
        "commit": commit,
        "about": "recipes, not samples: see scripts/extract_gitleaks_samples.py",
        "templates": {k: conceal(v) for k, v in contexts.items()},
        "rules": rules,
    }


def main(argv: list[str] | None = None) -> int:
    """Write the recipes file."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("git_dir", help="a gitleaks clone or mirror (its git directory)")
    ap.add_argument("--rev", default="HEAD")
    ap.add_argument("--out", default="tests/secrets/gitleaks_samples.json")
    a = ap.parse_args(argv)
    data = extract(a.git_dir, a.rev)
    Path(a.out).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", "utf-8")
    n_pos = sum(len(r["positives"]) for r in data["rules"])
    n_neg = sum(len(r["negatives"]) for r in data["rules"])
    print(f"{len(data['rules'])} rules, {n_pos} positive and {n_neg} negative recipes -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
