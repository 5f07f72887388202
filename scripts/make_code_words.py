"""Build `pretense_dev/identifiers/data/codewords.txt`: words generic *in code*.

A single-word name is worth hiding when it says what the business is
(``refund``, ``tariff``, ``clinic``) and not when every codebase has it
(``param``, ``wrapper``, ``redirect``).  So the list is measured on code, not
prose: the sources of widely used packages from PyPI (wheels, ``.py`` files)
and npm (tarballs, ``.js``/``.ts`` files and their variants), pinned below.
For each package we collect its identifiers, lower-cased, and their word parts
(``snake_case`` and ``camelCase`` split); a word is generic when it appears in
at least `MIN_SHARE` of the packages.  The list and the licence of every
package it was built from (read from each package's own metadata) are written
beside each other; run it again to reproduce them::

    .venv/bin/python scripts/make_code_words.py

It needs ``pip`` and ``npm`` and the two registries; nothing else.
"""

from __future__ import annotations

import collections
import email.parser
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PYPI = [
    "requests==2.32.3",
    "urllib3==2.2.3",
    "click==8.1.7",
    "flask==3.0.3",
    "jinja2==3.1.4",
    "werkzeug==3.0.4",
    "attrs==24.2.0",
    "packaging==24.1",
    "six==1.16.0",
    "idna==3.10",
    "pyyaml==6.0.2",
    "rich==13.8.1",
    "pytest==8.3.3",
    "pluggy==1.5.0",
    "sqlalchemy==2.0.35",
    "django==5.1.1",
    "boto3==1.35.24",
    "botocore==1.35.24",
    "pydantic==2.9.2",
    "httpx==0.27.2",
    "aiohttp==3.10.5",
    "setuptools==75.1.0",
    "numpy==2.1.1",
    "pandas==2.2.3",
    "python-dateutil==2.9.0.post0",
    "certifi==2024.8.30",
    "markupsafe==2.1.5",
    "tomli==2.0.1",
    "typing_extensions==4.12.2",
    "docutils==0.21.2",
]
NPM = [
    "lodash@4.17.21",
    "express@4.21.0",
    "react@18.3.1",
    "react-dom@18.3.1",
    "axios@1.7.7",
    "commander@12.1.0",
    "chalk@4.1.2",
    "debug@4.3.7",
    "moment@2.30.1",
    "yargs@17.7.2",
    "async@3.2.6",
    "uuid@10.0.0",
    "semver@7.6.3",
    "glob@11.0.0",
    "minimist@1.2.8",
    "body-parser@1.20.3",
    "rxjs@7.8.1",
    "vue@3.5.8",
    "webpack@5.95.0",
    "eslint@9.11.1",
    "jquery@3.7.1",
    "underscore@1.13.7",
    "ws@8.18.0",
    "mongoose@8.6.3",
    "koa@2.15.3",
    "prettier@3.3.3",
    "typescript@5.6.2",
    "@babel/core@7.25.2",
    "redux@5.0.1",
    "next@14.2.13",
]
MIN_SHARE = 0.2  # a word in at least a fifth of the packages is generic
MAX_FILE = 3_000_000  # bytes; larger files are bundles that repeat the rest
ID = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
WORD = re.compile(r"[a-z_][a-z0-9_]*")
JS_FILE = re.compile(r"\.(?:js|mjs|cjs|jsx|ts|mts|cts|tsx)$")
DATA = Path(__file__).resolve().parent.parent / "pretense_dev" / "identifiers" / "data"


def words_of(data: bytes, out: set[str]) -> None:
    """Every identifier of `data`, lower-cased, and each of its word parts."""
    for raw in set(ID.findall(data)):
        name = raw.decode("ascii")
        out.add(name.lower())
        out.update(p.lower() for p in PART.findall(name))


