"""`pretense-dev proxy …`: thin wiring to `daemon`, `state` and `server`.

Nothing heavy is imported at module level: `--help` and `proxy url` must not
load aiohttp (only `start --foreground` runs the server in this process).
"""

from __future__ import annotations

import time

import click

from pretense_dev.errors import EXIT_FAILURE, EXIT_OK
from pretense_dev.proxy import state


def _err(message: str) -> None:
    click.echo(message, err=True)


@click.group()
def proxy() -> None:
    """Run the local mutation proxy that AI tools send their requests through."""


@proxy.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=state.DEFAULT_PORT,
    show_default=True,
    help="Port on 127.0.0.1 (0 picks a free one).",
)
@click.option(
    "--upstream-anthropic",
    default=state.DEFAULT_UPSTREAM_ANTHROPIC,
    show_default=True,
    help="Where Anthropic requests go.",
)
@click.option(
    "--upstream-openai",
    default=state.DEFAULT_UPSTREAM_OPENAI,
    show_default=True,
    help="Where OpenAI requests go (includes /v1, like the SDK's base_url).",
)
@click.option(
    "--upstream",
    "upstreams",
    multiple=True,
    metavar="NAME=URL",
    help="Base URL of a cloud route: azure-openai (your resource's endpoint; required for "
    "Azure), bedrock, vertex or gemini (a corporate gateway).  Repeatable.",
)
@click.option(
    "--read-timeout",
    type=click.FloatRange(1, 86400),
    default=900.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds without a byte from the upstream before an answer is given up (the client "
    "gets the API's error).  A repository's `[proxy] read_timeout` takes precedence for it.",
)
@click.option("--foreground", is_flag=True, help="Run in this terminal; log to stderr too.")
def start(
    port: int,
    upstream_anthropic: str,
    upstream_openai: str,
    upstreams: tuple[str, ...],
    read_timeout: float,
    foreground: bool,
) -> int:
    """Start the proxy (returns once it answers /health)."""
    if foreground:
        current = state.running()
        if current is not None:
            click.echo(f"the proxy is already running on {current.url} (pid {current.pid})")
            return EXIT_OK
        from pretense_dev.proxy.server import main as server_main  # deferred: aiohttp

        return server_main(
            [
                "--port",
                str(port),
                "--upstream-anthropic",
                upstream_anthropic,
                "--upstream-openai",
                upstream_openai,
                *[arg for value in upstreams for arg in ("--upstream", value)],
                "--read-timeout",
                repr(read_timeout),
                "--foreground",
            ]
        )
    from pretense_dev.proxy import daemon

    result = daemon.start(
        port=port,
        upstream_anthropic=upstream_anthropic,
        upstream_openai=upstream_openai,
        upstreams=upstreams,
        read_timeout=read_timeout,
    )
    st = result.state
    if result.already_running:
        click.echo(f"the proxy is already running on {st.url} (pid {st.pid})")
    else:
        click.echo(f"the proxy is running on {st.url} (pid {st.pid})")
    return EXIT_OK


@proxy.command()
def stop() -> int:
    """Stop the proxy."""
    from pretense_dev.proxy import daemon

    st = daemon.stop()
    if st is None:
        click.echo("the proxy is not running")
    else:
        click.echo(f"stopped the proxy (pid {st.pid}, port {st.port})")
    return EXIT_OK


@proxy.command()
def status() -> int:
    """Whether the proxy runs, where, and where it forwards (exit 1 if it does not run)."""
    st = state.running()
    if st is None:
        click.echo("the proxy is not running — start it with `pretense-dev proxy start`")
        return EXIT_FAILURE
    click.echo(f"running:   {st.url} (pid {st.pid}, version {st.version})")
    click.echo(f"uptime:    {int(time.time() - st.started_at)} s")
    click.echo(f"anthropic: {st.upstream_anthropic}")
    click.echo(f"openai:    {st.upstream_openai}")
    click.echo(f"log:       {st.log_path}")
    return EXIT_OK


@proxy.command()
@click.option("-n", "--lines", type=click.IntRange(1), default=50, show_default=True)
def logs(lines: int) -> int:
    """The end of the proxy log (requests, refusals, errors; never bodies or credentials)."""
    from pretense_dev.proxy import daemon

    for line in daemon.logs(lines):
        click.echo(line)
    return EXIT_OK


@proxy.command()
def url() -> int:
    """The base URL for this repository (last line); OpenAI clients add /v1."""
    from pretense_dev.repo import Repo

    repo = Repo.discover().require_initialised()
    st = state.running(probe=False)
    if st is None:
        _err("pretense-dev: note: the proxy is not running — `pretense-dev proxy start`")
        base = f"http://{state.DEFAULT_HOST}:{state.DEFAULT_PORT}"
    else:
        base = st.url
    click.echo(f"{base}/r/{repo.repo_id}")
    return EXIT_OK
