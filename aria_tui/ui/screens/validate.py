"""Step 5: the proof. Per table, every check pass/fail at a glance; failures opened; the report."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static, Tree

from aria_tui.status import CheckStatus
from aria_tui.ui import fmt
from aria_tui.ui.screens.base import StepScreen

# single-width marks: emoji are double-width and misalign in many terminals (and over SSH)
OK = "✓"
FAIL = "✗"
STATUS_WORD: dict[str, str] = {
    CheckStatus.PASSED: "pass",
    CheckStatus.FAILED: "FAIL",
    CheckStatus.INCOMPLETE: "incomplete",
    CheckStatus.NO_TARGET: "no target table",
    CheckStatus.BLOCKED: "blocked",
    CheckStatus.MISSING: "missing",
    CheckStatus.SKIPPED: "not loaded",
    CheckStatus.ERROR: "could not check",
}

if TYPE_CHECKING:
    from aria_tui.validate.model import Check, TableValidation, ValidateEvent, Validation


def table_label(t: TableValidation) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{OK if t.ok else FAIL} ", style="bold green" if t.ok else "bold red")
    # sized so that six check marks and the longest status word ("incomplete") fit 80 columns
    text.append(f"{fmt.clip(t.target, 30):<30}", style="bold" if not t.ok else "")
    text.append(f" {fmt.count(t.csv_rows):>8} csv {fmt.count(t.target_rows):>8} db ", style="dim")
    for c in t.checks:
        text.append(OK if c.ok else FAIL, style="green" if c.ok else "bold red")
    if not t.ok:
        text.append(f"  {STATUS_WORD.get(t.status, t.status)}", style="red")
    return text


def check_label(check: Check) -> Text:
    text = Text(no_wrap=False)
    text.append(f"{OK if check.ok else FAIL} ", style="green" if check.ok else "bold red")
    text.append(f"{check.name}: ", style="bold")
    text.append(check.detail, style="" if check.ok else "red")
    return text


class ValidateScreen(StepScreen):
    STEP = "validate"
    HELP = (
        "Validation proves the cutover from the export folder and the live target alone: "
        "reconciliation (CSV records = inserted + duplicates + rejected), presence of every key, "
        "content checksums, foreign keys, vector dimensions and sequences. Tables that fail are "
        "opened; enter opens or closes any table. The report (Markdown and JSON) is written "
        "under the data directory; its path is shown at the bottom."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "revalidate", "Re-validate", id="revalidate"),
        Binding("e", "expand_all", "Expand all", id="expand"),
        Binding("f", "failures", "Failures only", id="failures"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.failures_only = False
        self.expanded = False

    def compose_body(self) -> ComposeResult:
        yield Static(id="verdict")
        with Horizontal(id="validate-progress"):
            yield Static("Validating…", id="validate-label")
            yield ProgressBar(id="validate-bar", show_eta=False, clock=self.wizard.clock)
        yield Tree("Validation", id="results")
        yield Static(id="check-detail")
        yield Static(id="report")

    def on_mount(self) -> None:
        tree = self.query_one(Tree)
        tree.show_root = False
        tree.guide_depth = 2
        self.focus_main()
        super().on_mount()

    def focus_main(self) -> None:
        self.query_one(Tree).focus()

    def can_next(self) -> bool:
        return False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next":
            return False
        busy = self.wizard.busy("validate")
        if action == "revalidate":
            return None if busy else True
        if action in ("expand_all", "failures"):
            return None if self.state.validation is None or busy else True
        return super().check_action(action, parameters)

    def sync(self) -> None:
        busy = self.wizard.busy("validate")
        self.query_one("#validate-progress").display = busy
        validation = self.state.validation
        verdict = self.query_one("#verdict", Static)
        report = self.query_one("#report", Static)
        tree = self.query_one(Tree)
        if validation is None or busy:
            verdict.update(Text("Validating the cutover…" if busy else "Not validated yet: r validates.", style="bold"))
            verdict.set_class(False, "-ok")
            verdict.set_class(False, "-fail")
            report.update("")
            tree.clear()
            if busy:
                self.status("Counting, checksumming and checking every loaded table in the server…")
            return
        passed = validation.passed
        total = len(validation.tables)
        checks = sum(len(t.checks) for t in validation.tables)
        failed_checks = sum(len(t.failures) for t in validation.tables)
        if validation.ok:
            line = Text(f"{OK} Cutover proven: {passed}/{total} tables pass all {checks} checks.", style="bold")
            if validation.decided_away:
                line.append(f" {fmt.count(validation.decided_away)} records decided away by you.")
        else:
            # the report's own headline: how many export records the target lacks comes first
            line = Text(
                f"{FAIL} Not proven: {validation.headline.rstrip('.')} "
                f"({failed_checks} of {checks} checks fail).",
                style="bold",
            )
        verdict.update(line)
        verdict.set_class(validation.ok, "-ok")
        verdict.set_class(not validation.ok, "-fail")
        self._fill_tree(validation)
        where = Text("Report: ", style="bold")
        where.append(str(validation.report_path) if validation.report_path else "not written")
        if validation.json_path:
            where.append("  (+ .json)", style="dim")
        report.update(where)
        self.status(
            "All green: q quits. The report is ready to paste into the migration ticket."
            if validation.ok
            else "Failures are opened below; fix, re-run the load (it resumes), then r."
        )

    def _fill_tree(self, validation: Validation) -> None:
        tree = self.query_one(Tree)
        tree.clear()
        for t in validation.tables:
            if self.failures_only and t.ok:
                continue
            node = tree.root.add(table_label(t), data=t, expand=(not t.ok) or self.expanded)
            node.add_leaf(Text(f"{t.file} → {t.target}   {fmt.duration(t.seconds)}", style="dim"), data=t)
            for check in t.checks:
                node.add_leaf(check_label(check), data=check)
        for note in validation.notes:
            # a tree line is cut at the screen's edge: highlighted, the note is shown whole below
            tree.root.add_leaf(Text(f"• {note}", style="dim"), data=note)
        if validation.not_selected:
            tree.root.add_leaf(
                Text(f"Not validated (not ticked): {len(validation.not_selected)} files", style="dim")
            )
        tree.root.expand()
        # the first failure is what the operator came for; otherwise start at the top
        first_failure = next((i for i, t in enumerate(validation.tables) if not t.ok), 0)
        self.call_after_refresh(self._place_cursor, first_failure)

    def _place_cursor(self, index: int) -> None:
        tree = self.query_one(Tree)
        children = tree.root.children
        if children:
            node = children[min(index, len(children) - 1)]
            tree.move_cursor(node, animate=False)
        self.show_check_detail()

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        self.show_check_detail()

    def show_check_detail(self) -> None:
        """The whole sentence of the highlighted check: tree lines are cut at the screen edge."""
        detail = self.query_one("#check-detail", Static)
        node = self.query_one(Tree).cursor_node
        data = node.data if node is not None else None
        if data is None:
            detail.update("")
        elif isinstance(data, str):
            detail.update(Text(data))
        elif hasattr(data, "detail"):
            detail.update(check_label(data))
        else:
            failures = data.failures
            if failures:
                detail.update(Text("\n").join(check_label(c) for c in failures))
            else:
                detail.update(
                    Text(
                        f"{data.file} → {data.target}: {len(data.checks)} checks pass "
                        f"({', '.join(c.name for c in data.checks)}).",
                        style="dim",
                    )
                )

    def validation_event(self, event: ValidateEvent) -> None:
        self.query_one("#validate-progress").display = True
        # tables are validated side by side, so progress is how many have finished: an event's
        # `index` is only its table's place in the selection
        self.query_one("#validate-bar", ProgressBar).update(total=event.total, progress=event.done)
        what = f" — {event.check}" if event.check else ""
        self.query_one("#validate-label", Static).update(
            f"{event.done}/{event.total} done · {fmt.clip(event.table, 32)}{what}"
        )

    def action_revalidate(self) -> None:
        self.state.validation = None
        self.wizard.validate_load()
        self.sync()

    def action_expand_all(self) -> None:
        self.expanded = not self.expanded
        if self.state.validation is not None:
            self._fill_tree(self.state.validation)

    def action_failures(self) -> None:
        self.failures_only = not self.failures_only
        if self.state.validation is not None:
            self._fill_tree(self.state.validation)
        self.status("Showing failures only." if self.failures_only else "Showing every table.")
