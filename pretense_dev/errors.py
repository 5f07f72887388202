"""One error base class; the CLI's handler turns it into one line and an exit code.

Exit codes: 1 for an expected failure (a check failed, a request was refused),
2 for bad usage or bad config, 3 for a bug (traceback in the log file, not on
screen), 130 for ^C.  Messages never carry a secret value: fingerprints and
redacted forms only.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 130


class PretenseError(Exception):
    """An expected failure with a one-line message and, ideally, the command that fixes it."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def lines(self) -> list[str]:
        """The message as shown to a person: one line per problem, the fix on the last."""
        out = [" ".join(line.split()) for line in self.message.splitlines() if line.strip()]
        if self.hint:
            out[-1] += f" — {' '.join(self.hint.split())}"
        return out


class UsageError(PretenseError):
    """The command was called wrongly or somewhere it cannot work (e.g. outside a git repo)."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A config file is invalid; the message names the file, the key and the line."""


class NotInitialisedError(PretenseError):
    """The repository has not been set up with `pretense-dev init`."""

    def __init__(self, root: str) -> None:
        super().__init__(
            f"{root} is not initialised for pretense-dev", "run `pretense-dev init` in it"
        )
