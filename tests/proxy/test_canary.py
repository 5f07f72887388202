"""The canary run shared by `verify` and the editor's status, against real loopback servers.

The pass against a real proxy is in tests/integrations/test_verify.py and
tests/lsp/test_proxy_status.py; here, the answers that are not a pass.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pretense_dev.proxy import canary

SAMPLE = [("settle_invoices", "fld_aaaa"), ("canary", "fld_bbbb")]
KEY = bytes(range(32))
REPO_ID = "r" * 16


class _Refuser(BaseHTTPRequestHandler):
    """Answers every POST the way Anthropic's API reports an error."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"type": "error", "error": {"type": "x", "message": "no such route"}})
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refuser() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuser)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_api_error_answer_is_a_refusal_with_its_message(refuser: str) -> None:
    out = canary.run(refuser, REPO_ID, KEY, SAMPLE, 7)
    assert not out.ok
    assert (out.answered, out.from_pretense, out.refusal) == (True, False, "no such route")
    assert out.problems == ("the server on that port is not a pretense-dev proxy",)


def test_nothing_listening_is_no_answer() -> None:
    with socket.socket() as s:  # a port that was free a moment ago and has no listener
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = canary.run(f"http://127.0.0.1:{port}", REPO_ID, KEY, SAMPLE, 7, timeout=2.0)
    assert (out.ok, out.answered, out.from_pretense, out.refusal) == (False, False, False, None)
    assert len(out.problems) == 1
    assert out.problems[0].startswith("the proxy did not answer the verify challenge (")


def test_the_challenge_text_names_the_sample_once_and_canary_first() -> None:
    nonce, text = canary.challenge([n for n, _ in SAMPLE if n != "canary"])
    assert canary.valid_nonce(nonce)
    assert text == "canary: settle_invoices"
