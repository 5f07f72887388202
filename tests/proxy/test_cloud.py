"""The cloud routes end to end: official SDKs → the real proxy → a loopback upstream.

Claude on Bedrock (``anthropic.AnthropicBedrock`` and botocore's
``bedrock-runtime`` client for Converse), Claude on Vertex
(``anthropic.AnthropicVertex``), Gemini (``google-genai``, API key and
Vertex), Azure OpenAI (``openai.AzureOpenAI`` and the ``/openai/v1`` form).
For each: the upstream never sees a protected name, the client gets real
names back (text, streams, tool inputs, function-call arguments), the audit
has one event with the true vendor, and for Bedrock the upstream checks the
proxy's SigV4 signature with botocore.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import secrets
import string
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from pretense_dev.proxy import history, sigv4
from pretense_dev.proxy.replay import Answer, Recorded, Reply
from pretense_dev.proxy.replay_cloud import cloud_reply
from tests.proxy.conftest import Harness, protected_tokens, start_harness
from tests.proxy.test_secrets import github_token, with_secret

TOOL_INPUT = {"file_path": "billing/ledger.py", "old_string": "reconcile_batch()"}
REAL_TEXT = "LedgerReconciler.reconcile_batch calls apply_credit_note; see MAX_RETRY_BUDGET"
VENDORS = ["anthropic", "openai", "bedrock", "vertex", "azure-openai", "gemini"]


def _key(prefix: str, n: int) -> str:
    return prefix + "".join(
        secrets.choice(string.ascii_uppercase + string.digits) for _ in range(n)
    )


AKID = _key("AKIA", 16)
SECRET = _key("", 40)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    root = tmp_path_factory.mktemp("repo")
    (root / ".pretense").mkdir()
    (root / ".pretense" / "config.toml").write_text(
        f"version = 1\n[proxy]\nvendors = {json.dumps(VENDORS)}\n"
    )
    h = start_harness(root)
    up = h.proxy.settings.upstream_anthropic
    h.proxy.settings.extra_upstreams.update(
        {"bedrock": up, "vertex": up, "gemini": up, "azure-openai": up}
    )
    try:
        yield h
    finally:
        h.bg.close()


@pytest.fixture
def c(cloud: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Harness:
    """The harness, with the proxy's AWS chain seeing only test credentials."""
    cloud.reset()
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(sigv4, "_chain", None)
    answer = Answer(
        text=cloud.mapping.mutate(REAL_TEXT),
        tool_name="Edit",
        tool_input=json.loads(cloud.mapping.mutate(json.dumps(TOOL_INPUT))),
        pieces=7,
    )
    cloud.reply = lambda rec: cloud_reply(rec, answer)
    return cloud


def sent(h: Harness) -> Recorded:
    [rec] = h.upstream.records
    assert not protected_tokens(rec.body.decode(), h.mapping), "a real name reached the vendor"
    return rec


def prompt_names(h: Harness, rec: Recorded) -> None:
    body = rec.body.decode()
    for name in ("reconcile_batch", "LedgerReconciler", "apply_credit_note"):
        assert h.syn(name) in body


def audit(h: Harness, session: str) -> Any:
    event = h.sink.event_for(session)
    assert sum(1 for e in h.sink.events if e.session_id == session) == 1
    return event


SYSTEM = "You edit LedgerReconciler."
USER = "Why does reconcile_batch call apply_credit_note twice?"
TOOL_RESULT = "def reconcile_batch(self):\n    return apply_credit_note()"


def anthropic_messages() -> list[Any]:
    return [
        {"role": "user", "content": USER},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "Read", "input": TOOL_INPUT}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t1", "content": TOOL_RESULT}],
        },
    ]


def check_anthropic_message(msg: Any) -> None:
    assert msg.content[0].text == REAL_TEXT
    assert msg.content[1].input == TOOL_INPUT


# -- Bedrock --------------------------------------------------------------------------

BEDROCK_MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def bedrock_client(
    h: Harness, session: str, key: str = AKID, secret: str = SECRET
) -> anthropic.AnthropicBedrock:
    return anthropic.AnthropicBedrock(
        aws_access_key=key,
        aws_secret_key=secret,
        aws_region="us-west-2",
        base_url=h.base,
        max_retries=0,
        default_headers={"X-Claude-Code-Session-Id": session},
    )


