"""Step 4: the load. Overall and per-table progress, a log, and a cancel that says what it did."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import ProgressBar, RichLog, Static

from aria_tui.ui import fmt
from aria_tui.ui.components.table_meter import TableMeter, chunk_label, index_label
from aria_tui.ui.screens.base import StepScreen
from aria_tui.ui.screens.plan import plan_entries

if TYPE_CHECKING:
    from aria_tui.load.events import Event as LoadEvent
    from aria_tui.load.model import RunResult, TableResult

REPAINT_S = 0.25  # the overall line (elapsed, rate, ETA) repaints 4×/s even between events


class RunScreen(StepScreen):
    STEP = "run"
    HELP = (
        "The load, table by table in foreign-key order. Each table is one transaction: it is "
        "either fully loaded or untouched. Cancel (ctrl+c or esc, then y) rolls back the table in "
        "progress; finished tables stay committed, and running the load again resumes after them. "
        "When the load is done, n validates it."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "cancel", "Cancel", id="cancel", priority=True, key_display="^c/esc"),
        Binding("escape", "cancel", "Cancel", id="cancel-esc", show=False),
        Binding("escape", "back", "Back", id="back"),
        Binding("n", "next", "Validate", id="next"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.meters: dict[str, TableMeter] = {}
        self.bytes_done: dict[str, int] = {}
        self.rows_done: dict[str, int] = {}
        self.rows_total = 0
        self.bytes_total = 0
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.running: list[str] = []  # tables in progress, oldest first (several with --jobs)
        self.committed: set[str] = set()  # tables this run committed (loaded or resumed)
        self.cancel_requested = False
        self.phase = "copy"

    def compose_body(self) -> ComposeResult:
        entries = plan_entries(self.state.plan) if self.state.plan is not None else []
        self.rows_total = sum(e.rows for e in entries)
        self.bytes_total = sum(e.bytes for e in entries)
        with Vertical(id="overall"):
            yield ProgressBar(total=max(self.bytes_total, 1), id="overall-bar", show_eta=False, clock=self.wizard.clock)
            yield Static(id="overall-text")
        with VerticalScroll(id="tables"):
            for e in entries:
                meter = TableMeter(e.target, e.rows, clock=self.wizard.clock)
                self.meters[e.target] = meter
                yield meter
        yield Static(id="run-outcome")
        # min_width: RichLog's default (78) wraps wider than an 80-column screen shows
        yield RichLog(id="log", wrap=True, markup=False, max_lines=2000, min_width=20)

    def on_mount(self) -> None:
        self.started_at = self.wizard.clock.time
        self.set_interval(REPAINT_S, self.repaint_overall)
        self.query_one("#tables").focus()
        super().on_mount()

    def focus_main(self) -> None:
        self.query_one("#tables").focus()

    # -- events from the load worker (via the App) -----------------------------------------------

    def elapsed(self) -> float:
        end = self.finished_at if self.finished_at is not None else self.wizard.clock.time
        return max(end - (self.started_at or 0.0), 0.0)

    def log_line(self, text: str, style: str = "") -> None:
        self.query_one(RichLog).write(Text(f"[{fmt.duration(self.elapsed()):>6}] {text}", style=style))

    def load_event(self, event: LoadEvent) -> None:
        from aria_tui.load.events import Log, TableFinished, TableProgress, TableStarted

        if isinstance(event, TableProgress):
            meter = self.meters.get(event.target)
            self.rows_done[event.target] = event.rows_done
            self.bytes_done[event.target] = event.bytes_done
            if meter is not None:
                meter.chunked = meter.chunked or bool(event.chunks_total or event.chunks_done)
                meter.progressed(
                    event.rows_done,
                    event.rows_total,
                    event.rows_per_s,
                    event.eta_s,
                    event.phase,
                    index_label(event) if event.phase == "index" else chunk_label(event),
                )
            self.phase = event.phase
            self.repaint_overall()
        elif isinstance(event, TableStarted):
            if event.target not in self.running:
                self.running.append(event.target)
            meter = self.meters.get(event.target)
            if meter is not None:
                meter.started()
                meter.scroll_visible(animate=False)
        elif isinstance(event, TableFinished):
            self.table_finished(event.result)
        elif isinstance(event, Log):
            style = {"warning": "yellow", "error": "red"}.get(event.level, "")
            self.log_line(event.message, style)

    def table_finished(self, result: TableResult) -> None:
        from aria_tui.load import LOADED, RESUMED, SKIPPED

        if result.target in self.running:
            self.running.remove(result.target)
        meter = self.meters.get(result.target)
        self.rows_done[result.target] = result.csv_rows
        self.bytes_done[result.target] = self._bytes_of(result.target)
        if result.status in (LOADED, RESUMED):
            self.committed.add(result.target)
            summary = table_summary(result)
            if meter is not None:
                # committed, but a conflict or a reject left undecided is no ✓: `load` fails for it
                meter.finished(result.ok, summary)
            self.log_line(f"{result.target}: {summary}", "" if result.ok else "yellow")
            if result.reject_file:
                self.log_line(f"  rejects: {result.reject_file}", "yellow")
        elif result.status == SKIPPED and self.cancel_requested and result.chunks:
            # a file loading in chunks: each chunk committed on its own and stays in the target
            # (its commit record says so); only the chunks in flight rolled back
            self.rows_done[result.target] = 0
            self.bytes_done[result.target] = 0
            if meter is not None:
                meter.partly_kept(result.chunks)
            self.log_line(f"{result.target}: {result.error}", "yellow")
        elif result.status == SKIPPED and self.cancel_requested:
            # the table in progress when the operator cancelled: its transaction rolled back
            self.rows_done[result.target] = 0
            self.bytes_done[result.target] = 0
            if meter is not None and meter.state == "running":
                meter.rolled_back()
            elif meter is not None:
                meter.not_started()
            self.log_line(f"{result.target}: {result.error or 'rolled back'}", "yellow")
        else:
            if meter is not None:
                meter.finished(False, table_summary(result))
            self.log_line(f"{result.target}: {table_summary(result)}", "red")
        self.repaint_overall()

    @property
    def current(self) -> str | None:
        """The tables in progress, as one name for the sentences ('a, b' when side by side)."""
        return ", ".join(self.running) or None

    @property
    def loaded_tables(self) -> list[str]:
        """Tables committed by this run (✓, or ✗ for what was rejected or left in conflict)."""
        return [t for t in self.meters if t in self.committed]

    def _bytes_of(self, target: str) -> int:
        plan = self.state.plan
        for e in plan_entries(plan) if plan is not None else ():
            if e.target == target:
                return e.bytes
        return 0

    def repaint_overall(self) -> None:
        done_bytes = sum(self.bytes_done.values())
        done_rows = sum(self.rows_done.values())
        self.query_one("#overall-bar", ProgressBar).update(progress=min(done_bytes, max(self.bytes_total, 1)))
        elapsed = self.elapsed()
        rate = done_rows / elapsed if elapsed > 0 else 0.0
        byte_rate = done_bytes / elapsed if elapsed > 0 else 0.0
        eta = None
        if byte_rate > 0 and self.finished_at is None and self.phase == "copy":
            eta = (self.bytes_total - done_bytes) / byte_rate
        text = Text()
        finished = sum(1 for m in self.meters.values() if m.state in ("done", "failed"))
        text.append(f"{finished}/{len(self.meters)} tables", style="bold")
        text.append(
            f" · {fmt.count(done_rows)}/{fmt.count(self.rows_total)} records · {fmt.rate(rate)}"
            f" · elapsed {fmt.duration(elapsed)}"
        )
        if eta is not None:
            text.append(f" · ETA {fmt.duration(eta)}")
        self.query_one("#overall-text", Static).update(text)

    # -- outcome ---------------------------------------------------------------------------------------

    def cancelling(self) -> None:
        self.cancel_requested = True
        current = self.current or "the table in progress"
        self._outcome(
            f"Cancelling: {current} is rolling back; finished tables stay loaded.", "cancelled"
        )
        self.log_line("cancel requested", "yellow")

    def finished(self, result: RunResult | None, cancelled: bool) -> None:
        self.finished_at = self.wizard.clock.time
        if result is not None and result.seconds:
            # the core timed the run; the screen's clock may be a test's frozen one
            self.finished_at = (self.started_at or 0.0) + result.seconds
        if cancelled:
            rolled = [t for t, m in self.meters.items() if m.state in ("running", "rolled")]
            for t in rolled:
                if self.meters[t].state == "running":
                    self.meters[t].rolled_back()
            waiting = [t for t, m in self.meters.items() if m.state == "waiting"]
            for t in waiting:
                self.meters[t].not_started()
            kept = len(self.loaded_tables)
            parts = [f"Cancelled. {kept} finished table{'s' if kept != 1 else ''} stay loaded"]
            partial = [t for t, m in self.meters.items() if m.state == "partial"]
            if partial:
                parts.append(
                    f"{', '.join(partial)} keep{'s' if len(partial) == 1 else ''} the chunks "
                    "committed (in the target; a re-run loads the rest)"
                )
            if rolled:
                parts.append(f"{', '.join(rolled)} rolled back (nothing of it was written)")
            if waiting:
                parts.append(f"{len(waiting)} not started")
            self._outcome("; ".join(parts) + ". Running the load again resumes.", "cancelled")
            self.log_line("cancelled: " + "; ".join(parts[1:] or ["no table was in progress"]), "yellow")
            self.status("n validates what is loaded; esc goes back to the plan.")
        elif result is not None and result.ok:
            self._outcome(
                f"Loaded {len(self.loaded_tables)} tables in {fmt.duration(result.seconds)}. "
                "n validates.",
                "ok",
            )
            self.status("n validates the cutover.")
        else:
            failed = [t.target for t in (result.tables if result else ()) if not t.ok]
            self._outcome(
                f"Finished with problems in {len(failed)} table{'s' if len(failed) != 1 else ''} "
                f"({', '.join(failed[:3])}{'…' if len(failed) > 3 else ''}): see the log. "
                "n validates to see exactly what.",
                "failed",
            )
            self.status("n validates the cutover.")
        self.repaint_overall()
        self.log_line("load finished" if not cancelled else "load stopped")

    def failed(self, sentence: str) -> None:
        self.finished_at = self.wizard.clock.time
        for m in self.meters.values():
            if m.state == "running":
                m.rolled_back()
        self._outcome(f"The load stopped: {sentence}", "failed")
        self.log_line(sentence, "red")

    def _outcome(self, text: str, kind: str) -> None:
        widget = self.query_one("#run-outcome", Static)
        for k in ("ok", "cancelled", "failed"):
            widget.set_class(k == kind, f"-{k}")
        widget.update(text)

    def sync(self) -> None:
        if self.state.running:
            self.status("Loading… ctrl+c or esc cancels (the current table rolls back).")

    # -- actions ---------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # escape means cancel while the load runs and back to the plan afterwards
        if action == "cancel":
            if not self.state.running:
                return False
            return None if self.cancel_requested else True
        if action == "back" and self.state.running:
            return False
        return super().check_action(action, parameters)

    def action_cancel(self) -> None:
        from aria_tui.ui.screens.dialogs import ConfirmModal

        if not self.state.running or self.cancel_requested:
            return
        current = self.current or "The table in progress"
        chunked = [
            t for t in self.running if self.meters.get(t) is not None and self.meters[t].chunked
        ]
        rolls = f"{current} rolls back (nothing of it is written)"
        if chunked:
            # chunks commit one by one: a cancel keeps those already committed
            rolls = (
                f"{current} rolls back, but for the chunks of {', '.join(chunked)} already "
                "committed: they stay in the target, and a re-run loads the rest"
            )

        def answered(yes: bool | None) -> None:
            if yes and self.state.running:
                self.wizard.cancel_load()

        self.app.push_screen(
            ConfirmModal(
                "Cancel the load?",
                f"{rolls}. The {len(self.loaded_tables)} "
                "finished tables stay loaded; running the load again resumes after them.",
                yes="Cancel the load",
                no="Keep loading",
            ),
            answered,
        )


def table_summary(result: TableResult) -> str:
    """'51 new · 2 dup · 0 rej · 0s' (new = inserted), or the status and error for a table that did not load."""
    if result.error:
        return f"{result.status}: {result.error}"
    if result.status == "resumed":
        # what the earlier run(s) committed, its rejects and conflicts included: a resumed table
        # is not ✓ when a record of it is still not in the target
        earlier = [f"resumed · {fmt.count(result.previously_inserted)} new"]
        for n, word in (
            (result.previously_updated, "upd"),
            (result.previously_duplicates, "dup"),
            (result.previously_conflicts, "conf"),
            (result.previously_rejected, "rej"),
        ):
            if n:
                earlier.append(f"{fmt.count(n)} {word}")
        return " · ".join(earlier)
    # every term of csv_rows = inserted + updated + duplicates + conflicts + rejected that is not 0
    parts = [f"{fmt.count(result.inserted)} new"]
    if result.updated:
        parts.append(f"{fmt.count(result.updated)} upd")
    parts.append(f"{fmt.count(result.duplicates)} dup")
    if result.conflicts:
        kept = f" ({fmt.count(result.conflicts_kept)} kept)" if result.conflicts_kept else ""
        parts.append(f"{fmt.count(result.conflicts)} conf{kept}")
    parts += [f"{fmt.count(result.rejected)} rej", fmt.duration(result.seconds)]
    return " · ".join(parts)
