"""Errors the offline engine reports to the user, each with the exit code it maps to.

Every failure a user can fix (a missing ``Pulumi.yaml``, an invalid stack config, a program
that raises) is a ``PreviewError``: the CLI prints its ``message`` to stderr and exits with its
``exit_code``, never with a Python traceback of the engine itself.
"""

from __future__ import annotations

EXIT_OK = 0
"""The program ran and every check passed."""
EXIT_VIOLATIONS = 1
"""Reserved for the policy gate: a mandatory policy was violated."""
EXIT_FAILED = 2
"""The project, its config or the program (later: a policy pack) failed; nothing to report."""


class PreviewError(Exception):
    """A failure the user must fix; ``str(error)`` is the full message for stderr."""

    exit_code: int = EXIT_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProjectError(PreviewError):
    """``Pulumi.yaml`` or the stack file is missing, unreadable or malformed."""


class ConfigError(PreviewError):
    """The stack's config breaks the rules declared in ``Pulumi.yaml``.

    ``problems`` lists each one as ``<file>: <key>: <what is wrong>``, so a user fixing
    several keys sees them all at once rather than one per run.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(f"error: {p}" for p in self.problems))


class ProgramError(PreviewError):
    """The Pulumi program raised; ``message`` holds the summary and the trimmed traceback."""

    def __init__(self, summary: str, traceback_text: str, exception: BaseException) -> None:
        self.summary = summary
        self.traceback_text = traceback_text
        self.exception = exception
        super().__init__(f"{traceback_text.rstrip()}\n{summary}" if traceback_text else summary)
