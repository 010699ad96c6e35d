"""The wizard's `--plan FILE`: read before the App starts, checked once the first scan has read the
export, then taken into the wizard state.

The checks are the core's (`cutover.open_for`, `Session.plan`, `cutover.check`), the ones
`load --plan` makes, so a plan the CLI refuses the wizard refuses with the same sentence.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aria_tui.errors import AriaError
from aria_tui.selection import Selection
from aria_tui.ui import messages as msg

if TYPE_CHECKING:
    from aria_tui.load.cutover import CutoverPlan
    from aria_tui.scan.model import Inventory
    from aria_tui.session import Session
    from aria_tui.ui.state import WizardState


def read(state: WizardState, plan_file: Path | str) -> None:
    """Put the plan file on `state`, to be checked on the first scan. One that is not a plan, or
    is for another export folder, raises AriaError now: the wizard does not start on it."""
    from aria_tui.load import cutover

    if state.export_dir is None:
        raise AriaError("--plan needs the export folder it was written for.")
    state.cutover = cutover.open_for(Path(plan_file), state.export_dir)
    state.plan_file = str(plan_file)


def check(session: Session, cp: CutoverPlan, inventory: Inventory) -> msg.PlanFileOpened:
    """The plan file's choices and tables, checked against the export and the target the way
    `load --plan` checks them (cutover.check); a misfit is the refusal's one sentence."""
    from aria_tui.load import cutover
    from aria_tui.load.choices import Choices

    # the planned tables, and what the plan's selection took that cannot load (ticked [!])
    files = {t.file for t in cp.tables} | set(cp.unloadable)
    names = tuple(sorted(t.name for t in inventory.tables if t.file.name in files))
    choices = Choices.of_cutover(cp)
    try:
        plan = session.plan(Selection.of(names), inventory, choices)
        cutover.check(cp, plan, session.target)
    except AriaError as exc:
        return msg.PlanFileOpened(None, (), str(exc))
    return msg.PlanFileOpened(choices, names, None)


def adopt(state: WizardState, opened: msg.PlanFileOpened) -> str | None:
    """Take a checked plan file's tables, decisions, policies and jobs into `state`; or why not
    (then nothing of it is taken)."""
    if opened.refusal is not None or opened.choices is None:
        return opened.refusal or "The plan does not fit."
    why = state.set_choices(opened.choices)
    if why is not None:
        return why
    state.selected = {n for n in opened.names if n in {t.name for t in state.tables()}}
    state.overrides = set()
    if opened.choices.jobs is not None:
        state.jobs = opened.choices.jobs
    state.invalidate_plan()
    return None