def verify_sigv4(rec: Recorded, port: int, key: str = AKID, secret: str = SECRET) -> None:
    """The upstream's check: botocore recomputes the signature over what arrived."""
    headers = {k.lower(): v for k, v in rec.headers.items()}
    auth = headers["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=" + key + "/")
    assert "/us-west-2/bedrock/aws4_request" in auth
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    req = AWSRequest(
        method=rec.method,
        url=f"http://127.0.0.1:{port}{rec.path}",
        data=rec.body,
        headers={k: headers[k] for k in signed},
    )
    req.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(Credentials(key, secret), "bedrock", "us-west-2")
    want = signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)
    assert auth.endswith("Signature=" + want)


def up_port(h: Harness) -> int:
    return int(h.proxy.settings.upstream_anthropic.rsplit(":", 1)[1])


def test_bedrock_invoke(c: Harness) -> None:
    client = bedrock_client(c, "bedrock-invoke")
    msg = client.messages.create(
        model=BEDROCK_MODEL,
        max_tokens=100,
        system=SYSTEM,
        messages=anthropic_messages(),
    )
    check_anthropic_message(msg)
    rec = sent(c)
    # the SDK sends the model id as it is (":" unescaped); the proxy forwards the path it got
    assert rec.path == "/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke"
    prompt_names(c, rec)
    assert rec.json()["anthropic_version"].startswith(("bedrock-", "20"))
    verify_sigv4(rec, up_port(c))
    event = audit(c, "bedrock-invoke")
    assert (event.vendor, event.model, event.decision) == ("bedrock", BEDROCK_MODEL, "forwarded")
    assert event.identifiers_protected >= 3


