"""Latency the cloud routes add, beside the Anthropic route's, in one run.

Three servers in their own processes, as in `bench.proxy`: a loopback upstream
that answers every route's documented shape (`replay_cloud`), a plain aiohttp
pass-through (the floor) and the pretense proxy with every cloud vendor
approved.  Each round sends one 4 KB request (cut from stdlib code, so the
proxy mutates realistic text) per route to all three, in rotating order, so
that every route — the Anthropic route too — sees the same machine load;
figures are medians, "added" is median(through) − median(direct).  Bedrock
requests are all signed by the client before the first round (the proxy
checks that signature and signs again: that work is in the figure; the
client's own signing is not, nor does it share the CPUs during the rounds).
The last column is each route's added latency minus the Anthropic route's from the
same rounds: the budget is ≤ 0.  "CPU" is the proxy's own CPU time per
request (median, from Linux's scheduler statistics): a loaded machine
stretches the wall clock much more than it, so it shows which route costs
the proxy more work.

With ``--resend``, also a 1 MB conversation already seen plus 10 KB new on
the Anthropic route and on Bedrock's InvokeModel (both reuse the history's
mutated bytes; Bedrock signs the spliced body, its two body hashes resumed
from the SHA-256 states kept with that history), each over its own floor.

    .venv/bin/python -m bench.proxy_cloud [--runs 200 | --quick] [--resend]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import string
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench._proxy_common import Client, build_repo, corpus, start_server
from bench._proxy_servers import REPO_ID

AKID = "AKIA" + "".join(secrets.choice(string.ascii_uppercase) for _ in range(16))
SECRET = "".join(secrets.choice(string.ascii_letters) for _ in range(40))
BEDROCK_MODEL = "us.anthropic.claude-sonnet-4-5-v1:0"
VERTEX = "v1/projects/p/locations/us-east5/publishers"


BASELINE = "anthropic /v1/messages (baseline)"


def _messages(text: str) -> list[dict[str, object]]:
    return [{"role": "user", "content": [{"type": "text", "text": text}]}]


def routes(text: str) -> dict[str, tuple[str, bytes]]:
    """Route label → (path after the repo prefix, body)."""
    anth = {"max_tokens": 100, "messages": _messages(text)}
    chat = {"model": "gpt4o", "messages": [{"role": "user", "content": text}]}
    converse = {"messages": [{"role": "user", "content": [{"text": text}]}]}
    gemini = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    bedrock = {"anthropic_version": "bedrock-2023-05-31", **anth}
    return {
        BASELINE: (
            "/v1/messages",
            json.dumps({"model": "claude-bench", **anth}).encode(),
        ),
        "bedrock invoke": (f"/model/{BEDROCK_MODEL}/invoke", json.dumps(bedrock).encode()),
        "bedrock converse": (f"/model/{BEDROCK_MODEL}/converse", json.dumps(converse).encode()),
        "vertex claude rawPredict": (
            f"/{VERTEX}/anthropic/models/claude-x:rawPredict",
            json.dumps({"anthropic_version": "vertex-2023-10-16", **anth}).encode(),
        ),
        "gemini generateContent": (
            "/v1beta/models/gemini-bench:generateContent",
            json.dumps(gemini).encode(),
        ),
        "vertex gemini generateContent": (
            f"/{VERTEX}/google/models/gemini-bench:generateContent",
            json.dumps(gemini).encode(),
        ),
        "azure chat (deployment)": (
            "/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21",
            json.dumps(chat).encode(),
        ),
    }


def signer(port: int, prefix: str) -> Callable[[str, bytes], dict[str, str]]:
    """SigV4 headers for a request to ``127.0.0.1:<port><prefix><path>``."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    creds = Credentials(AKID, SECRET)

    def sign(path: str, body: bytes) -> dict[str, str]:
        req = AWSRequest(
            method="POST",
            url=f"http://127.0.0.1:{port}{prefix}{path}",
            data=body,
            headers={"content-type": "application/json"},
        )
        SigV4Auth(creds, "bedrock", "us-west-2").add_auth(req)
        return dict(req.headers.items())

    return sign


