# The two README commands, `make demo` and `make test`, set themselves up:
# on a fresh machine (Python 3.11, git, node/npm) they create .venv and the
# test tools first, and later runs reuse them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# The real Claude Code CLI for the end-to-end hook test.  Pinned: on
# node 20 an unpinned install resolves to an older release without
# `onFailure: "block"`.
CLAUDE_CODE_VERSION := 2.1.331
CLAUDE := .tools/claude-code/node_modules/.bin/claude
# The real Gemini CLI for its end-to-end test through the Gemini route.
GEMINI_CLI_VERSION := 0.61.0
GEMINI := .tools/gemini-cli/node_modules/.bin/gemini
# The real Codex CLI and aider for their end-to-end tests (aider in a virtualenv
# of its own: its pinned dependencies must not meet ours).
CODEX_VERSION := 0.171.0
CODEX := .tools/codex/node_modules/.bin/codex
AIDER_VERSION := 0.86.2
AIDER := .tools/aider/bin/aider
# `llm` (Simon Willison's CLI), for the test that the audit names it: its own virtualenv too.
LLM_VERSION := 0.36
LLM := .tools/llm/bin/llm
# The real Copilot CLI, through `pretense-dev copilot` with its own provider.
COPILOT_VERSION := 1.0.102
COPILOT := .tools/copilot/node_modules/.bin/copilot
# The VS Code / Cursor extension, compiled so its tests run against the real build.
VSCODE_OUT := lsp/vscode/out/extension.js

.PHONY: demo test check lint typecheck imports pytest tools tmux bench clean

$(STAMP): pyproject.toml setup.py constraints.txt pretense_dev/mutation/_kernel.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -c "import pretense_dev.mutation._kernel"
	touch $(STAMP)

$(CLAUDE):
	npm install --silent --no-audit --no-fund --prefix .tools/claude-code \
		@anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION)

$(GEMINI):
	npm install --silent --no-audit --no-fund --prefix .tools/gemini-cli \
		@google/gemini-cli@$(GEMINI_CLI_VERSION)

$(CODEX):
	npm install --silent --no-audit --no-fund --prefix .tools/codex @openai/codex@$(CODEX_VERSION)

$(COPILOT):
	npm install --silent --no-audit --no-fund --prefix .tools/copilot @github/copilot@$(COPILOT_VERSION)

$(AIDER):
	$(PYTHON) -m venv .tools/aider
	.tools/aider/bin/python -m pip install --quiet aider-chat==$(AIDER_VERSION)

$(LLM):
	$(PYTHON) -m venv .tools/llm
	.tools/llm/bin/python -m pip install --quiet llm==$(LLM_VERSION)

$(VSCODE_OUT): lsp/vscode/package.json lsp/vscode/package-lock.json lsp/vscode/tsconfig.json $(wildcard lsp/vscode/src/*.ts)
	cd lsp/vscode && npm ci --prefer-offline --no-audit --no-fund --silent && npm run --silent compile

# The TUI's end-to-end test drives the real app in tmux.  Installed when
# missing and possible (CI runs as root on a Debian image); the test says why
# it skipped otherwise.
tmux:
	@command -v tmux >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get install -y -q tmux >/dev/null 2>&1 || \
			{ apt-get update -q >/dev/null 2>&1 && apt-get install -y -q tmux >/dev/null 2>&1; } || \
			echo "tmux could not be installed: the tmux end-to-end test will skip"; \
		else echo "tmux is missing: the tmux end-to-end test will skip"; fi; }

tools: $(CLAUDE) $(GEMINI) $(CODEX) $(AIDER) $(LLM) $(COPILOT) $(VSCODE_OUT) tmux

demo: $(STAMP)
	$(BIN)/pretense-dev demo

test: $(STAMP) tools check pytest

check: lint typecheck imports

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The dependency rules of docs/architecture.md, as contracts in pyproject.toml.
imports: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .tools lsp/vscode/node_modules lsp/vscode/out build *.egg-info \
		.mypy_cache .ruff_cache .pytest_cache .import_linter_cache .grimp_cache
