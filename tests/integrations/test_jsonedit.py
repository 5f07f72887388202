"""The JSON/JSONC editor changes only the bytes it must (settings round trip byte for byte)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pretense_dev.integrations.jsonedit import Document, JsonEditError, parse

# -- generated documents with random layout --------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.text(alphabet='ab/é"\\ \n{}', max_size=6),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(alphabet="abcxyz_{}", min_size=1, max_size=5), inner, max_size=4),
    ),
    max_leaves=12,
)


def render(value: Any, data: st.DataObject, jsonc: bool, indent: str, unit: str) -> str:
    """`value` as text with random (but valid) layout, comments and trailing commas."""

    def gap() -> str:
        if jsonc and data.draw(st.integers(0, 6)) == 0:
            return data.draw(st.sampled_from([" /* c */ ", " // note\n" + indent + unit]))
        return data.draw(st.sampled_from(["", " "]))

    if isinstance(value, dict | list) and value:
        multiline = data.draw(st.booleans())
        inner = indent + unit
        colon = data.draw(st.sampled_from([": ", ":", " : "]))
        parts = []
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            body = render(v, data, jsonc, inner, unit)
            parts.append(
                (json.dumps(k, ensure_ascii=False) + colon if isinstance(value, dict) else "")
                + body
            )
        trailing = "," if jsonc and data.draw(st.booleans()) else ""
        opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
        if multiline:

            def note() -> str:
                if jsonc and data.draw(st.integers(0, 3)) == 0:
                    notes = [" // n", " /* n */", "\n" + inner + "// own"]
                    return data.draw(st.sampled_from(notes))
                return ""

            body = ""
            for i, part in enumerate(parts):
                body += part
                if i < len(parts) - 1:
                    body += "," + note() + "\n" + inner
            tail = gap() if jsonc else ""
            return (
                opening
                + tail.rstrip(" ")
                + "\n"
                + inner
                + body
                + trailing
                + note()
                + "\n"
                + indent
                + closing
            )
        sep = data.draw(st.sampled_from([",", ", "]))
        return opening + gap() + sep.join(parts) + trailing + gap() + closing
    return json.dumps(value, ensure_ascii=False)


def containers(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    out: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(value, dict):
        out.append((path, "object"))
        for k, v in value.items():
            out.extend(containers(v, (*path, k)))
    elif isinstance(value, list):
        out.append((path, "array"))
        for i, v in enumerate(value):
            out.extend(containers(v, (*path, i)))
    return out


@settings(max_examples=300, deadline=None)
@given(st.data(), values, values, st.booleans())
def test_insert_then_remove_gives_back_the_original_bytes(
    data: st.DataObject, doc_value: Any, new: Any, jsonc: bool
) -> None:
    root = doc_value if isinstance(doc_value, dict) else {"root": doc_value}
    unit = data.draw(st.sampled_from(["  ", "    ", "\t"]))
    text = render(root, data, jsonc, "", unit) + data.draw(st.sampled_from(["", "\n"]))
    assert parse(text, strict=not jsonc).to_python() == root
    path, kind = data.draw(st.sampled_from(containers(root)))
    doc = Document(text, strict=not jsonc)
    if kind == "object":
        key = "pretense-new-key"
        doc.set([*path, key], new)
        expect = json.loads(json.dumps(root))
        target = expect
        for p in path:
            target = target[p]
        target[key] = new
        assert doc.value() == expect
        assert list(doc.get(list(path)))[-1] == key  # appended at the end: order kept
        doc.delete([*path, key])
    else:
        doc.append(list(path), new)
        n = len(doc.get(list(path)))
        assert doc.get([*path, n - 1]) == new
        doc.delete([*path, n - 1])
    assert doc.text == text


@settings(max_examples=150, deadline=None)
@given(st.data(), st.dictionaries(st.sampled_from(["a", "b", "c"]), values, min_size=1), values)
def test_replace_then_restore_raw_gives_back_the_original_bytes(
    data: st.DataObject, root: dict[str, Any], new: Any
) -> None:
    text = render(root, data, True, "", "  ")
    doc = Document(text, strict=False)
    key = data.draw(st.sampled_from(sorted(root)))
    raw = doc.raw([key])
    assert raw is not None
    doc.set([key], new)
    assert doc.get([key]) == new
    assert list(doc.value()) == list(root)  # the key kept its place
    doc.replace_raw([key], raw)
    assert doc.text == text


def test_comments_and_layout_survive_an_edit() -> None:
    text = (
        "// user settings\n"
        "{\n"
        '    "editor.fontSize": 14, // big\n'
        "    /* block */\n"
        '    "files.exclude" : {"**/.git": true,},\n'
        "}\n"
    )
    doc = Document(text, strict=False)
    doc.set(["pretense"], {"on": True})
    assert doc.text == (
        "// user settings\n"
        "{\n"
        '    "editor.fontSize": 14, // big\n'
        "    /* block */\n"
        '    "files.exclude" : {"**/.git": true,},\n'
        '    "pretense": {\n'
        '        "on": true\n'
        "    },\n"
        "}\n"
    )
    doc.delete(["pretense"])
    assert doc.text == text


def test_comment_after_last_member_stays_with_it() -> None:
    text = '{\n  "a": 1 // about a\n}\n'
    doc = Document(text, strict=False)
    doc.set(["b"], 2)
    assert doc.text == '{\n  "a": 1, // about a\n  "b": 2\n}\n'
    doc.delete(["b"])
    assert doc.text == text


def test_nested_parents_are_created_in_one_insertion() -> None:
    doc = Document('{\n\t"x": 1\n}', strict=True)
    doc.set(["env", "ANTHROPIC_BASE_URL"], "http://127.0.0.1:9339/r/abc")
    assert (
        doc.text
        == '{\n\t"x": 1,\n\t"env": {\n\t\t"ANTHROPIC_BASE_URL": "http://127.0.0.1:9339/r/abc"\n\t}\n}'
    )
    doc.delete(["env"])
    assert doc.text == '{\n\t"x": 1\n}'


def test_empty_object_gets_a_multiline_member_and_comes_back_empty() -> None:
    doc = Document("{}\n", strict=True)
    doc.set(["a"], [1])
    assert doc.text == '{\n  "a": [\n    1\n  ]\n}\n'
    doc.delete(["a"])
    assert doc.text == "{}\n"


def test_crlf_files_stay_crlf() -> None:
    text = '{\r\n  "a": 1\r\n}\r\n'
    doc = Document(text, strict=True)
    doc.set(["b"], {"c": 2})
    assert "\n" not in doc.text.replace("\r\n", "")
    doc.delete(["b"])
    assert doc.text == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1, // c\n}', "line 1 column 10: comments are not allowed in strict JSON"),
        ('{"a": 1,}', "line 1 column 9: trailing commas are not allowed in strict JSON"),
        ('{"a": 1', "unexpected end of file"),
        ("{'a': 1}", "line 1 column 2: expected a string key"),
        ('{"a": 1} x', "unexpected text after the JSON value"),
    ],
)
def test_strict_mode_refuses_what_claude_code_would_ignore(text: str, message: str) -> None:
    with pytest.raises(JsonEditError, match=message):
        Document(text, strict=True)


def test_duplicate_keys_are_refused_rather_than_guessed() -> None:
    doc = Document('{"env": {}, "env": {"A": "1"}}', strict=True)
    with pytest.raises(JsonEditError, match="appears 2 times"):
        doc.set(["env", "B"], "2")


def test_keys_with_braces_are_not_format_strings() -> None:
    doc = Document("{}", strict=True)
    doc.set(["{value}"], "{x}")
    assert doc.get(["{value}"]) == "{x}"
