"""Step 3: the ticked tables in load order, how each maps and dedupes, and a dry run's numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, ProgressBar, Static

from aria_tui.ui import fmt
from aria_tui.ui.screens.base import StepScreen

if TYPE_CHECKING:
    from aria_tui.load.events import Event as LoadEvent
    from aria_tui.load.model import LoadPlan, TablePlan, TableResult

@dataclass(frozen=True)
class PlanEntry:
    """What the Plan and Run screens show of one TablePlan."""

    order: int
    target: str
    file: str
    rows: int
    bytes: int
    mapping: str
    conflict: str
    sequences: str
    detail: str
    plan: TablePlan


def plan_entries(plan: LoadPlan) -> list[PlanEntry]:
    return [
        PlanEntry(
            order=tp.order,
            target=tp.target,
            file=tp.scan.file.name,
            rows=tp.scan.rows,
            bytes=tp.scan.file.bytes,
            mapping=mapping_summary(tp),
            conflict=conflict_summary(tp),
            sequences=", ".join(column for column, _ in tp.sequences) if tp.sequences else "—",
            detail=mapping_detail(tp),
            plan=tp,
        )
        for tp in plan.tables
    ]


def mapping_summary(tp: TablePlan) -> str:
    loaded = len(tp.columns)
    dropped = len(tp.csv_columns) - loaded
    renamed = sum(1 for source, target in tp.columns if source != target)
    parts = [f"{loaded} cols"]
    if renamed:
        parts.append(f"{renamed} renamed")
    if dropped:
        parts.append(f"{dropped} dropped")
    if tp.self_fks:
        parts.append("self-ref")
    return ", ".join(parts)


def conflict_summary(tp: TablePlan) -> str:
    keys = tp.conflict_keys
    if not keys:
        return "no key: insert all"
    policy = getattr(tp, "on_conflict", "reject")
    return f"{policy}; skip dup on " + " | ".join(f"({', '.join(k)})" for k in keys)


def triggers_summary(tp: TablePlan) -> str:
    """The table's user triggers that fire on the load and the decision about them."""
    fire = tp.table.load_triggers
    if not fire and not tp.triggers_off:
        return ""
    names = ", ".join(t.describe() for t in fire) or "none fire now"
    if tp.triggers_off:
        return f"triggers OFF for the load (g): {names}"
    return f"triggers on (g switches them off for the load): {names}"


def mapping_detail(tp: TablePlan) -> str:
    loaded = dict(tp.columns)
    parts = []
    for source in tp.csv_columns:
        target = loaded.get(source)
        if target is None:
            parts.append(f"{source} (dropped)")
        elif source != target:
            parts.append(f"{source}→{target}")
        else:
            parts.append(source)
    if tp.triggers_off:
        parts.append("[triggers off]")
    if tp.accept_rejects:
        parts.append("[rejects accepted]")
    if tp.group is not None:
        parts.append(f"[FK cycle group {tp.group}{', deferred FKs' if tp.deferred else ''}]")
    return ", ".join(parts)