def test_bedrock_stream(c: Harness) -> None:
    client = bedrock_client(c, "bedrock-stream")
    with client.messages.stream(
        model=BEDROCK_MODEL, max_tokens=100, system=SYSTEM, messages=anthropic_messages()
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == REAL_TEXT
    check_anthropic_message(final)
    rec = sent(c)
    assert rec.path.endswith("/invoke-with-response-stream")
    verify_sigv4(rec, up_port(c))
    assert audit(c, "bedrock-stream").vendor == "bedrock"


def test_bedrock_resent_conversation_reuses_its_history_and_stays_signed(
    c: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claude Code on Bedrock resends the whole conversation each turn, as on Anthropic's API.

    The history path (only the new messages walked and scanned) must send what
    a whole walk sends, signed over those bytes; a secret in a new message is
    refused after a clean cached history, and nothing of it is forwarded.
    """
    monkeypatch.setattr(history, "MIN_BYTES", 0)  # small test bodies take the history path
    reused: list[bool] = []  # per request: whether remembered messages were reused
    resumed: list[bool] = []  # and whether the base had SHA-256 marks of both bodies
    real_reuse = history.reuse

    def counting(split: history.Split, *args: Any, **kwargs: Any) -> Any:
        done = real_reuse(split, *args, **kwargs)
        reused.append(done is not None and split.base is not None)
        marks = split.base.marks if split.base is not None else None
        resumed.append(marks is not None and None not in (marks.received, marks.sent))
        return done

    monkeypatch.setattr(history, "reuse", counting)
    client = bedrock_client(c, "bedrock-resend")
    conv = anthropic_messages()
    for turn in range(3):
        c.upstream.records.clear()
        client.messages.create(model=BEDROCK_MODEL, max_tokens=100, system=SYSTEM, messages=conv)
        rec = sent(c)
        prompt_names(c, rec)
        verify_sigv4(rec, up_port(c))
        assert [m["role"] for m in rec.json()["messages"]] == [m["role"] for m in conv]
        conv = [
            *conv,
            {"role": "assistant", "content": [{"type": "text", "text": f"turn {turn}"}]},
            {"role": "user", "content": f"and reconcile_batch in turn {turn}?"},
        ]
    assert reused == [False, True, True]  # turns 2 and 3 walked only their new messages
    assert resumed == [False, True, True]  # and hashed only the bytes after the last turn's
    c.upstream.records.clear()
    leaked = [*conv[:-1], {"role": "user", "content": with_secret(github_token())}]
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model=BEDROCK_MODEL, max_tokens=100, system=SYSTEM, messages=leaked)
    assert c.upstream.records == []


def test_bedrock_resend_changed_after_signing_is_refused(
    c: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resend's body hash resumes remembered states: a changed byte still fails the check.

    After two clean turns (the second resumes the first's hash states), a
    third turn signed by the client is changed on the way, in its new message
    or in the history already seen; each is refused and nothing is sent.
    """
    monkeypatch.setattr(history, "MIN_BYTES", 0)
    path = raw_path(c, f"model/{BEDROCK_MODEL}/invoke")
    conv: list[dict[str, Any]] = [{"role": "user", "content": USER}]

    def body(messages: list[dict[str, Any]]) -> bytes:
        return json.dumps(
            {"anthropic_version": "bedrock-2023-05-31", "messages": messages}
        ).encode()

    for turn in range(2):
        data = body(conv)
        status, _, answer = c.raw(path, data, headers=client_signature(c, path, data))
        assert status == 200, answer
        verify_sigv4(sent(c), up_port(c))
        c.upstream.records.clear()
        conv = [
            *conv,
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": f"{turn}"},
        ]
    data = body(conv)
    headers = client_signature(c, path, data)
    assert data.count(b"twice") == 1 and data.rindex(b'"ok"') > data.index(b"twice")
    for changed in (
        data.replace(b"twice", b"thrice"),  # in the history the proxy has seen
        data[: data.rindex(b'"ok"')] + b'"OK"' + data[data.rindex(b'"ok"') + 4 :],  # new part
    ):
        status, _, answer = c.raw(path, changed, headers=headers)
        assert status == 403 and b"does not verify" in answer
    assert c.upstream.records == []
    status, _, answer = c.raw(path, data, headers=headers)
    assert status == 200, answer
    verify_sigv4(sent(c), up_port(c))


def test_bedrock_other_identity_is_refused(c: Harness) -> None:
    client = bedrock_client(c, "bedrock-other", key=_key("AKIA", 16))
    with pytest.raises(anthropic.PermissionDeniedError, match="re-signs only as the identity"):
        client.messages.create(model=BEDROCK_MODEL, max_tokens=10, messages=anthropic_messages())
    assert c.upstream.records == []
    assert audit(c, "bedrock-other").decision == "blocked"


def test_bedrock_no_credentials_is_refused(c: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    client = bedrock_client(c, "bedrock-nocreds")
    with pytest.raises(anthropic.AuthenticationError, match="finds no AWS credentials"):
        client.messages.create(model=BEDROCK_MODEL, max_tokens=10, messages=anthropic_messages())
    assert c.upstream.records == []


def test_bedrock_rotated_credentials_are_picked_up(
    c: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Keys from the credentials file: resolved once, and again once the file changes."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setattr(sigv4, "RECHECK", 0.0)  # look at the files on every request
    resolved: list[object] = []

    class Counted(sigv4._Chain):
        def __init__(self) -> None:
            super().__init__()
            resolved.append(self)

    monkeypatch.setattr(sigv4, "_Chain", Counted)
    old, new = (_key("AKIA", 16), _key("", 40)), (_key("AKIA", 16), _key("", 40))
    credentials = tmp_path / "aws-credentials"  # AWS_SHARED_CREDENTIALS_FILE

    def rotate(key: tuple[str, str]) -> None:
        credentials.write_text(
            f"[default]\naws_access_key_id = {key[0]}\naws_secret_access_key = {key[1]}\n"
        )

    def ask(key: tuple[str, str]) -> None:
        client = bedrock_client(c, "bedrock-rotate", key=key[0], secret=key[1])
        msg = client.messages.create(
            model=BEDROCK_MODEL, max_tokens=10, messages=anthropic_messages()
        )
        check_anthropic_message(msg)
        verify_sigv4(c.upstream.records[-1], up_port(c), *key)

    rotate(old)
    ask(old)
    ask(old)
    assert len(resolved) == 1  # the chain is not run again for each request
    rotate(new)
    ask(new)
    assert len(resolved) == 2
    with pytest.raises(anthropic.PermissionDeniedError, match="re-signs only as the identity"):
        ask(old)
    assert len(c.upstream.records) == 3


def test_bedrock_refreshed_credentials_are_picked_up(
    c: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Credentials that expire (here from ``credential_process``) refresh in botocore."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setattr(sigv4, "RECHECK", 3600.0)  # not by looking at the files
    keys = tmp_path / "keys.json"
    process = tmp_path / "credential_process.py"
    # Valid for a minute: botocore asks again before each use (it refreshes within 10 minutes).
    process.write_text(
        "import datetime, json, sys\n"
        f"key = json.load(open({str(keys)!r}))\n"
        "end = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=1)\n"
        "key.update(Version=1, Expiration=end.isoformat())\n"
        "json.dump(key, sys.stdout)\n"
    )
    (tmp_path / "aws-config").write_text(  # AWS_CONFIG_FILE
        f"[default]\ncredential_process = {sys.executable} {process}\n"
    )
    for _ in range(2):
        key = (_key("AKIA", 16), _key("", 40))
        keys.write_text(json.dumps({"AccessKeyId": key[0], "SecretAccessKey": key[1]}))
        client = bedrock_client(c, "bedrock-refresh", key=key[0], secret=key[1])
        msg = client.messages.create(
            model=BEDROCK_MODEL, max_tokens=10, messages=anthropic_messages()
        )
        check_anthropic_message(msg)
        verify_sigv4(c.upstream.records[-1], up_port(c), *key)


def boto_client(h: Harness) -> Any:
    import boto3

    return boto3.client(
        "bedrock-runtime",
        region_name="us-west-2",
        endpoint_url=h.base,
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
    )


def converse_messages() -> list[Any]:
    return [
        {"role": "user", "content": [{"text": USER}]},
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "t1", "name": "Read", "input": TOOL_INPUT}}],
        },
        {
            "role": "user",
            "content": [
                {"toolResult": {"toolUseId": "t1", "content": [{"text": TOOL_RESULT}]}},
            ],
        },
    ]


def test_bedrock_converse_with_botocore(c: Harness) -> None:
    out = boto_client(c).converse(
        modelId=BEDROCK_MODEL, system=[{"text": SYSTEM}], messages=converse_messages()
    )
    content = out["output"]["message"]["content"]
    assert content[0]["text"] == REAL_TEXT
    assert content[1]["toolUse"]["input"] == TOOL_INPUT
    rec = sent(c)
    prompt_names(c, rec)
    verify_sigv4(rec, up_port(c))


def test_bedrock_converse_stream_with_botocore(c: Harness) -> None:
    out = boto_client(c).converse_stream(
        modelId=BEDROCK_MODEL, system=[{"text": SYSTEM}], messages=converse_messages()
    )
    text, tool_json = "", ""
    for ev in out["stream"]:
        delta = ev.get("contentBlockDelta", {}).get("delta", {})
        text += delta.get("text", "")
        tool_json += delta.get("toolUse", {}).get("input", "")
    assert text == REAL_TEXT
    assert json.loads(tool_json) == TOOL_INPUT
    verify_sigv4(sent(c), up_port(c))


# -- Vertex (Claude) --------------------------------------------------------------------


def vertex_client(h: Harness, session: str) -> anthropic.AnthropicVertex:
    return anthropic.AnthropicVertex(
        region="us-east5",
        project_id="acme-proj",
        access_token="ya29.test-token",
        base_url=h.base + "/v1",
        max_retries=0,
        default_headers={"X-Claude-Code-Session-Id": session},
    )


def test_vertex_claude(c: Harness) -> None:
    msg = vertex_client(c, "vertex").messages.create(
        model="claude-sonnet-4-5@20250929",
        max_tokens=100,
        system=SYSTEM,
        messages=anthropic_messages(),
    )
    check_anthropic_message(msg)
    rec = sent(c)
    assert rec.path == (
        "/v1/projects/acme-proj/locations/us-east5/publishers/anthropic/models/"
        "claude-sonnet-4-5@20250929:rawPredict"
    )
    assert rec.headers["Authorization"] == "Bearer ya29.test-token"
    prompt_names(c, rec)
    event = audit(c, "vertex")
    assert (event.vendor, event.model) == ("vertex", "claude-sonnet-4-5@20250929")


def test_vertex_claude_stream(c: Harness) -> None:
    with vertex_client(c, "vertex-stream").messages.stream(
        model="claude-sonnet-4-5@20250929", max_tokens=100, messages=anthropic_messages()
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == REAL_TEXT
    check_anthropic_message(final)
    assert sent(c).path.endswith(":streamRawPredict")


# -- Gemini ---------------------------------------------------------------------------------


def gemini_contents() -> list[Any]:
    from google.genai import types

    return [
        types.Content(role="user", parts=[types.Part(text=USER)]),
        types.Content(
            role="model",
            parts=[types.Part(function_call=types.FunctionCall(name="Read", args=TOOL_INPUT))],
        ),
        types.Content(
            role="user",
            parts=[
                types.Part(
                    function_response=types.FunctionResponse(
                        name="Read", response={"output": TOOL_RESULT}
                    )
                )
            ],
        ),
    ]


def gemini_client(h: Harness, session: str, vertex: bool = False) -> Any:
    from google import genai
    from google.genai import types

    options = types.HttpOptions(
        base_url=h.base, headers={"X-Claude-Code-Session-Id": session}, retry_options=None
    )
    if vertex:
        from google.oauth2.credentials import Credentials as GoogleCredentials

        return genai.Client(
            vertexai=True,
            project="acme-proj",
            location="us-central1",
            credentials=GoogleCredentials(token="ya29.test-token"),  # type: ignore[no-untyped-call]
            http_options=options,
        )
    return genai.Client(api_key="gemini-test-key", http_options=options)


def gemini_config() -> Any:
    from google.genai import types

    return types.GenerateContentConfig(
        system_instruction=SYSTEM,
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )


def check_gemini(resp: Any) -> None:
    parts = resp.candidates[0].content.parts
    assert parts[0].text == REAL_TEXT
    assert parts[1].function_call.args == TOOL_INPUT


@pytest.mark.parametrize("vertex", [False, True], ids=["gemini-api", "vertex"])
def test_gemini_generate(c: Harness, vertex: bool) -> None:
    session = f"gemini-{vertex}"
    client = gemini_client(c, session, vertex)  # kept: a dropped Client closes its transport
    resp = client.models.generate_content(
        model="gemini-2.5-pro", contents=gemini_contents(), config=gemini_config()
    )
    check_gemini(resp)
    rec = sent(c)
    prompt_names(c, rec)
    body = rec.json()
    assert c.syn("LedgerReconciler") in body["systemInstruction"]["parts"][0]["text"]
    if vertex:
        assert rec.path == (
            "/v1beta1/projects/acme-proj/locations/us-central1/publishers/google/models/"
            "gemini-2.5-pro:generateContent"
        )
        assert rec.headers["Authorization"] == "Bearer ya29.test-token"
    else:
        # google-genai's default API version (v1); Gemini CLI sends v1beta (the raw test below)
        assert rec.path == "/v1/models/gemini-2.5-pro:generateContent"
        assert rec.headers["x-goog-api-key"] == "gemini-test-key"
    event = audit(c, session)
    assert (event.vendor, event.model) == ("vertex" if vertex else "gemini", "gemini-2.5-pro")


def test_gemini_stream_sse(c: Harness) -> None:
    text, calls = "", []
    client = gemini_client(c, "gemini-stream")
    for chunk in client.models.generate_content_stream(
        model="gemini-2.5-pro", contents=gemini_contents(), config=gemini_config()
    ):
        for part in chunk.candidates[0].content.parts or ():
            text += part.text or ""
            if part.function_call is not None:
                calls.append(part.function_call.args)
    assert text == REAL_TEXT
    assert calls == [TOOL_INPUT]
    rec = sent(c)
    assert rec.path.endswith(":streamGenerateContent") and "alt=sse" in rec.query


def test_gemini_stream_json_array(c: Harness) -> None:
    status, _, body = c.raw(
        f"/r/{c.base.rsplit('/', 1)[1]}/v1beta/models/gemini-2.5-pro:streamGenerateContent",
        json.dumps({"contents": [{"role": "user", "parts": [{"text": USER}]}]}).encode(),
        headers={"x-goog-api-key": "gemini-test-key"},
    )
    assert status == 200
    chunks = json.loads(body)
    text = "".join(
        p.get("text", "") for ch in chunks for p in ch["candidates"][0]["content"]["parts"]
    )
    assert text == REAL_TEXT
    sent(c)


def test_gemini_count_tokens(c: Harness) -> None:
    client = gemini_client(c, "gemini-count")
    resp = client.models.count_tokens(model="gemini-2.5-pro", contents=USER)
    assert resp.total_tokens == 2095
    rec = sent(c)
    assert rec.path.endswith(":countTokens")
    assert c.syn("reconcile_batch") in rec.body.decode()


def test_gemini_secret_is_blocked(c: Harness) -> None:
    from google.genai import errors

    token = "ghp_" + "".join(
        secrets.choice(string.ascii_letters + string.digits) for _ in range(36)
    )
    client = gemini_client(c, "gemini-secret")
    with pytest.raises(errors.ClientError) as e:
        client.models.generate_content(
            model="gemini-2.5-pro", contents=f"deploy with {token}", config=gemini_config()
        )
    assert e.value.code == 400 and "contains a secret" in str(e.value)
    assert token not in str(e.value)
    assert c.upstream.records == []
    assert audit(c, "gemini-secret").decision == "blocked"


# -- Azure OpenAI -----------------------------------------------------------------------------


def azure_client(h: Harness, session: str) -> openai.AzureOpenAI:
    return openai.AzureOpenAI(
        azure_endpoint=h.base,
        api_version="2024-10-21",
        api_key="azure-test-key",
        max_retries=0,
        default_headers={"X-Claude-Code-Session-Id": session},
    )


def chat_messages() -> list[Any]:
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": USER},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "Read", "arguments": json.dumps(TOOL_INPUT)},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": TOOL_RESULT},
    ]


