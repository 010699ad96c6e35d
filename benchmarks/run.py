#!/usr/bin/env python
r"""aria-tui's loader against `psql -c "\copy ..."`, side by side on one embedded server.

    python benchmarks/run.py [--full-archon] [--repeats N] [--quick]

Generates its inputs once with `aria-tui sample` (cached under benchmarks/.cache/), starts ONE
embedded PostgreSQL (pgserver: PostgreSQL + pgvector), and for each case runs psql's `\copy`,
aria-tui's fast path and aria-tui's forced staging path in rotating order, each into a fresh
database cloned from an empty bootstrapped template. Every run is checked (row counts in the
target, the loader's JSON report) before its time counts. Also measures the peak RSS of every
aria-tui process (getrusage of the child: exact, no polling) and record counting against
`wc -l`. Writes benchmarks/RESULTS.md (or RESULTS.quick.md with --quick). See README.md.

The steps live beside this file: inputs.py (the cached sample exports), server.py (the embedded
server), cases.py (what each case loads), harness.py (the psql and aria-tui sides, each run
checked), timing.py (wall, CPU and memory of a child), counting.py, profiling.py (--py-spy),
machine.py (the machine, the versions, the snapshot of aria_tui/) and report.py (RESULTS.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from cases import Case, export_case, single_table_case
from counting import counting
from env import CACHE, HERE, log
from harness import ARIA, PLAIN, PSQL, STAGING, Harness, Run
from inputs import Dataset, csv_header, dataset
from machine import machine_facts, take_snapshot
from profiling import py_spy
from report import CaseResult, human, render
from server import Server
from timing import timed


def arguments(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--full-archon", action="store_true", help="also the full 218,714-row crawled pages (4 GB)"
    )
    ap.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="runs per side and case (default 3; 1 with --quick)",
    )
    ap.add_argument(
        "--quick", action="store_true", help="small inputs, 1 repeat: for developing the harness"
    )
    ap.add_argument(
        "--archon-from",
        type=Path,
        metavar="DIR",
        help="reuse an existing full Archon export (e.g. /tmp/archon_full) instead of generating it",
    )
    ap.add_argument(
        "--cases",
        default="vector,activity,export,count",
        help="comma list of cases to run: vector, vector20k, vector_full, activity, activity_pk, "
        "export, count (vector_idx, the vector table under ivfflat + GIN + GIN trigram, needs a "
        "CPU with AVX-512 for the bundled pgvector and is skipped without one)",
    )
    ap.add_argument(
        "--prepare", action="store_true", help="only generate the cached inputs, then exit"
    )
    ap.add_argument(
        "--py-spy",
        action="store_true",
        help="after the timed runs, profile one run of each aria-tui side with py-spy",
    )
    ap.add_argument(
        "--no-snapshot",
        action="store_true",
        help="run the live aria_tui/ instead of a copy taken at the start",
    )
    ap.add_argument(
        "--no-phases",
        action="store_true",
        help="skip the extra in-process run per case that times each phase",
    )
    ap.add_argument("--no-staging", action="store_true", help="skip the forced staging path")
    args = ap.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    return args


class Inputs:
    """The sample exports the chosen cases need (generated once, then cached)."""

    def __init__(self, args: argparse.Namespace, cases: set[str]) -> None:
        q = args.quick
        self.crawled_n = 3000 if q else 50_000
        self.activity_n = 50_000 if q else 500_000
        self.aria = dataset("aria_small" if q else "aria_full", "aria_v4", "small" if q else "full")
        self.crawled = dataset(
            f"crawled_{self.crawled_n}",
            "archon",
            "small",
            {"archon_crawled_pages": self.crawled_n},
            only="archon_crawled_pages",
        )
        self.activity = dataset(
            f"activity_{self.activity_n}",
            "aria_v4",
            "small",
            {"activity_log": self.activity_n},
            only="activity_log",
        )
        self.crawled20: Dataset | None = None
        if "vector20k" in cases or "vector_idx" in cases:
            n20 = 2000 if q else 20_000
            self.crawled20 = dataset(
                f"crawled_{n20}",
                "archon",
                "small",
                {"archon_crawled_pages": n20},
                only="archon_crawled_pages",
            )
        self.full: Dataset | None = None
        if "vector_full" in cases:
            self.full = dataset(
                "crawled_full",
                "archon",
                "full",
                {"archon_crawled_pages": 218_714},
                only="archon_crawled_pages",
                reuse=args.archon_from,
            )

    def all(self) -> list[Dataset]:
        found = (self.aria, self.crawled, self.crawled20, self.activity, self.full)
        return [ds for ds in found if ds is not None]


def build_cases(cases: set[str], inputs: Inputs, server: Server) -> list[Case]:
    todo: list[Case] = []
    if "vector" in cases:
        todo.append(
            single_table_case(
                "vector",
                f"archon_crawled_pages, {inputs.crawled_n:,} rows (1536-d)",
                inputs.crawled,
                server,
                vector=True,
            )
        )
    if "vector_full" in cases and inputs.full is not None:
        todo.append(
            single_table_case(
                "vector_full",
                "archon_crawled_pages, 218,714 rows (1536-d)",
                inputs.full,
                server,
                vector=True,
            )
        )
    if "vector20k" in cases and inputs.crawled20 is not None:
        n20 = inputs.crawled20.rows["archon_crawled_pages.csv"]
        todo.append(
            single_table_case(
                "vector20k",
                f"archon_crawled_pages, {n20:,} rows (1536-d; fixed costs show)",
                inputs.crawled20,
                server,
                vector=True,
            )
        )
    if "vector_idx" in cases:
        if "avx512f" in Path("/proc/cpuinfo").read_text():
            assert inputs.crawled20 is not None
            case = single_table_case(
                "vector_idx",
                "archon_crawled_pages under ivfflat + GIN jsonb + GIN trigram",
                inputs.crawled20,
                server,
                vector=True,
            )
            case.template = server.with_indexes(case.template)
            todo.append(case)
        else:
            log("vector_idx skipped: this CPU has no avx512f and the bundled pgvector needs it")
    if "activity" in cases:
        todo.append(
            single_table_case(
                "activity",
                f"activity_log, {inputs.activity_n:,} rows",
                inputs.activity,
                server,
                vector=False,
            )
        )
    if "activity_pk" in cases:
        case = single_table_case(
            "activity_pk",
            f"activity_log, {inputs.activity_n:,} rows, into a table with only its primary key",
            inputs.activity,
            server,
            vector=False,
        )
        case.template = server.pk_only("aria_v4", case.tables[0].target)
        todo.append(case)
    if "export" in cases:
        todo.append(export_case(inputs.aria, server))
    return todo


def measure(
    case: Case, harness: Harness, sides: list[str], repeats: int
) -> tuple[dict[str, list[Run]], dict[str, str]]:
    """The timed runs of one case, sides in rotating order; a side that fails twice is dropped."""
    for t in case.tables:  # warm the page cache: no side pays for the first read
        subprocess.run(["cat", str(t.path)], stdout=subprocess.DEVNULL, check=True)
    runs: dict[str, list[Run]] = {s: [] for s in sides}
    failed: dict[str, str] = {}
    for i in range(repeats):
        order = sides[i % len(sides) :] + sides[: i % len(sides)]
        for side in order:
            if side in failed:
                continue
            try:
                run = harness.run(case, side)
            except RuntimeError as first:
                # one retry: the code under test may have been caught half-edited
                log(f"{case.key} {side} failed, retrying in 20 s: {str(first)[:300]}")
                time.sleep(20)
                try:
                    run = harness.run(case, side)
                except RuntimeError as exc:
                    failed[side] = str(exc)
                    log(f"{case.key} {side} failed again; no more runs of it: {str(exc)[:300]}")
                    continue
            runs[side].append(run)
            log(
                f"{case.key} #{i + 1} {side:<26} {run.seconds:8.2f} s  {run.rss_kb / 1024:7.0f} MB RSS ({run.anon_kb / 1024:.0f} anon)"
                + (f"  paths={','.join(run.paths)}" if run.paths else "")
            )
    return runs, failed


def count_step(inputs: Inputs, harness: Harness, server: Server, repeats: int) -> dict:
    biggest = inputs.full or inputs.crawled
    (path,) = biggest.files()
    # PostgreSQL's own count: checked by every psql run of the vector cases, else loaded here
    truth = harness.verified.get(path)
    if truth is None:
        db = server.fresh(server.template("archon"))
        cols = ", ".join(csv_header(path))
        meta = f"\\copy archon_crawled_pages ({cols}) FROM '{path}' WITH (FORMAT csv, HEADER true)"
        p = timed([server.psql, "-X", "-q", "-d", server.uri(db), "-c", meta])
        if p.code != 0:
            sys.exit(f"psql could not load {path.name}: {p.err.strip()}")
        truth = server.counts(db, ["archon_crawled_pages"])["archon_crawled_pages"]
    log(f"counting records of {path.name}")
    return counting(path, truth, repeats, server, "archon")


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    cases = set(args.cases.split(","))
    if args.full_archon:
        cases.add("vector_full")

    started = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    load_start = os.getloadavg()
    t0 = time.monotonic()
    CACHE.mkdir(exist_ok=True)
    if args.archon_from is not None:
        args.archon_from = args.archon_from.resolve()
    if not args.no_snapshot:
        take_snapshot()
        os.chdir(CACHE)  # not the repository: `python -m` would put the live aria_tui/ first
    where = subprocess.run(
        [sys.executable, "-c", "import aria_tui; print(aria_tui.__file__)"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    log(f"loader: {where}; load average {load_start}")

    inputs = Inputs(args, cases)
    if args.prepare:
        for ds in inputs.all():
            log(f"{ds.key}: {len(ds.rows)} files, {human(ds.bytes)} in {ds.folder}")
        return 0

    state = CACHE / "state"
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir()
    server = Server(CACHE / "pgdata")
    facts = machine_facts(server)
    log(f"server up: PostgreSQL {facts['postgresql']}, pgvector {facts['pgvector']}")
    harness = Harness(server, state)
    if not harness.has_force_staging and not args.no_staging:
        log("aria-tui load has no --force-staging: the staging path is not measured")
    todo = build_cases(cases, inputs, server)

    sides = [PSQL, ARIA]
    if not args.no_staging and harness.has_force_staging:
        sides.append(STAGING)
    results: list[CaseResult] = []
    profiles_text: dict[str, str] = {}
    failures: list[str] = []
    for case in todo:
        # the whole export also against a plain client that only copies (plain_client.py)
        case_sides = [*sides, PLAIN] if case.key == "export" else sides
        runs, failed = measure(case, harness, case_sides, args.repeats)
        result = CaseResult(case, {s: r for s, r in runs.items() if r}, failed=failed)
        if PSQL not in result.runs:
            log(f"{case.key}: psql never loaded it; the case is left out")
            failures.append(f"{case.title}: psql failed: {failed.get(PSQL, '?')}")
            continue
        failures.extend(f"{case.title}: {side} failed: {why}" for side, why in failed.items())
        if not args.no_phases:
            for side in sides[1:]:
                timings = harness.phases(case, side)
                if timings:
                    result.phases[side] = timings
                    log(f"{case.key} phases {side}: " + json.dumps(timings))
        results.append(result)
        if args.py_spy:
            prof_dir = CACHE / "profiles"
            prof_dir.mkdir(exist_ok=True)
            for side in sides[1:]:
                log(f"py-spy: {case.key} {side}")
                profiles_text[f"{case.key} / {side}"] = py_spy(harness, case, side, prof_dir)
                print(
                    f"--- py-spy {case.key} / {side}\n{profiles_text[f'{case.key} / {side}']}",
                    file=sys.stderr,
                )

    count = count_step(inputs, harness, server, args.repeats) if "count" in cases else None

    load_end = os.getloadavg()
    text = render(
        facts,
        results,
        count,
        args,
        load_start,
        load_end,
        started,
        (time.monotonic() - t0) / 60,
        failures,
    )
    print(text)
    dest = CACHE / "RESULTS.quick.md" if args.quick else HERE / "RESULTS.md"
    dest.write_text(text + "\n")
    (CACHE / "last_run.json").write_text(
        json.dumps(
            {
                "facts": facts,
                "count": count,
                "cases": {
                    r.case.key: {
                        "runs": {s: [vars(x) for x in v] for s, v in r.runs.items()},
                        "phases": r.phases,
                    }
                    for r in results
                },
            },
            indent=1,
            default=str,
        )
    )
    log(f"wrote {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
