"""Where an unexpected exception is written: the traceback goes to a log file, never the screen.

Shared by every entry point (the CLI, the tool hook), so they report a bug the
same way without importing each other.  Stdlib only: the tool hook imports it
on its failure path.
"""

from __future__ import annotations


def log_bug(exc: BaseException) -> str:
    """Write the traceback to the log dir; return where (never shown on screen)."""
    import traceback

    try:
        from pretense_dev.paths import ensure_private_dir, user_log_dir

        log = ensure_private_dir(user_log_dir()) / "errors.log"
        with open(log, "a", encoding="utf-8") as f:
            f.write("".join(traceback.format_exception(exc)))
            f.write("\n")
        return str(log)
    except Exception:  # the log itself failing must not hide the bug's exit code
        return "(the error log could not be written)"