def test_azure_chat_deployment(c: Harness) -> None:
    resp = azure_client(c, "azure").chat.completions.create(
        model="gpt4o-prod", messages=chat_messages()
    )
    assert resp.choices[0].message.content == REAL_TEXT
    [call] = resp.choices[0].message.tool_calls or []
    assert json.loads(call.function.arguments) == TOOL_INPUT  # type: ignore[union-attr]
    rec = sent(c)
    assert rec.path == "/openai/deployments/gpt4o-prod/chat/completions"
    assert rec.query == "api-version=2024-10-21"
    assert rec.headers["api-key"] == "azure-test-key"
    prompt_names(c, rec)
    event = audit(c, "azure")
    assert (event.vendor, event.model) == ("azure-openai", "gpt4o-prod")


def test_azure_chat_stream(c: Harness) -> None:
    stream = azure_client(c, "azure-stream").chat.completions.create(
        model="gpt4o-prod", messages=chat_messages(), stream=True
    )
    text, args = "", ""
    for chunk in stream:
        for ch in chunk.choices:
            text += ch.delta.content or ""
            for tc in ch.delta.tool_calls or ():
                args += (tc.function and tc.function.arguments) or ""
    assert text == REAL_TEXT
    assert json.loads(args) == TOOL_INPUT
    sent(c)


