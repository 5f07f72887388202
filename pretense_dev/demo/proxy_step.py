"""The demo's proxy step: the official SDKs through a real proxy to a loopback "vendor".

The proxy is started exactly as `pretense-dev proxy start` starts it (a
background process, its state in the demo's temp HOME) with both upstreams
pointing at `replay.ReplayUpstream`, which plays the vendor: it records what it
receives and answers about the names it was sent.  Each exchange is shown as
"what you sent | what the vendor received" and "what the vendor answered |
what you saw".  A prompt carrying a (made-up, built at run time) token shows
the secret guard: the vendor receives nothing.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import TYPE_CHECKING, Any

from pretense_dev.proxy.replay import BackgroundServer, ReplayUpstream, demo_responder

if TYPE_CHECKING:
    from pretense_dev.demo.console import DemoContext


def _fake_token() -> str:
    # Built from parts at run time: the repository never contains a secret-shaped literal.
    alphabet = string.ascii_letters + string.digits
    return "gh" + "p_" + "".join(secrets.choice(alphabet) for _ in range(36))


def run(ctx: DemoContext) -> bool:
    """Start the proxy, send requests with the SDKs, show both sides, stop it."""
    from pretense_dev.demo.console import heading, out
    from pretense_dev.proxy import daemon
    from pretense_dev.repo import Repo

    try:
        import anthropic
        import openai
    except ImportError:
        heading("the proxy")
        out("skipped: the official SDKs are not installed (pip install 'pretense-dev[demo]')")
        return True

    repo = Repo(ctx.repo)
    bg = BackgroundServer()
    vendor = ReplayUpstream(demo_responder)
    vendor_url = f"http://127.0.0.1:{bg.serve(vendor.app)}"
    heading("pretense-dev proxy start")
    try:
        started = daemon.start(
            port=0, upstream_anthropic=vendor_url, upstream_openai=vendor_url + "/v1"
        )
        st = started.state
        base = st.repo_url(repo.repo_id)
        out(f"the proxy is running on {st.url} (pid {st.pid})")
        out(f"this repository's base URL: {base}   (pretense-dev proxy url)")
        out(f"the 'vendor' is a loopback stand-in at {vendor_url} that records what it receives")
        ok = _anthropic(ctx, anthropic, base, vendor)
        ok = _secret(ctx, anthropic, base, vendor) and ok
        ok = _openai(ctx, openai, base, vendor) and ok
    finally:
        heading("pretense-dev proxy stop")
        stopped = daemon.stop()
        out(f"stopped the proxy (pid {stopped.pid})" if stopped else "the proxy was not running")
        bg.close()
    return ok


def _prompt(ctx: DemoContext) -> str:
    code = (ctx.repo / "billing" / "ledger_reconciler.py").read_text(encoding="utf-8")
    snippet = "\n".join(code.splitlines()[14:24])
    return (
        "LedgerReconciler.reconcile_batch reports drift for batches that Halcyon Pay settled "
        "correctly. Why?\n\n" + snippet
    )


def _anthropic(ctx: DemoContext, anthropic: Any, base: str, vendor: ReplayUpstream) -> bool:
    from pretense_dev.demo.console import heading, out, side_by_side

    heading("Anthropic SDK → proxy → vendor (streamed)")
    client = anthropic.Anthropic(base_url=base, api_key="demo-key-not-real", max_retries=0)
    prompt = _prompt(ctx)
    try:
        with client.messages.stream(
            model="claude-sonnet-demo",
            max_tokens=400,
            messages=[{"role": "user", "content": prompt}],
        ) as stream:
            final = stream.get_final_message()
    except anthropic.APIStatusError as e:
        out(f"the proxy refused the request: {e.message}")
        return False
    sent = vendor.records[-1].json()["messages"][0]["content"]
    side_by_side(prompt, sent, ctx.width, ("what you sent", "what the vendor received"))
    out()
    answer_vendor = _vendor_answer(vendor)
    seen = "\n".join(
        b.text if b.type == "text" else f"tool call {b.name}: {json.dumps(b.input)}"
        for b in final.content
    )
    side_by_side(answer_vendor, seen, ctx.width, ("what the vendor answered", "what you saw"))
    leaked = [n for n in ("LedgerReconciler", "reconcile_batch") if n in json.dumps(sent)]
    if leaked:
        out(f"LEAK: {', '.join(leaked)} reached the vendor")
        return False
    return True


def _vendor_answer(vendor: ReplayUpstream) -> str:
    """The vendor's answer as it streamed it (synthetic names), from the same script."""
    reply = vendor.responder(vendor.records[-1])
    text, tool = "", ""
    for chunk in reply.chunks:
        for line in chunk.decode().splitlines():
            if not line.startswith("data: {"):
                continue
            data = json.loads(line[6:])
            delta = data.get("delta")
            if isinstance(delta, dict) and delta.get("type") == "text_delta":
                text += delta["text"]
            elif isinstance(delta, dict) and delta.get("type") == "input_json_delta":
                tool += delta["partial_json"]
            for choice in data.get("choices") or ():
                d = choice.get("delta") or {}
                text += d.get("content") or ""
                for call in d.get("tool_calls") or ():
                    tool += (call.get("function") or {}).get("arguments") or ""
    return f"{text}\ntool call Edit: {tool}" if tool else text


