"""Validation: prove the cutover from the export folder and the live target alone (issue 6).

`validate(folder, target, ...) -> Validation` runs every check in the server (nothing of a table is
pulled into Python) and writes the Markdown + JSON report; see `aria_tui.validate.model`.
"""

from aria_tui.validate.model import (
    CHECK_NAMES,
    Check,
    TableValidation,
    ValidateEvent,
    Validation,
)
from aria_tui.validate.runner import validate

__all__ = [
    "CHECK_NAMES",
    "Check",
    "TableValidation",
    "ValidateEvent",
    "Validation",
    "validate",
]
