"""Validation: prove the cutover from the export folder and the live target alone (issue 6).

`validate(folder, target, ...) -> Validation` runs every check in the server (nothing of a table is
pulled into Python) and writes the Markdown + JSON report; see `aria_tui.validate.model`.
`validate` is imported on first use (PEP 562): the runner pulls in the scan and polars, which
`aria-tui validate --help` or a refused argument must not pay for.
"""

from typing import TYPE_CHECKING, Any

from aria_tui.validate.model import (
    CHECK_NAMES,
    Check,
    TableValidation,
    ValidateEvent,
    Validation,
)

if TYPE_CHECKING:
    from aria_tui.validate.runner import validate

__all__ = [
    "CHECK_NAMES",
    "Check",
    "TableValidation",
    "ValidateEvent",
    "Validation",
    "validate",
]


def __getattr__(name: str) -> Any:
    if name == "validate":
        from aria_tui.validate.runner import validate

        return validate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