def test_azure_v1_responses_with_entra_bearer(c: Harness) -> None:
    client = openai.OpenAI(
        base_url=c.base + "/openai/v1",
        api_key="entra-test-token",
        max_retries=0,
        default_headers={"X-Claude-Code-Session-Id": "azure-v1"},
    )
    resp = client.responses.create(model="gpt4o-prod", instructions=SYSTEM, input=USER)
    assert resp.output_text == REAL_TEXT
    rec = sent(c)
    assert rec.path == "/openai/v1/responses"
    assert rec.headers["Authorization"] == "Bearer entra-test-token"
    prompt_names_in = rec.body.decode()
    assert c.syn("reconcile_batch") in prompt_names_in
    event = audit(c, "azure-v1")
    assert (event.vendor, event.model) == ("azure-openai", "gpt4o-prod")


def test_azure_without_endpoint_is_refused(c: Harness) -> None:
    del c.proxy.settings.extra_upstreams["azure-openai"]
    try:
        with pytest.raises(openai.APIStatusError, match="--upstream azure-openai="):
            azure_client(c, "azure-unset").chat.completions.create(
                model="gpt4o-prod", messages=chat_messages()
            )
    finally:
        c.proxy.settings.extra_upstreams["azure-openai"] = c.proxy.settings.upstream_anthropic
    assert c.upstream.records == []


