"""Document URIs: one key per document, however the client spelled its URI.

Clients percent-encode differently: VS Code sends `file:///c%3A/Users/…` on
Windows and encodes spaces, `#` and non-ASCII; Neovim and Helix encode some of
those and not others.  pygls stores an open document under the *decoded* URI,
so every lookup must decode the same way, once: a handler that looks a
document up by the URI as sent finds nothing for `my repo/café.py`, and the
user gets no diagnostics and no hover, silently.

So every handler turns a client URI into a key here (`key`), and finds the
open document by that key (`lookup`, `find`).  Keys are decoded exactly once
(a file named `100%.py` arrives as `100%25.py`; decoding twice would be
wrong), with the drive letter lower-cased, as pygls turns it into a path.
Anything sent back to the client (diagnostics, edits) uses the URI the client
opened the document with, `TextDocument.uri`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote

if TYPE_CHECKING:
    from pygls.workspace import TextDocument

    from pretense_dev.lsp.server import PretenseLanguageServer

# `file:///C:/…` once decoded; the letter is the only part whose case varies.
_DRIVE = re.compile(r"^(file:///)([A-Za-z])(:)")


def key(uri: str) -> str:
    """The one key of a document for this URI: decoded once, drive letter lower-case."""
    return _DRIVE.sub(lambda m: m[1] + m[2].lower() + m[3], unquote(uri), count=1)


def lookup(ls: PretenseLanguageServer, doc_key: str) -> TextDocument | None:
    """The open document for a key from `key()`, or None if it is not open.

    pygls keys documents by `unquote(uri)` without touching the drive
    letter, so `C:` is tried too when the client opened it that way.
    """
    docs = ls.workspace.text_documents
    doc: TextDocument | None = docs.get(doc_key)
    if doc is None and (m := _DRIVE.match(doc_key)) is not None:
        doc = docs.get(m[1] + m[2].upper() + m[3] + doc_key[m.end() :])
    return doc


def find(ls: PretenseLanguageServer, uri: str) -> TextDocument | None:
    """The open document a client URI names, or None."""
    return lookup(ls, key(uri))