def _secret(ctx: DemoContext, anthropic: Any, base: str, vendor: ReplayUpstream) -> bool:
    from pretense_dev.demo.console import heading, out

    heading("a prompt with a token in it")
    client = anthropic.Anthropic(base_url=base, api_key="demo-key-not-real", max_retries=0)
    before = len(vendor.records)
    token = _fake_token()
    out("you send: 'deploy with GITHUB_TOKEN=" + token[:4] + "…' (a made-up token, 40 chars)")
    try:
        client.messages.create(
            model="claude-sonnet-demo",
            max_tokens=50,
            messages=[{"role": "user", "content": f"deploy with GITHUB_TOKEN={token}"}],
        )
    except anthropic.APIStatusError as e:
        message = e.body["error"]["message"] if isinstance(e.body, dict) else str(e)
        out(f"the proxy answered {e.status_code}: {message}")
        got = len(vendor.records) - before
        out(f"requests the vendor received: {got}")
        return e.status_code == 400 and got == 0 and token not in message
    out("NOT BLOCKED: the token reached the vendor")
    return False


def _openai(ctx: DemoContext, openai: Any, base: str, vendor: ReplayUpstream) -> bool:
    from pretense_dev.demo.console import heading, out, side_by_side

    heading("OpenAI SDK → proxy → vendor (chat completions, streamed)")
    client = openai.OpenAI(base_url=base + "/v1", api_key="demo-key-not-real", max_retries=0)
    prompt = "Does LedgerReconciler.reconcile_batch respect SETTLEMENT_TOLERANCE_CENTS?"
    try:
        stream = client.chat.completions.create(
            model="gpt-demo", stream=True, messages=[{"role": "user", "content": prompt}]
        )
        text, args = "", ""
        for c in stream:
            for choice in c.choices:
                text += choice.delta.content or ""
                for call in choice.delta.tool_calls or ():
                    args += (call.function.arguments if call.function else None) or ""
        if args:
            text += f"\ntool call Edit: {args}"
    except openai.APIStatusError as e:
        out(f"the proxy refused the request: {e.message}")
        return False
    sent = vendor.records[-1].json()["messages"][0]["content"]
    side_by_side(prompt, sent, ctx.width, ("what you sent", "what the vendor received"))
    out()
    side_by_side(
        _vendor_answer(vendor), text, ctx.width, ("what the vendor answered", "what you saw")
    )
    return "LedgerReconciler" not in sent