def resend(
    text: str,
    cs: dict[str, Client],
    signers: dict[str, Callable[[str, bytes], dict[str, str]]],
    pid: int,
    runs: int,
) -> None:
    """A resent conversation on the Anthropic route and on Bedrock's InvokeModel, same rounds.

    Claude Code resends the whole conversation every turn, on Bedrock as on
    Anthropic's API: 100 messages of 10 KB already sent once, then one new
    10 KB message per request.  Every body is built and (for Bedrock) signed
    before the clock starts.
    """
    history = [m for i in range(100) for m in _messages(text[i * 10_000 : (i + 1) * 10_000])]
    bodies = {
        "anthropic resend": ("/v1/messages", {"model": "claude-bench", "max_tokens": 100}),
        "bedrock invoke resend": (
            f"/model/{BEDROCK_MODEL}/invoke",
            {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100},
        ),
    }

    def body(rest: dict[str, object], new: list[dict[str, object]]) -> bytes:
        return json.dumps({**rest, "messages": [*history, *new]}).encode()

    def new(i: int) -> list[dict[str, object]]:
        off = (i * 104729) % (len(text) - 11_000)
        return _messages(f"[new {i}] " + text[off : off + 10_240])

    prepared: dict[tuple[str, str], list[tuple[bytes, dict[str, str]]]] = {}
    for label, (path, rest) in bodies.items():
        for k in cs:
            items = [body(rest, [])] + [body(rest, new(i)) for i in range(runs + 3)]
            prepared[label, k] = [
                (b, signers[k](path, b) if path.startswith("/model/") else Client.HEADERS)
                for b in items
            ]
    times: dict[str, dict[str, list[float]]] = {lb: {k: [] for k in cs} for lb in bodies}
    cpu: dict[str, list[int]] = {lb: [] for lb in bodies}
    order = list(cs)
    for i in range(runs + 4):  # request 0: the history, seen once
        for label, (path, _rest) in bodies.items():
            order = order[1:] + order[:1]
            for k in order:
                payload, headers = prepared[label, k][i]
                elapsed, spent = timed(
                    cs[k], path, payload, headers, pid if k == "pretense" else None
                )
                if i >= 4:
                    times[label][k].append(elapsed)
                    if spent is not None:
                        cpu[label].append(spent)
    ref = None
    for label, per in times.items():
        m = {k: statistics.median(v) * 1e3 for k, v in per.items()}
        over = m["pretense"] - m["passthrough"]
        used = statistics.median(cpu[label]) / 1e6
        tail = "(reference)" if ref is None else f"vs anthropic {over - ref:+5.2f} ms"
        ref = over if ref is None else ref
        floor = m["passthrough"] - m["direct"]
        print(
            f"  {label:<36} direct {m['direct']:5.2f} ms | floor +{floor:5.2f} ms"
            f" | pretense over floor +{over:5.2f} ms, CPU {used:5.3f} ms | {tail}"
        )


def timed(
    client: Client, path: str, payload: bytes, headers: dict[str, str], pid: int | None
) -> tuple[float, int | None]:
    """Seconds one request took and, given a pid, that process's CPU nanoseconds meanwhile."""
    before = cpu_ns(pid) if pid is not None else None
    t = time.perf_counter()
    client.conn.request("POST", client.prefix + path, payload, headers)
    r = client.conn.getresponse()
    r.read()
    elapsed = time.perf_counter() - t
    assert r.status == 200, (path, r.status)
    if pid is None or before is None:
        return elapsed, None
    return elapsed, (cpu_ns(pid) or 0) - before


