"""Progress values the loader sends through ONE callback, `on_event(event)`.

The wizard turns them into Textual messages and the CLI into a Rich display; the core never knows
which. Ticks are throttled (about ten a second) and never sent per row. The callback is called
from the loading thread and, while a table loads, from a heartbeat thread too (so that ticks keep
coming while the server is busy): it must be thread-safe and quick (post a message, set a field).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aria_tui.load.model import RunResult, TableResult

INFO = "info"
WARNING = "warning"
ERROR = "error"


@dataclass(frozen=True)
class TableStarted:
    target: str  # 'schema.table'
    file: str
    rows_total: int  # records the scan counted
    bytes_total: int
    index: int  # 1-based position in the plan
    count: int  # tables in the plan


@dataclass(frozen=True)
class TableProgress:
    target: str
    rows_done: int  # records read so far (estimated from bytes on the raw COPY paths)
    rows_total: int
    bytes_done: int
    bytes_total: int
    rows_per_s: float
    eta_s: float | None  # None until there is a rate to extrapolate from
    phase: str = "copy"  # 'copy' (streaming the file) | 'check' (finding bad rows) | 'insert'
    # | 'index' (building the secondary indexes after the data; the fields below say which)
    index: str | None = None  # the index being built, schema-qualified
    index_number: int = 0  # 1-based, of index_count
    index_count: int = 0
    index_step: str = ""  # pg_stat_progress_create_index's phase, e.g. 'building index: ...'
    index_done: int = 0  # blocks or tuples done in that step (0 when the server does not say)
    index_total: int = 0
    # a file loaded in chunks over several connections (load/chunked.py)
    chunks_done: int = 0  # committed so far
    chunks_total: int = 0  # 0 until the cutting pass has found them all


@dataclass(frozen=True)
class TableFinished:
    result: TableResult


@dataclass(frozen=True)
class RunFinished:
    result: RunResult


@dataclass(frozen=True)
class Log:
    message: str
    level: str = INFO  # 'info' | 'warning' | 'error'


Event = TableStarted | TableProgress | TableFinished | RunFinished | Log
EventCallback = Callable[[Any], None]

TICK_S = 0.1  # at most ten progress ticks a second
HEARTBEAT_S = 0.2  # during a long SQL statement, still at least four ticks a second


class Emitter:
    """Throttles progress ticks and keeps the rate and ETA arithmetic in one place.

    Thread-safe: the heartbeat thread and the loading thread may both call `progress`.
    """

    def __init__(self, on_event: EventCallback | None) -> None:
        self._on_event = on_event
        self._lock = threading.Lock()
        self._last = 0.0
        self._target = ""
        self._rows_total = 0
        self._bytes_total = 0
        self._started = time.monotonic()
        self._done = (0, 0)
        self._phase = "copy"
        self._index: dict[str, Any] | None = None

    def emit(self, event: Any) -> None:
        if self._on_event is not None:
            self._on_event(event)

    def log(self, message: str, level: str = INFO) -> None:
        self.emit(Log(message, level))

    def start_table(self, event: TableStarted) -> None:
        with self._lock:
            self._target = event.target
            self._rows_total = event.rows_total
            self._bytes_total = event.bytes_total
            self._started = time.monotonic()
            self._last = 0.0
            self._done = (0, 0)
            self._phase = "copy"
            self._index = None
        self.emit(event)

    # -- the index phase (aria_tui.load.indexes) ------------------------------------------------
    def index_started(self, name: str, number: int, count: int) -> None:
        with self._lock:
            self._index = {
                "index": name,
                "index_number": number + 1,
                "index_count": count,
                "index_step": "",
                "index_done": 0,
                "index_total": 0,
                "since": time.monotonic(),
                "phase_since": time.monotonic(),
            }
            self._phase = "index"
        self.progress(phase="index", force=True)

    def index_progress(self, step: str, done: int, total: int) -> None:
        with self._lock:
            if self._index is None:
                return
            if step != self._index["index_step"]:
                self._index["phase_since"] = time.monotonic()
            self._index.update(index_step=step, index_done=done, index_total=total)
        self.progress()

    def index_finished(self) -> None:
        with self._lock:
            self._index = None
            if self._phase == "index":
                self._phase = "settle"
        self.progress(force=True)

    def progress(
        self,
        bytes_done: int | None = None,
        rows_done: int | None = None,
        phase: str | None = None,
        force: bool = False,
        chunks: tuple[int, int | None] | None = None,
    ) -> None:
        now = time.monotonic()
        with self._lock:
            if phase is not None:
                self._phase = phase
            b, r = self._done
            if bytes_done is not None:
                b = bytes_done
            if rows_done is not None:
                r = rows_done
            elif bytes_done is not None and self._bytes_total:
                # raw COPY paths do not parse records: estimate them from the bytes sent
                r = int(self._rows_total * min(1.0, b / self._bytes_total))
            self._done = (b, r)
            if not force and now - self._last < TICK_S:
                return
            self._last = now
            elapsed = max(now - self._started, 1e-6)
            rate = r / elapsed
            frac = b / self._bytes_total if self._bytes_total else (1.0 if r else 0.0)
            eta = elapsed * (1 - frac) / frac if 0 < frac <= 1 and self._phase == "copy" else None
            extra: dict[str, Any] = {}
            if chunks is not None:
                extra = {"chunks_done": chunks[0], "chunks_total": chunks[1] or 0}
            if self._phase == "index" and self._index is not None:
                ix = self._index
                extra = {k: ix[k] for k in ix if k.startswith("index")}
                done, total = ix["index_done"], ix["index_total"]
                if 0 < done <= total:  # this index's current step, extrapolated
                    spent = max(now - ix["phase_since"], 1e-6)
                    eta = spent * (total - done) / done
            event = TableProgress(
                target=self._target,
                rows_done=r,
                rows_total=self._rows_total,
                bytes_done=b,
                bytes_total=self._bytes_total,
                rows_per_s=rate,
                eta_s=eta,
                phase=self._phase,
                **extra,
            )
        self.emit(event)

    def heartbeat(self, phase: str | None = None) -> _Heartbeat:
        """Keep ticking (at least four a second) while a table loads, even when the server is
        slow to take a write or one long SQL statement runs."""
        return _Heartbeat(self, phase)


class _Heartbeat:
    def __init__(self, emitter: Emitter, phase: str | None) -> None:
        self._emitter = emitter
        self._phase = phase
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _Heartbeat:
        self._emitter.progress(phase=self._phase, force=True)
        if self._emitter._on_event is not None:
            self._thread = threading.Thread(
                target=self._run, name="aria-load-heartbeat", daemon=True
            )
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            self._emitter.progress(force=True)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