# -- policy ------------------------------------------------------------------------------------


def test_unapproved_cloud_is_refused_with_the_reason(tmp_path: Path) -> None:
    h = start_harness(tmp_path)  # default policy: anthropic and openai only
    try:
        h.reply = lambda rec: Reply([b"{}"])
        with pytest.raises(anthropic.PermissionDeniedError, match="to vertex"):
            vertex_client(h, "vertex-denied").messages.create(
                model="claude-x", max_tokens=10, messages=[{"role": "user", "content": USER}]
            )
        assert h.upstream.records == []
    finally:
        h.bg.close()


# -- deny by default, wrong shapes ------------------------------------------------------------


def client_signature(
    h: Harness, path: str, body: bytes, key: str = SECRET, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """What an AWS SDK adds: a SigV4 signature over the request to the proxy."""
    req = AWSRequest(
        method="POST",
        url=f"http://127.0.0.1:{h.port}{path}",
        data=body,
        headers={"Content-Type": "application/json", **(extra or {})},
    )
    SigV4Auth(Credentials(AKID, key), "bedrock", "us-west-2").add_auth(req)
    return {k: v for k, v in req.headers.items() if k.lower() != "content-type"}


def test_bedrock_unsigned_or_forged_is_refused(c: Harness) -> None:
    path = raw_path(c, f"model/{BEDROCK_MODEL}/invoke")
    data = json.dumps({"messages": [{"role": "user", "content": USER}]}).encode()
    status, _, body = c.raw(path, data)
    assert status == 401 and b"CLAUDE_CODE_SKIP_BEDROCK_AUTH" in body
    # the right access key id, but not signed with its secret
    status, _, body = c.raw(path, data, headers=client_signature(c, path, data, _key("", 40)))
    assert status == 403 and b"does not verify" in body
    # signed, then the body changed on the way
    headers = client_signature(c, path, data)
    status, _, body = c.raw(path, data.replace(b"twice", b"thrice"), headers=headers)
    assert status == 403 and b"does not verify" in body
    assert c.upstream.records == []
    status, _, body = c.raw(path, data, headers=client_signature(c, path, data))
    assert status == 200, body
    verify_sigv4(sent(c), up_port(c))


def test_bedrock_forged_after_a_good_request_is_refused(c: Harness) -> None:
    """With the signing key and the path cached by a good request, forgeries still fail."""
    path = raw_path(c, f"model/{BEDROCK_MODEL}/invoke")
    data = json.dumps({"messages": [{"role": "user", "content": USER}]}).encode()
    status, _, body = c.raw(path, data, headers=client_signature(c, path, data))
    assert status == 200, body
    verify_sigv4(sent(c), up_port(c))
    # the right access key id, another secret key
    status, _, body = c.raw(path, data, headers=client_signature(c, path, data, _key("", 40)))
    assert status == 403 and b"does not verify" in body
    # a signed body hash (the signature then stands for it, not for the body) and another body
    claim = {"X-Amz-Content-SHA256": hashlib.sha256(data).hexdigest()}
    headers = client_signature(c, path, data, extra=claim)
    status, _, body = c.raw(path, data.replace(b"twice", b"thrice"), headers=headers)
    assert status == 403 and b"does not verify" in body
    unsigned = {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}
    status, _, body = c.raw(path, data, headers=client_signature(c, path, data, extra=unsigned))
    assert status == 403 and b"does not verify" in body
    assert len(c.upstream.records) == 1


def test_bedrock_lower_case_content_type_is_signed_as_sent(c: Harness) -> None:
    """Clients on fetch (Claude Code) send ``content-type``: one value goes up, one is signed."""
    path = raw_path(c, f"model/{BEDROCK_MODEL}/invoke")
    data = json.dumps({"messages": [{"role": "user", "content": USER}]}).encode()
    req = AWSRequest(
        method="POST",
        url=f"http://127.0.0.1:{c.port}{path}",
        data=data,
        headers={"content-type": "application/json"},
    )
    SigV4Auth(Credentials(AKID, SECRET), "bedrock", "us-west-2").add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=10)
    conn.request("POST", path, data, dict(req.headers.items()))  # names as given: lower case
    answer = conn.getresponse()
    assert answer.status == 200, answer.read()
    conn.close()
    # the upstream's check, over the one content-type value it received
    verify_sigv4(sent(c), up_port(c))


