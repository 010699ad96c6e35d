"""Errors a user can cause. Each carries one sentence and the exit code the CLI ends with."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # finished, but with rejects, failed checks or failed tables
EXIT_UNUSABLE = 2  # unusable input: bad folder, bad DSN, unreachable target


def first_line(exc: BaseException) -> str:
    """The first non-blank line of an exception's message, or the name of its type when it has
    none: libpq and psycopg messages run to several lines (DETAIL, HINT, CONTEXT), an operator
    reads the first."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


class AriaError(Exception):
    """A problem the operator can fix; `str()` is one sentence, never a traceback."""

    exit_code = EXIT_UNUSABLE

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class TargetUnreachable(AriaError):
    """The target database cannot be reached."""


class ExportError(AriaError):
    """The export folder or one of its files is unusable."""


class Cancelled(AriaError):
    """The operator cancelled the work."""

    exit_code = EXIT_FAILED
