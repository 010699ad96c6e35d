"""One line per table on the Run step: name, bar, records, records/s, ETA, then the outcome."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.clock import Clock
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static

from aria_tui.ui import fmt

PHASES = {
    "check": "finding bad rows",
    "insert": "inserting, skipping duplicates",
    "index": "building indexes",
    "settle": "checking counts",
}


def index_label(event: Any) -> str:
    """'index 2/3 public.docs_meta_gin 40% · ETA 3s' from a TableProgress of the index phase."""
    if not getattr(event, "index", None):
        return PHASES["index"]
    text = f"index {event.index_number}/{event.index_count} {fmt.clip(event.index, 30)}"
    if event.index_total:
        text += f" {100 * event.index_done // event.index_total}%"
    if event.eta_s is not None:
        text += f" · ETA {fmt.duration(event.eta_s)}"
    return text


def chunk_label(event: Any) -> str | None:
    """'chunks 3/8' while a file loads in chunks over several connections (None otherwise)."""
    done, total = getattr(event, "chunks_done", 0), getattr(event, "chunks_total", 0)
    if not (done or total):
        return None
    return f"chunks {done}/{total or '?'}"


class TableMeter(Horizontal):
    DEFAULT_CLASSES = "-waiting"

    def __init__(self, target: str, rows_total: int, clock: Clock | None = None) -> None:
        super().__init__()
        self.target = target
        self.rows_total = rows_total
        self.rows_done = 0
        self.bytes_done = 0
        self.clock = clock
        self.state = "waiting"
        self.chunked = False  # loading in chunks, each committed on its own

    def compose(self) -> ComposeResult:
        yield Static(Text(f"· {fmt.clip(self.target, 26)}"), classes="tp-name")
        yield ProgressBar(total=max(self.rows_total, 1), show_eta=False, clock=self.clock)
        yield Static(Text(f"{fmt.count(self.rows_total)} records", style="dim"), classes="tp-stats")

    def _set_state(self, state: str, mark: str) -> None:
        self.remove_class(f"-{self.state}")
        self.state = state
        self.add_class(f"-{state}")
        self.query_one(".tp-name", Static).update(Text(f"{mark} {fmt.clip(self.target, 26)}"))

    def started(self) -> None:
        self._set_state("running", "▶")
        self.query_one(".tp-stats", Static).update(Text("starting…", style="italic"))

    def progressed(
        self,
        rows_done: int,
        rows_total: int,
        rows_per_s: float | None,
        eta_s: float | None,
        phase: str = "copy",
        detail: str | None = None,
    ) -> None:
        if self.state != "running":
            self._set_state("running", "▶")
        self.rows_done = rows_done
        if rows_total and rows_total != self.rows_total:
            self.rows_total = rows_total
        bar = self.query_one(ProgressBar)
        bar.update(total=max(self.rows_total, 1), progress=min(rows_done, max(self.rows_total, 1)))
        stats = self.query_one(".tp-stats", Static)
        if phase == "copy":
            stats.update(
                Text(
                    f"{fmt.count(rows_done)}/{fmt.count(self.rows_total)} · "
                    f"{fmt.rate(rows_per_s)} · ETA {fmt.duration(eta_s)}"
                    + (f" · {detail}" if detail else "")
                )
            )
        else:
            # after streaming, the server checks and inserts: no rate to show, but not stuck either
            label = detail or PHASES.get(phase, phase)
            stats.update(Text(f"{fmt.count(rows_done)} read · {label}…", style="italic"))

    def finished(self, ok: bool, summary: str) -> None:
        self._set_state("done" if ok else "failed", "✓" if ok else "✗")
        if ok:
            bar = self.query_one(ProgressBar)
            bar.update(total=max(self.rows_total, 1), progress=max(self.rows_total, 1))
        self.query_one(".tp-stats", Static).update(Text(summary, style="" if ok else "red"))

    def rolled_back(self) -> None:
        self._set_state("rolled", "↺")
        self.query_one(ProgressBar).update(progress=0)  # what the bar showed is no longer there
        self.query_one(".tp-stats", Static).update(Text("rolled back, nothing written", style="yellow"))

    def partly_kept(self, chunks: int) -> None:
        """Cancelled while loading in chunks: the committed chunks stay, the rest rolled back."""
        self._set_state("partial", "◐")
        self.query_one(ProgressBar).update(progress=0)
        self.query_one(".tp-stats", Static).update(
            Text(f"cancelled · {chunks} chunks kept", style="yellow")
        )

    def not_started(self) -> None:
        self._set_state("skipped", "·")
        self.query_one(".tp-stats", Static).update(Text("not started", style="dim"))