def cpu_ns(pid: int) -> int | None:
    """Nanoseconds the process's main thread (the proxy's event loop) has run on a CPU.

    Linux's scheduler statistics: unlike the wall clock, this hardly moves when
    other jobs share the machine, so it tells a route's own cost apart from the
    machine's load.  None where the file does not exist.
    """
    try:
        with open(f"/proc/{pid}/schedstat", encoding="ascii") as f:
            return int(f.read().split()[0])
    except OSError:
        return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--quick", action="store_true", help="40 rounds")
    ap.add_argument(
        "--resend",
        action="store_true",
        help="also a 1 MB conversation already seen + 10 KB new: Anthropic route vs Bedrock invoke",
    )
    args = ap.parse_args()
    if args.quick:
        args.runs = 40
    text = corpus()
    with tempfile.TemporaryDirectory(prefix="pretense-bench-") as tmp:
        base = Path(tmp)
        n = build_repo(base / "repo", text)
        vendors = ["anthropic", "openai", "bedrock", "vertex", "azure-openai", "gemini"]
        (base / "repo" / ".pretense" / "config.toml").write_text(
            f"version = 1\n[proxy]\nvendors = {json.dumps(vendors)}\n", encoding="utf-8"
        )
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": AKID,
                "AWS_SECRET_ACCESS_KEY": SECRET,
                "AWS_REGION": "us-west-2",
                "AWS_CONFIG_FILE": str(base / "aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(base / "aws-credentials"),
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        body_text = text[:4000]
        print(f"map: {n} names from stdlib definitions; rounds: {args.runs} (medians)")
        print(f"load average before the run: {os.getloadavg()[0]:.1f}")
        print("each round sends every route: compare routes within this run only")
        up = start_server("cloud-upstream", "--root", str(base / "repo"))
        url = f"http://127.0.0.1:{up.port}"
        pt = start_server("passthrough", "--upstream", url)
        pr = start_server("pretense-cloud", "--upstream", url, "--root", str(base / "repo"))
        try:
            prefix = f"/r/{REPO_ID}"
            cs = {
                "direct": Client(up.port, ""),
                "passthrough": Client(pt.port, prefix),
                "pretense": Client(pr.port, prefix),
            }
            signers = {
                "direct": signer(up.port, ""),
                "passthrough": signer(pt.port, prefix),
                "pretense": signer(pr.port, prefix),
            }
            table = routes(body_text)
            times: dict[str, dict[str, list[float]]] = {lb: {k: [] for k in cs} for lb in table}
            cpu: dict[str, list[int]] = {lb: [] for lb in table}
            order = list(cs)
            # Every signature made before the clock starts (well within the 15 minutes a
            # signature is valid): the client's own botocore work would otherwise run
            # just before each Bedrock request, on the CPUs the proxy uses.
            signed = {
                (label, k): [signers[k](path, body) for _ in range(args.runs + 5)]
                for label, (path, body) in table.items()
                if path.startswith("/model/")
                for k in cs
            }
            for i in range(args.runs + 5):
                for label, (path, body) in table.items():
                    order = order[1:] + order[:1]
                    for k in order:
                        headers = signed[label, k].pop() if (label, k) in signed else Client.HEADERS
                        pid = pr.proc.pid if k == "pretense" else None
                        elapsed, spent = timed(cs[k], path, body, headers, pid)
                        if i >= 5:  # the first few warm connections and caches
                            times[label][k].append(elapsed)
                            if spent is not None:
                                cpu[label].append(spent)
            added: dict[str, float] = {}
            used: dict[str, float] = {}
            for label, per in times.items():
                m = {k: statistics.median(v) * 1e3 for k, v in per.items()}
                d = m["direct"]
                added[label] = m["pretense"] - d
                used[label] = statistics.median(cpu[label]) / 1e6 if cpu[label] else 0.0
                ref, ref_cpu = added[BASELINE], used[BASELINE]
                delta = round(added[label] - ref, 2)
                verdict = (
                    "(reference)"
                    if label == BASELINE
                    else f"vs anthropic {delta:+5.2f} ms {'✓' if delta <= 0 else '✗'}"
                    f" (CPU {used[label] - ref_cpu:+5.3f} ms)"
                )
                print(
                    f"  {label:<36} direct {d:5.2f} ms | floor +{m['passthrough'] - d:5.2f} ms"
                    f" | pretense +{added[label]:5.2f} ms, CPU {used[label]:5.3f} ms | {verdict}"
                )
            if args.resend:
                resend(text, cs, signers, pr.proc.pid, max(20, args.runs // 4))
            print(f"load average after the run: {os.getloadavg()[0]:.1f}")
        finally:
            for s in (pr, pt, up):
                s.proc.kill()
                s.proc.wait()


if __name__ == "__main__":
    main()
