"""`scan()`: an export folder and a live target in, an Inventory out.

The CSV side of each file (header, record count, structure, value sample) runs in a thread pool,
since polars does that work outside the GIL; then the target is asked about the sampled values of
all files in one statement, on the caller's connection, from the calling thread. A file that
cannot be read is blocked with its reason; it never stops the scan of the others.

Every reason a file cannot be loaded travels as data: `Diff.blockers`, each a `Blocker(kind,
sentence)` (aria_tui.status). A file the export's manifest lists, or the profile rates HIGH or
MEDIUM, that is absent from the folder is listed too (status `missing`, 0 rows).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg

from aria_tui import csvio, profiles
from aria_tui.csvio import CsvProblem, ExportFile, Header
from aria_tui.errors import AriaError, first_line
from aria_tui.manifest.check import check_folder
from aria_tui.manifest.format import MANIFEST_NAME
from aria_tui.pg.catalog import Catalog, Table, read_catalog
from aria_tui.profiles import Profile, TableEntry
from aria_tui.scan.alignment import align
from aria_tui.scan.expected import apply_manifest, missing_files
from aria_tui.scan.inventory import classify, default_selected
from aria_tui.scan.matching import TargetMatch, match_target
from aria_tui.scan.model import (
    Diff,
    Inventory,
    ScanProgress,
    TableScan,
)
from aria_tui.scan.sample import HEAD_BYTES, FileSample, sample_file
from aria_tui.scan.server_check import check_samples
from aria_tui.scan.verdict import judge
from aria_tui.status import Blocker, BlockerKind
from aria_tui.timing import mark

ProgressCallback = Callable[[ScanProgress], None]


@dataclass
class _FileRead:
    """The CSV side of one file, produced in a worker thread."""

    file: ExportFile
    entry: TableEntry | None
    match: TargetMatch
    header: Header | None = None
    rows: int = 0
    rows_estimated: bool = False
    problem: CsvProblem | None = None
    sample: FileSample | None = None
    unread: bool = False  # not read beyond its header: the caller does not need it (`needed`)


# (file, its target 'schema.table' or None, its priority or None) -> read it in full?
Needed = Callable[[ExportFile, "str | None", "str | None"], bool]


def scan(
    folder: Path | str,
    conn: psycopg.Connection,
    profile: str | Profile | None = None,
    progress: ProgressCallback | None = None,
    *,
    target_display: str | None = None,
    workers: int | None = None,
    sample_values: bool = True,
    count_large: bool = True,
    needed: Needed | None = None,
) -> Inventory:
    """Inventory and schema diff of every CSV file in `folder` against the target behind `conn`.

    `profile`: a name, a Profile, 'none' for generic mode, or None to detect it from the file
    names. Raises ExportError (one sentence) when the folder itself is unusable. `progress` is
    called from this thread; an exception it raises (e.g. Cancelled) stops the scan.
    `sample_values=False` skips the value sample behind the type warnings (`Diff.type_issues`),
    for a caller that checks every value itself: mappings and blocked verdicts stay the same.
    `count_large=False` reads only the head of a file (2,000 records; all of a file above
    csvio.LARGE_BYTES but its head, of a smaller one all but its head, when its values need no
    look) and estimates its records (`TableScan.rows_estimated`), for the loader, which reads,
    checks and counts every record anyway: a second pass over a 1 GB file before loading it
    cost a fifth of the load, over the 37 MB of the Aria export a fifth of a second.
    `needed(file, target, priority)` False: the file is not read beyond its header (a load of a
    few tables of a large export); its TableScan is blocked with a reason saying so, never
    selected. The caller must ask for every file it may select (Selection.needs).
    """
    folder = Path(folder)
    files = csvio.discover(folder)
    csvio.tune_malloc()  # before the reading threads start (see there)
    prof = profile if isinstance(profile, Profile) else profiles.resolve(profile, [f.stem for f in files])
    catalog = read_catalog(conn)
    mark("scan: catalog read")
    total = len(files)
    if progress:
        progress(ScanProgress(0, total, None))

    reads: dict[int, _FileRead] = {}
    stop = threading.Event()  # set when the scan is abandoned: workers leave their file early
    # the workers mostly wait on polars and the disk with the GIL released: more than the cores
    workers = workers or min(8, 2 * (os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aria-scan") as pool:
        # the manifest (issue 10) hashes every file: let it run beside the reading, not before it
        manifest_future = pool.submit(check_folder, folder, files)
        futures = {
            pool.submit(_read_file, f, catalog, prof, stop, sample_values, count_large, needed): i
            for i, f in enumerate(files)
        }
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                i = futures[future]
                reads[i] = future.result()  # _read_file never raises
                if progress:
                    progress(ScanProgress(done, total, files[i].name))
            check = manifest_future.result()  # ExportError: a damaged manifest is no proof
        except BaseException:
            stop.set()
            for f in futures:
                f.cancel()
            manifest_future.cancel()
            raise
    ordered = [reads[i] for i in range(total)]
    mark("scan: files read")
    try:
        check_samples([r.sample for r in ordered if r.sample is not None and r.problem is None], conn)
        server_error = None
    except psycopg.Error as exc:  # the target went away mid-scan: every file says so
        server_error = f"The target could not check the sampled values: {_first_line(exc)}."
    tables = [_finish_safely(r, prof, server_error) for r in ordered]
    if check is not None:
        tables = [apply_manifest(t, check, prof, catalog) for t in tables]
    tables = _note_shared_targets(tables)
    tables += missing_files(folder, tables, check, prof, catalog)

    return Inventory(
        export=folder,
        profile=prof.name if prof else None,
        target_display=target_display or _display(conn),
        tables=tuple(tables),
        catalog=catalog,
        notes=tuple(fc.reason or fc.file for fc in check.missing) if check else (),
        manifest=str(check.folder / MANIFEST_NAME) if check else None,
    )


def _read_file(
    f: ExportFile,
    catalog: Catalog,
    prof: Profile | None,
    stop: threading.Event,
    sample_values: bool = True,
    count_large: bool = True,
    needed: Needed | None = None,
) -> _FileRead:
    entry = prof.entry(f.stem) if prof else None
    read = _FileRead(file=f, entry=entry, match=match_target(f.stem, catalog, prof, entry))
    try:
        header = csvio.read_header(f.path)
        if isinstance(header, CsvProblem):
            read.problem = header
            return read
        read.header = header
        if needed is not None:
            target = read.match.table.qualified if read.match.table else None
            if not needed(f, target, classify(prof, entry).priority):
                read.unread = True
                return read
        table = read.match.table
        alignment = align(header.columns, table, entry.renames if entry else {}) if table else None
        # A large file is neither mapped whole nor read record by record here: `aria-tui load`
        # scans before it loads, and its memory must stay flat in the file size (csvio's fast
        # count maps the file, and mapped pages count in RSS). Its sampling pass counts it.
        large = f.bytes > csvio.LARGE_BYTES
        # sample_file streams such a file whole and counts its records as COPY does: a count
        # before it is a second pass over the file, needed only to spread the value sample
        # over it (the renames' and the type warnings' sample), not for what a load reads
        streamed = alignment is not None and (not large or bool(alignment.extras))
        spread = sample_values or bool(alignment and alignment.candidates)
        if alignment is None or (streamed and spread):
            read.rows = csvio.count_records(f.path, flat=large)
        if table is not None:
            assert alignment is not None
            # streaming the file for the sample is also its structure check: no second pass
            probe = alignment
            if not sample_values:
                # only rename candidates are sampled (their values decide whether they are
                # renames), and columns whose type would silently change some values (such a
                # value blocks the file); the stream still checks structure and extra columns
                lossy = {t for t in alignment.mapping.values() if t and _may_lose(table, t)}
                # a large file's load scan reads only its head (count_large=False): its bytes
                # are searched a little beyond what that head reaches (sample.HEAD_BYTES)
                head = HEAD_BYTES + (1 << 16) if large else None
                if lossy and (not large or not count_large) and _none_lost(f.path, table, lossy, head):
                    lossy = set()  # no value of the file can be changed: none to read
                probe = replace(
                    alignment,
                    mapping={c: t if t in lossy else None for c, t in alignment.mapping.items()},
                )
            read.sample = sample_file(
                f.path, header, read.rows, probe, table, stop.is_set, large=large, count=count_large
            )
            read.sample.alignment = alignment
            read.problem = read.sample.problem
            if read.sample.records is not None:
                read.rows = read.sample.records
            elif read.sample.estimate is not None and read.problem is None:
                read.rows, read.rows_estimated = read.sample.estimate, True
            elif read.problem is not None and not read.rows:
                read.rows = csvio.count_records(f.path, flat=large)
        # a file with no target table is not read beyond its header and count: it cannot be
        # loaded whatever its records hold, and scanning must stay quick
    except AriaError as exc:
        read.problem = _problem(f, str(exc))
    except Exception as exc:  # one unreadable file must not end the scan of the others
        read.problem = _problem(f, f"could not be read ({type(exc).__name__}: {exc})")
    return read


def _problem(f: ExportFile, reason: str) -> CsvProblem:
    return CsvProblem(file=f.name, line=None, column=None, reason=reason.rstrip("."))


def _finish_safely(read: _FileRead, prof: Profile | None, server_error: str | None) -> TableScan:
    try:
        return _finish(read, prof, server_error)
    except Exception as exc:  # a bug judging one file must not cost the operator the inventory
        read.problem = read.problem or _problem(read.file, f"could not be judged ({type(exc).__name__}: {exc})")
        read.sample = None
        return _finish(read, prof, server_error)


def _finish(read: _FileRead, prof: Profile | None, server_error: str | None) -> TableScan:
    table = read.match.table
    if table is None:
        kind = BlockerKind.AMBIGUOUS if read.match.ambiguous else BlockerKind.NO_TARGET
        why = read.match.reason or f"The target has no table for {read.file.name}."
        diff = Diff.blocked(Blocker(kind, why))
    elif read.unread:
        diff = Diff.blocked(
            Blocker(BlockerKind.NOT_READ, f"{read.file.name} was not read: not selected.")
        )
    elif read.problem is not None or read.sample is None:
        problem = read.problem or _problem(read.file, "was not read")
        diff = Diff.blocked(Blocker(BlockerKind.CSV, problem.sentence()))
    elif server_error is not None:
        diff = Diff.blocked(Blocker(BlockerKind.SERVER, server_error))
    else:
        diff = judge(read.sample, table)

    cls = classify(prof, read.entry)
    target = table.qualified if table is not None else None
    return TableScan(
        file=read.file,
        header=read.header,
        rows=read.rows,
        rows_estimated=read.rows_estimated,
        problem=read.problem,
        target=target,
        category=cls.category,
        priority=cls.priority,
        reason=cls.reason,
        selected=default_selected(prof, cls.priority, target, diff),
        diff=diff,
    )


def _note_shared_targets(tables: list[TableScan]) -> list[TableScan]:
    """Two files for one table (memories.csv and aria_data.memories.csv.gz) would both be loaded
    into it: legitimate for an export split in parts, a mistake otherwise, so say it."""
    by_target: dict[str, list[str]] = {}
    for t in tables:
        if t.target:
            by_target.setdefault(t.target, []).append(t.file.name)
    out = []
    for t in tables:
        others = [n for n in by_target.get(t.target or "", []) if n != t.file.name]
        if others:
            note = f"{t.target} also receives {', '.join(others)}"
            t = replace(t, diff=replace(t.diff, notes=(*t.diff.notes, note)))
        out.append(t)
    return out


def _may_lose(table: Table, column: str) -> bool:
    """A target column whose input function silently changes some values (scan/losses.py): its
    values are read even by the load's own scan, which reads no other value."""
    from aria_tui.scan.losses import losses_of

    col = table.column(column)
    return col is not None and bool(losses_of(col))


def _none_lost(path: Path, table: Table, columns: set[str], head: int | None) -> bool:
    """Whether a search of the file's bytes proves that no value of it loses anything in these
    columns (scan/losses.py: ruled_out), so its values need not be parsed for that."""
    from aria_tui.scan.losses import losses_of, ruled_out

    rules = [rule for c in columns if (col := table.column(c)) for rule in losses_of(col)]
    return ruled_out(path, rules, head)


def _first_line(exc: BaseException) -> str:
    return first_line(exc).rstrip(".")


def _display(conn: psycopg.Connection) -> str:
    info = conn.info
    where = info.host if info.host.startswith("/") else f"{info.host}:{info.port}"
    return f"database {info.dbname} at {where}"
