"""The AI-tool hook: `pretense-dev hook <tool> <event>`, the gate every prompt and file read passes.

"Hook" means four things in this project, so the names say which:

* a **tool hook** (this package): Claude Code, Cursor or Copilot runs
  `pretense-dev hook <tool> <event>` before a session, a prompt or a tool call;
  the settings that make them do so are written by `integrations.claude_code`,
  `.cursor`, `.copilot`;
* a **git hook** (`integrations.git_hooks`, run by `secrets.hook`): git's
  ``pre-commit`` and ``pre-push`` scripts that scan what is committed or pushed;
* a **pre-commit hook**: one entry of the pre-commit framework's
  ``.pre-commit-config.yaml``, the other way `integrations.git_hooks` installs
  the same scan;
* the `hooks` command (`pretense-dev hooks install|check|remove`) manages git hooks.

The tool hook has one route in: the console script (`pretense_dev.entry`)
hands ``hook`` to `client.main` without importing click; the click command of
the same name (`integrations.commands.hook`, reached by ``--help`` or
`cli.main`) calls the same function.  Inside:

* `client`: the hook process, a thin client of the proxy daemon; decides in
  its own process (`run.main`) when no daemon runs, refuses when the daemon is
  slow or not ours;
* `wire`: the signed loopback exchange between the two (stdlib, imports
  almost nothing); `served`: the daemon's half;
* `dialects`: which tool is calling (recognised from stdin) and the answer in
  that tool's own format;
* `gate`: the decision (initialised, approved, verified, no secret in the
  prompt or in a file the call names);
* `run`: read, decide, answer, write the audit event; fail closed.

This ``__init__`` imports nothing: every call is a fresh process, and start-up
cost is what the user waits for (tests/integrations/test_import_cost.py).
"""