def raw_path(h: Harness, tail: str) -> str:
    return f"/r/{h.base.rsplit('/', 1)[1]}/{tail}"


def test_every_unknown_field_is_mutated(c: Harness) -> None:
    converse = {
        "messages": [{"role": "user", "content": [{"text": USER}, {"newBlock": {"x": USER}}]}],
        "requestMetadata": {"ticket": "fix reconcile_batch"},
        "inferenceConfig": {"maxTokens": 10},
    }
    path = raw_path(c, f"model/{BEDROCK_MODEL}/converse")
    data = json.dumps(converse).encode()
    status, _, resp = c.raw(path, data, headers=client_signature(c, path, data))
    assert status == 200, resp
    body = sent(c).json()
    assert body["requestMetadata"]["ticket"] == "fix " + c.syn("reconcile_batch")
    assert c.syn("apply_credit_note") in body["messages"][0]["content"][1]["newBlock"]["x"]
    c.upstream.records.clear()
    gemini = {
        "contents": [{"role": "user", "parts": [{"text": USER}, {"futurePart": USER}]}],
        "generationConfig": {"stopSequences": ["LedgerReconciler"]},
    }
    status, _, _ = c.raw(
        raw_path(c, "v1beta/models/gemini-2.5-pro:generateContent"),
        json.dumps(gemini).encode(),
        headers={"x-goog-api-key": "k"},
    )
    assert status == 200
    body = sent(c).json()
    assert body["generationConfig"]["stopSequences"] == [c.syn("LedgerReconciler")]
    assert c.syn("reconcile_batch") in body["contents"][0]["parts"][1]["futurePart"]


