"""Loading (issue 5): `make_plan(inventory, selection, priorities) -> LoadPlan`, then
`run_plan(target, plan, ...) -> RunResult`, with progress through one `on_event` callback.

Never imports Textual: the wizard and the CLI both drive it through the same functions.
`run_plan` is imported on first use (PEP 562): the loader pulls in polars and every COPY path,
which `aria-tui load --help`, a plan or a refused argument must not pay for.
"""

from typing import TYPE_CHECKING, Any

from aria_tui.load.events import (
    Log,
    RunFinished,
    TableFinished,
    TableProgress,
    TableStarted,
)
from aria_tui.load.model import (
    BINARY,
    BLOCKED,
    CONFLICT_DETAILS,
    FAILED,
    FAST,
    LOADED,
    RESUMED,
    SKIPPED,
    STAGING,
    ConflictRecord,
    LoadPlan,
    RunResult,
    TablePlan,
    TableResult,
)
from aria_tui.load.plan import make_plan

if TYPE_CHECKING:
    from aria_tui.load.run import run_plan

__all__ = [
    "BINARY",
    "BLOCKED",
    "CONFLICT_DETAILS",
    "FAILED",
    "FAST",
    "LOADED",
    "RESUMED",
    "SKIPPED",
    "STAGING",
    "ConflictRecord",
    "LoadPlan",
    "Log",
    "RunFinished",
    "RunResult",
    "TableFinished",
    "TablePlan",
    "TableProgress",
    "TableResult",
    "TableStarted",
    "make_plan",
    "run_plan",
]


def __getattr__(name: str) -> Any:
    if name == "run_plan":
        from aria_tui.load.run import run_plan

        return run_plan
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
