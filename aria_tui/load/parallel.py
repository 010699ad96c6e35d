"""`--jobs N`: independent tables load side by side, each over its own connection.

A unit (one table, or the tables of one FK cycle) starts only when every unit it references has
finished, so a parent is committed before any of its children starts: the children's foreign-key
checks see their parents' rows, exactly as in a serial run. Each worker is a `Runner`
(runner.py) of its own (its connection, cancel watch and progress emitter); all share the run's
journal, behind a lock. Units with vector columns load one at a time: they are bound by the client's CPU and each
holds its read-ahead blocks, so two side by side would cost memory and buy nothing.

`jobs=1` is the serial run. The default (`jobs=0`) is the machine's cores, capped by the
connections the target has free (one kept spare for the index-progress poller and for others).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from aria_tui.load import model as m

FREE_QUERY = """
SELECT current_setting('max_connections')::int
     - current_setting('superuser_reserved_connections')::int
     - coalesce(current_setting('reserved_connections', true)::int, 0)
     - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')
"""


def free_connections(conn: psycopg.Connection) -> int | None:
    """Connections the target can still accept from us (None when it will not say)."""
    try:
        row = conn.execute(FREE_QUERY).fetchone()
        n = row[0] if row is not None else None
    except psycopg.Error:
        return None
    finally:
        if not conn.autocommit:
            conn.rollback()
    return int(n) if n is not None else None


def cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def auto_jobs(conn: psycopg.Connection) -> int:
    """The default --jobs: the machine's cores, capped by the target's free connections (one left
    spare). Tables side by side take at most one each; a large file's chunks take them all."""
    jobs = cores()
    free = free_connections(conn)
    if free is not None:  # our own connection is counted already; leave one spare
        jobs = min(jobs, max(free, 1))
    return max(1, jobs)


def parents(units: list[list[m.TablePlan]]) -> list[set[int]]:
    """For each unit, the earlier units its tables reference (the plan is parents first)."""
    where = {tp.target: i for i, unit in enumerate(units) for tp in unit}
    out: list[set[int]] = []
    for i, unit in enumerate(units):
        refs = {
            where[fk.ref_table]
            for tp in unit
            for fk in tp.table.foreign_keys
            if fk.ref_table in where and where[fk.ref_table] != i
        }
        out.append(refs)
    return out


# What a unit costs, roughly, in seconds: only the order it buys matters (the longest chain of
# parents and children, or the biggest file, starts first, so no connection ends up alone with it
# at the end), so bytes at the rate each path reads them and a fixed cost per table do. Measured
# on the Aria export (benchmarks/run.py --cases export): small tables ~8 ms each, plain CSV
# under its indexes ~20 MB/s per connection, vector text parsed on the client ~100 MB/s.
TABLE_SECONDS = 0.008
PLAIN_BYTES_PER_S = 20e6
VECTOR_BYTES_PER_S = 100e6


def cost(unit: list[m.TablePlan]) -> float:
    return sum(
        TABLE_SECONDS
        + tp.scan.file.bytes / (VECTOR_BYTES_PER_S if tp.vector_columns else PLAIN_BYTES_PER_S)
        for tp in unit
    )


def priorities(units: list[list[m.TablePlan]]) -> list[float]:
    """Each unit's cost plus the costliest chain of units waiting on it (list scheduling by
    critical path: picking the ready unit with the highest value keeps both the long FK chains
    and the big files off the end of the run)."""
    ups = parents(units)
    children: list[list[int]] = [[] for _ in units]
    for i, refs in enumerate(ups):
        for j in refs:
            children[j].append(i)
    memo: dict[int, float] = {}

    def chain(i: int) -> float:
        if i not in memo:
            memo[i] = 0.0  # an FK cycle is one unit; this only guards the recursion
            memo[i] = cost(units[i]) + max((chain(k) for k in children[i]), default=0.0)
        return memo[i]

    return [chain(i) for i in range(len(units))]


def levels(units: list[list[m.TablePlan]]) -> list[int]:
    """FK level of each unit: 0 for a unit referencing none of the others, else 1 + its parents'."""
    ups = parents(units)
    lv: list[int] = []
    for i in range(len(units)):
        lv.append(1 + max((lv[j] for j in ups[i] if j < i), default=-1))
    return lv


class LockedJournal:
    """The run's journal, shared by the workers: one writer at a time."""

    def __init__(self, journal: Any) -> None:
        self._journal = journal
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._journal, name)

    def get(self, target: str) -> Any:
        with self._lock:
            return self._journal.get(target)

    def record(self, entry: Any) -> None:
        with self._lock:
            self._journal.record(entry)


@dataclass
class Outcome:
    """What run_plan reads back from a run: the same attributes as one serial runner's."""

    cancelled: bool = False
    stopped: bool = False
    stopped_at: str | None = None
    stop_reason: str | None = None
    workers: int = 1


def run_units(
    units: list[list[m.TablePlan]],
    total: int,
    jobs: int,
    first: Any,
    new_runner: Callable[[], tuple[Any, Callable[[], None]] | None],
) -> tuple[list[m.TableResult], Outcome]:
    """Load `units` with up to `jobs` runners: `first` (already connected) and up to jobs - 1
    made by `new_runner()` (a runner and its closer, or None when no connection could be had)."""
    ups = parents(units)
    vector = [any(tp.vector_columns for tp in unit) for unit in units]
    # the most urgent first; among equals, plan order (a serial run keeps the plan's order)
    pending = list(range(len(units)))
    if jobs > 1:
        rank = priorities(units)
        pending.sort(key=lambda i: (-rank[i], i))
    done: set[int] = set()
    results: dict[int, list[m.TableResult]] = {}
    cond = threading.Condition()
    state = {"stop": False, "vector": 0}
    outcome = Outcome()
    errors: list[BaseException] = []

    def pick() -> int | None:
        for i in pending:
            if ups[i] <= done and not (vector[i] and state["vector"]):
                return i
        return None

    def work(runner: Any) -> None:
        while True:
            with cond:
                while True:
                    if state["stop"] or not pending:
                        cond.notify_all()
                        return
                    i = pick()
                    if i is not None:
                        break
                    cond.wait()
                pending.remove(i)
                if vector[i]:
                    state["vector"] += 1
            try:
                out = runner.unit(units[i], total)
            except BaseException as exc:  # the target is gone, or a bug: stop, re-raise below
                with cond:
                    errors.append(exc)
                    state["stop"] = True
                    cond.notify_all()
                return
            with cond:
                results[i] = out
                done.add(i)
                if vector[i]:
                    state["vector"] -= 1
                if runner.cancelled:
                    outcome.cancelled = True
                if runner.stopped:
                    state["stop"] = True
                    outcome.stopped = True
                    if outcome.stopped_at is None:
                        outcome.stopped_at = runner.stopped_at
                        outcome.stop_reason = runner.stop_reason
                cond.notify_all()

    threads = [threading.Thread(target=work, args=(first,), name="aria-load-1", daemon=True)]
    closers: list[Callable[[], None]] = []
    for k in range(1, min(jobs, len(units))):
        made = new_runner()
        if made is None:
            break  # the target has no more connections for us: fewer workers, same result
        runner, close = made
        closers.append(close)
        threads.append(
            threading.Thread(target=work, args=(runner,), name=f"aria-load-{k + 1}", daemon=True)
        )
    outcome.workers = len(threads)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for close in closers:
            close()
    if errors:
        raise errors[0]
    ordered = [r for i in sorted(results) for r in results[i]]
    return ordered, outcome