class PlanScreen(StepScreen):
    STEP = "plan"
    HELP = (
        "The ticked tables in foreign-key order (parents first, across schemas), with the column "
        "mapping from the diff, the conflict policy (rows the target already has are skipped and "
        "counted as duplicates) and the sequences reset after the load. r runs a dry run: the real "
        "plan, executed and rolled back, so its numbers are what a real run would do. n starts "
        "the load (after a confirmation). j changes how many tables load side by side (auto: "
        "the machine's cores, capped by the target's free connections; a parent always commits "
        "before its children start). c cycles the highlighted table's conflict policy (reject, "
        "keep-target, take-export); after a dry run, v shows its conflicting records one by one, "
        "the export's values beside the target's. g switches the highlighted table's user triggers "
        "off for its load (an updated_at trigger would replace the export's values and the proof "
        "stay red), in its own transaction, on again as they were before it commits. a accepts "
        "the highlighted table's rejected records on purpose (after a dry run or a load that "
        "rejected some): they no longer fail the run, and the proof lists them as decided away "
        "(validate --accept-rejects). w saves "
        "every decision as a plan file that "
        "`aria-tui load --plan` and `aria-tui EXPORT_DIR --plan` replay."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "dry_run", "Dry run", id="dry-run"),
        Binding("c", "conflict_policy", "Conflict policy", id="conflict-policy"),
        Binding("v", "view_conflicts", "View conflicts", id="view-conflicts"),
        Binding("g", "triggers", "Triggers on/off", id="triggers-off"),
        Binding("a", "accept_rejects", "Accept rejects", id="accept-rejects"),
        Binding("w", "save_plan", "Save plan", id="save-plan"),
        Binding("j", "jobs", "Jobs", id="jobs"),
        Binding("n", "next", "Load", id="next"),
    ]
    JOBS = (0, 1, 2, 4, 8)

    def action_jobs(self) -> None:
        now = self.state.jobs
        self.state.jobs = self.JOBS[(self.JOBS.index(now) + 1) % len(self.JOBS)] if now in self.JOBS else 0
        self.show_summary()

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[PlanEntry] = []
        self.dry: dict[str, TableResult] = {}  # target -> dry-run TableResult as the events come in

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="dry-run-progress"):
            yield Static("Dry run…", id="dry-run-label")
            yield ProgressBar(id="dry-run-bar", show_eta=False, clock=self.wizard.clock)
        yield DataTable(id="plan-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="plan-detail")
        yield Static(id="plan-summary")

    def on_mount(self) -> None:
        table = self.query_one("#plan-table", DataTable)
        table.add_column(Text("#", justify="right"), key="order", width=3)
        table.add_column("Table", key="target", width=30)
        table.add_column(Text("Records", justify="right"), key="rows", width=8)
        table.add_column(Text("Insert", justify="right"), key="inserted", width=8)
        table.add_column(Text("Dup", justify="right"), key="duplicates", width=6)
        table.add_column(Text("Conf", justify="right"), key="conflicts", width=5)
        table.add_column(Text("Rej", justify="right"), key="rejected", width=5)
        table.add_column("Mapping", key="mapping")
        table.add_column("Conflict", key="conflict")
        table.add_column("Sequences", key="sequences")
        self.focus_main()
        super().on_mount()

    def focus_main(self) -> None:
        self.query_one("#plan-table", DataTable).focus()

    def sync(self) -> None:
        dry_running = self.wizard.busy("dryrun")
        self.query_one("#dry-run-progress").display = dry_running
        plan = self.state.plan
        table = self.query_one("#plan-table", DataTable)
        if plan is None:
            table.clear()
            self.entries = []
            self.status("No plan: go back (esc) and tick at least one loadable file.")
            return
        if not self.entries:
            self.entries = plan_entries(plan)
        keep = table.cursor_row
        table.clear()
        if self.state.dry_run is not None:
            self.dry = {r.target: r for r in self.state.dry_run.tables}
        elif not dry_running:
            self.dry = {}  # dropped (a real load ran since, or the plan changed): no prediction
        for e in self.entries:
            r = self.dry.get(e.target)
            table.add_row(
                Text(str(e.order), justify="right"),
                Text(fmt.clip(e.target, 30)),
                Text(fmt.count(e.rows), justify="right"),
                *_dry_cells(r),
                e.mapping,
                e.conflict,
                e.sequences,
                key=e.target,
            )
        if 0 <= keep < len(self.entries):
            table.move_cursor(row=keep, animate=False)
        self.show_detail()
        self.show_summary()
        if dry_running:
            self.status("Dry run: the real plan, executed and rolled back…")
        elif self.state.dry_run is None:
            self.status("r: dry run (nothing is kept) · n: load for real.")
        else:
            self.status("Dry run done: these are the numbers a real run produces. n loads.")

    def show_summary(self) -> None:
        rows = sum(e.rows for e in self.entries)
        size = sum(e.bytes for e in self.entries)
        jobs = self.state.jobs
        text = Text.assemble(
            (f"{len(self.entries)} tables", "bold"),
            f" · {fmt.count(rows)} records · {fmt.size(size)}",
            f" · jobs {'auto' if jobs == 0 else jobs} (j)",
        )
        result = self.state.dry_run
        if result is not None:
            inserted = sum(r.inserted for r in result.tables)
            upd = sum(r.updated for r in result.tables)
            dup = sum(r.duplicates for r in result.tables)
            conf = sum(r.conflicts for r in result.tables)
            rej = sum(r.rejected for r in result.tables)
            # every term of csv_rows = inserted + updated + duplicates + conflicts + rejected: a
            # target row take-export overwrites is said, never a record gone from the sum
            text.append(
                f"   dry run: {fmt.count(inserted)} insert · "
                + (f"{fmt.count(upd)} upd · " if upd else "")
                + f"{fmt.count(dup)} dup · {fmt.count(conf)} conf · {fmt.count(rej)} rej",
                style="green" if rej == 0 and conf == 0 and upd == 0 else "yellow",
            )
        plan = self.state.plan
        if plan is not None and plan.skipped:
            # ticked but not loadable (missing, blocked, no table): they fail the run, in plain view
            names = ", ".join(s.scan.file.name for s in plan.skipped[:2])
            more = ", ..." if len(plan.skipped) > 2 else ""
            text.append(
                f"\n{len(plan.skipped)} ticked file{'s' if len(plan.skipped) != 1 else ''} cannot "
                f"be loaded ({names}{more}): the run fails for {'them' if len(plan.skipped) != 1 else 'it'} "
                "(esc, untick on purpose)",
                style="bold red",
            )
        self.query_one("#plan-summary", Static).update(text)

    def show_detail(self) -> None:
        table = self.query_one("#plan-table", DataTable)
        detail = self.query_one("#plan-detail", Static)
        if not self.entries or not (0 <= table.cursor_row < len(self.entries)):
            detail.update("")
            return
        e = self.entries[table.cursor_row]
        text = Text()
        text.append(f"{e.file} → {e.target}", style="bold")
        text.append(f"   conflict: {e.conflict} · sequences: {e.sequences}\n", style="dim")
        text.append(f"columns: {e.detail}")
        if e.plan.ddl:
            text.append("\nDDL: " + "; ".join(e.plan.ddl + e.plan.ddl_after), style="bold")
        triggers = triggers_summary(e.plan)
        if triggers:
            text.append("\n" + triggers, style="bold" if e.plan.triggers_off else "yellow")
        r = self.dry.get(e.target)
        if r is not None and (r.error or r.reject_file):
            text.append(f"\n{r.error or 'rejects: ' + str(r.reject_file)}", style="yellow")
        detail.update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()
        self.refresh_bindings()  # v depends on the highlighted table's conflicts

    def load_event(self, event: LoadEvent) -> None:
        """Dry-run events: a bar over the tables, numbers filled in as each table finishes."""
        from aria_tui.load.events import TableFinished, TableStarted

        if isinstance(event, TableStarted):
            bar = self.query_one("#dry-run-bar", ProgressBar)
            bar.update(total=event.count, progress=event.index - 1)
            self.query_one("#dry-run-label", Static).update(
                f"Dry run {event.index}/{event.count} {event.target}"
            )
        elif isinstance(event, TableFinished):
            result = event.result
            self.dry[result.target] = result
            table = self.query_one("#plan-table", DataTable)
            cells = _dry_cells(result)
            for key, value in zip(
                ("inserted", "duplicates", "conflicts", "rejected"), cells, strict=True
            ):
                table.update_cell(result.target, key, value)

    # -- actions ---------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        dry_running = self.wizard.busy("dryrun")
        if action == "dry_run":
            return None if dry_running or self.state.plan is None else True
        # a table decision is shown only where there is something to decide (most tables have
        # no user trigger and no reject), and greyed out while a dry run holds its transaction
        if action == "triggers":
            tp = self._highlighted_plan()
            if not (tp is not None and (tp.table.load_triggers or tp.triggers_off)):
                return False
        if action == "accept_rejects" and not self._rejects_to_decide():
            return False
        if action in ("next", "back", "conflict_policy", "triggers", "accept_rejects") and dry_running:
            return None
        if action in ("triggers", "accept_rejects"):
            return True
        if action == "view_conflicts":
            result = self._highlighted_result()
            return True if result is not None and result.conflict_records else None
        return super().check_action(action, parameters)

    def action_conflict_policy(self) -> None:
        """c: the highlighted table's conflict policy, reject -> keep-target -> take-export."""
        from aria_tui.load.conflicts import POLICIES
        from aria_tui.load.plan import with_policy

        plan = self.state.plan
        table = self.query_one("#plan-table", DataTable)
        if plan is None or not (0 <= table.cursor_row < len(self.entries)):
            return
        target = self.entries[table.cursor_row].target
        tp = next(t for t in plan.tables if t.target == target)
        policy = POLICIES[(POLICIES.index(tp.on_conflict) + 1) % len(POLICIES)]
        # recorded with the other choices, so a plan made again (new ticks) and the saved file keep it
        self.state.choices = self.state.choices.with_policy(target, policy)
        self.state.plan = with_policy(plan, {target: policy})
        self.state.dry_run = None  # its numbers were for the other decision
        self.dry = {}
        self.entries = []
        self.sync()
        self.status(f"{target}: conflicts now {policy} (a dry run shows what that does).")

    def _highlighted_plan(self) -> TablePlan | None:
        table = self.query_one("#plan-table", DataTable)
        if not (0 <= table.cursor_row < len(self.entries)):
            return None
        return self.entries[table.cursor_row].plan

    def action_triggers(self) -> None:
        """g: load the highlighted table with its user triggers switched off, or on again."""
        from dataclasses import replace

        plan = self.state.plan
        tp = self._highlighted_plan()
        if plan is None or tp is None:
            return
        off = not tp.triggers_off
        self.state.choices = self.state.choices.with_triggers_off(tp.target, off)
        self.state.plan = replace(
            plan,
            tables=tuple(
                replace(t, triggers_off=off) if t.target == tp.target else t for t in plan.tables
            ),
        )
        self.state.dry_run = None  # its numbers were for the other decision
        self.dry = {}
        self.entries = []
        self.sync()
        self.status(
            f"{tp.target}: loaded with its user triggers switched off (on again before it "
            "commits)."
            if off
            else f"{tp.target}: its user triggers run on every loaded row."
        )

    def _rejects_to_decide(self) -> bool:
        """The highlighted table has rejects (of the dry run, or of a load, back here after it)
        or has them accepted already."""
        tp = self._highlighted_plan()
        if tp is None:
            return False
        results = [self._highlighted_result()]
        if self.state.run is not None:
            results.append(self.state.run.table(tp.target))
        rejects = any(r is not None and (r.rejected or r.previously_rejected) for r in results)
        return tp.accept_rejects or rejects

    def action_accept_rejects(self) -> None:
        """a: the highlighted table's rejected records are accepted on purpose (the plan's
        `accept_rejects`, `--accept-rejects` of load and validate): they no longer fail the run,
        and the proof lists them as decided away, with the reject file. a again takes it back."""
        from dataclasses import replace

        plan = self.state.plan
        tp = self._highlighted_plan()
        if plan is None or tp is None:
            return
        on = not tp.accept_rejects
        choices = self.state.choices
        accepted = choices.accept_rejects | {tp.target} if on else choices.accept_rejects - {tp.target}
        self.state.choices = replace(choices, accept_rejects=accepted)
        self.state.plan = replace(
            plan,
            tables=tuple(
                replace(t, accept_rejects=on) if t.target == tp.target else t for t in plan.tables
            ),
        )
        # the dry run's numbers stay true (accepting changes what fails, not what loads)
        self.entries = []
        self.sync()
        self.status(
            f"{tp.target}: its rejected records are accepted on purpose (decided away in the proof)."
            if on
            else f"{tp.target}: a rejected record fails the run again."
        )

    def _highlighted_result(self) -> TableResult | None:
        table = self.query_one("#plan-table", DataTable)
        if not (0 <= table.cursor_row < len(self.entries)):
            return None
        return self.dry.get(self.entries[table.cursor_row].target)

    def action_view_conflicts(self) -> None:
        """v: the dry run's conflicting records of the highlighted table, export beside target."""
        from aria_tui.ui.screens.conflicts import ConflictModal

        result = self._highlighted_result()
        if result is not None and result.conflict_records:
            self.app.push_screen(ConflictModal(result))

    def action_save_plan(self) -> None:
        """w: write the plan file (cutover.toml, 0600) that `aria-tui load --plan` replays."""
        from aria_tui import paths
        from aria_tui.load import cutover
        from aria_tui.pg.catalog import exact_row_count

        state = self.state
        if state.plan is None or state.inventory is None or state.connection is None:
            return
        try:
            with state.connection.target.connect() as conn:
                rows = {tp.target: exact_row_count(conn, tp.table) for tp in state.plan.tables}
                conn.rollback()
            text = cutover.render(
                state.plan,
                state.inventory,
                list(state.choices.decisions),
                rows,
                state.connection.target.display,
                "reject",
                jobs=state.jobs,
            )
            out = paths.private_dir(paths.data_dir() / "plans") / "cutover.toml"
            cutover.write(out, text)
        except Exception as exc:  # a failed save is said, the wizard goes on
            self.status(f"The plan could not be saved: {exc}", error=True)
            return
        state.plan_file = str(out)
        self.status(f"Plan saved to {out}: aria-tui load EXPORT_DIR --plan {out} replays it.")

    def action_dry_run(self) -> None:
        self.state.dry_run = None
        self.dry = {}
        self.wizard.dry_run()
        self.sync()


def _dry_cells(result: TableResult | None) -> list[Text]:
    if result is None:
        return [Text("·", justify="right", style="dim")] * 4
    if result.error:
        return [Text("failed", style="red"), Text(""), Text(""), Text("")]
    conflicts = getattr(result, "conflicts", 0)
    # rows take-export overwrites share the Insert cell ("1+1u"): the row's cells add up to its records
    inserted = fmt.count(result.inserted) + (
        f"+{fmt.count(result.updated)}u" if result.updated else ""
    )
    return [
        Text(inserted, justify="right", style="yellow" if result.updated else "green"),
        Text(fmt.count(result.duplicates), justify="right", style="dim" if not result.duplicates else ""),
        Text(fmt.count(conflicts), justify="right", style="yellow" if conflicts else "dim"),
        Text(fmt.count(result.rejected), justify="right", style="red" if result.rejected else "dim"),
    ]