def test_wrong_shapes_are_refused_in_the_vendor_format(c: Harness) -> None:
    path = raw_path(c, f"model/{BEDROCK_MODEL}/converse")
    data = json.dumps({"messages": {"role": "user"}}).encode()
    status, _, body = c.raw(path, data, headers=client_signature(c, path, data))
    assert status == 400
    assert json.loads(body)["message"].startswith("pretense-dev cannot protect this request")
    status, _, body = c.raw(
        raw_path(c, "v1beta/models/gemini-2.5-pro:generateContent"),
        json.dumps({"contents": [{"parts": "reconcile_batch"}]}).encode(),
    )
    assert status == 400
    err = json.loads(body)["error"]
    assert (err["code"], err["status"]) == (400, "INVALID_ARGUMENT")
    assert "contents[0].parts must be a list" in err["message"]
    assert c.upstream.records == []


def test_bedrock_damaged_frame_ends_the_stream_with_an_error(c: Harness) -> None:
    from pretense_dev.proxy.replay_cloud import invoke_frames

    frames = invoke_frames(Answer(text=c.mapping.mutate(REAL_TEXT), pieces=4))
    bad = bytearray(frames[3])
    bad[-8] ^= 0x01  # payload byte: the message CRC no longer matches
    c.reply = lambda rec: Reply(
        [*frames[:3], bytes(bad), *frames[4:]], content_type="application/vnd.amazon.eventstream"
    )
    client = bedrock_client(c, "bedrock-damaged")
    with (
        pytest.raises(anthropic.APIError, match="upstream stream broke"),
        client.messages.stream(
            model=BEDROCK_MODEL, max_tokens=10, messages=anthropic_messages()
        ) as stream,
    ):
        for _ in stream.text_stream:
            pass
    assert "upstream stream broke" in audit(c, "bedrock-damaged").reason
