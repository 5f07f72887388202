"""`llm` (Simon Willison's CLI): ``OPENAI_BASE_URL`` on this repository's proxy prefix.

`llm` 0.36 builds its OpenAI models' client with the official SDK and passes no
``base_url`` of its own for them, so the SDK's ``OPENAI_BASE_URL`` routes them.
Its requests carry only the SDK's headers (``OpenAI/Python …``, ``x-stainless-*``),
like any program on the SDK, so the base URL carries the client's name instead:
``<proxy>/r/<id>/t/llm/v1``.  The proxy takes ``t/llm`` off before it matches the
route (the vendor never sees it) and names the client ``llm`` in the audit
(`pretense_dev.proxy.server.client_tag`).

Nothing is written: `llm` has no per-project settings, and its
``extra-openai-models.yaml`` (which can add headers) is the user's, for all their
projects, and covers only the models listed in it.  So `llm` is routed from the
shell with ``eval "$(pretense-dev env llm)"``; any other program on the OpenAI SDK
run from that shell goes through the proxy too, and is audited as ``llm`` unless
its own headers name it.
"""

from __future__ import annotations

from pretense_dev.integrations.base import Context

VAR = "OPENAI_BASE_URL"
TAG = "llm"  # one of the proxy's `CLIENT_TAGS`


def base_url(ctx: Context) -> str:
    """Where `llm`'s OpenAI calls go: the repository's prefix, the client tag, the API's /v1."""
    return f"{ctx.repo_url}/t/{TAG}/v1"


def cli_environment(ctx: Context) -> dict[str, str]:
    """The variable that routes `llm` through the proxy from a shell."""
    return {VAR: base_url(ctx)}