def wheel_words(path: Path) -> tuple[set[str], str]:
    """The words of a wheel's ``.py`` files, and its licence from METADATA."""
    words: set[str] = set()
    licence = "unknown"
    with zipfile.ZipFile(path) as z:
        for n in z.namelist():
            if n.endswith(".py"):
                words_of(z.read(n), words)
            elif n.endswith(".dist-info/METADATA"):
                meta = email.parser.Parser().parsestr(z.read(n).decode("utf-8", "replace"))
                licence = meta.get("License-Expression") or ""
                if not licence:
                    classifiers = [
                        c.split("::")[-1].strip()
                        for c in meta.get_all("Classifier") or []
                        if c.startswith("License ::")
                    ]
                    licence = "; ".join(classifiers) or (meta.get("License") or "").split("\n")[0]
    return words, licence or "unknown"


def npm_words(path: Path) -> tuple[set[str], str]:
    """The words of a tarball's JS/TS files (minified bundles skipped), and its licence."""
    words: set[str] = set()
    licence = "unknown"
    with tarfile.open(path) as t:
        for m in t.getmembers():
            if not m.isfile() or m.size > MAX_FILE:
                continue
            f = t.extractfile(m)
            if f is None:
                continue
            if m.name.count("/") == 1 and m.name.endswith("/package.json"):
                lic = json.loads(f.read()).get("license", "unknown")
                licence = lic if isinstance(lic, str) else json.dumps(lic)
            elif JS_FILE.search(m.name) and not m.name.endswith(".min.js"):
                words_of(f.read(), words)
    return words, licence


def main() -> int:
    """Download the pinned packages, count words per package, write the list and licences."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "pypi").mkdir()
        (d / "npm").mkdir()
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"]
        subprocess.run([*pip, "--dest", str(d / "pypi"), *PYPI], check=True, capture_output=True)
        subprocess.run(
            ["npm", "pack", "--silent", "--pack-destination", str(d / "npm"), *NPM],
            check=True,
            capture_output=True,
        )
        rows: list[tuple[str, str]] = []
        df: collections.Counter[str] = collections.Counter()
        for spec, path in zip(PYPI, sorted((d / "pypi").iterdir(), key=_pypi_key), strict=True):
            words, licence = wheel_words(path)
            df.update(words)
            rows.append((f"PyPI {spec}", licence))
        for spec, path in zip(NPM, sorted((d / "npm").iterdir(), key=_npm_key), strict=True):
            words, licence = npm_words(path)
            df.update(words)
            rows.append((f"npm {spec}", licence))
    need = MIN_SHARE * (len(PYPI) + len(NPM))
    kept = sorted(w for w, c in df.items() if c >= need and WORD.fullmatch(w))
    header = [
        "# Words generic in code: identifiers (lower-cased) and their word parts that appear in",
        f"# at least {MIN_SHARE:.0%} of {len(PYPI) + len(NPM)} widely used PyPI and npm packages.",
        "# Generated by scripts/make_code_words.py; sources and licences in codewords.LICENSE.md.",
    ]
    (DATA / "codewords.txt").write_text("\n".join(header + kept) + "\n", encoding="utf-8")
    lic = [
        "# Sources of `codewords.txt`",
        "",
        "`scripts/make_code_words.py` reads the source files of these packages, as published on",
        "PyPI (wheels) and npm (tarballs), and keeps only word counts: no code of theirs is",
        "shipped. Each licence is as the package's own metadata declares it.",
        "",
        "| package | licence |",
        "| --- | --- |",
        *[f"| {p} | {lic_} |" for p, lic_ in rows],
    ]
    (DATA / "codewords.LICENSE.md").write_text("\n".join(lic) + "\n", encoding="utf-8")
    print(f"{len(kept)} words from {len(rows)} packages")
    return 0


def _norm(s: str) -> str:
    return re.sub(r"[-_.]+", "_", s).lower()


def _pypi_key(p: Path) -> int:
    name = _norm(p.name.split("-")[0])
    return next(i for i, s in enumerate(PYPI) if _norm(s.split("==")[0]) == name)


def _npm_key(p: Path) -> int:
    stem = p.name.rsplit("-", 1)[0]
    return next(
        i for i, s in enumerate(NPM) if s.rsplit("@", 1)[0].lstrip("@").replace("/", "-") == stem
    )


if __name__ == "__main__":
    raise SystemExit(main())
