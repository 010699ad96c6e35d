"""Export a live database to one CSV per table, in one consistent snapshot, with a manifest.

Seed 004 is the reason for every choice here: pg_dump skipped 13 of 19 tables without a word, a
role's statement_timeout killed the big table, CSV batches with LIMIT/OFFSET broke on multi-line
content, and "success" was assumed. So:

- all tables are read in ONE repeatable-read, read-only transaction: files agree with each other;
- every table is locked ACCESS SHARE right after the snapshot (as pg_dump does), so a concurrent
  DROP or ALTER waits for the export instead of yanking a table out from under it;
- statement and idle timeouts are switched off for this session: a big table must not be cut off
  by a timeout meant for web requests;
- each table streams through `COPY (SELECT ...) TO STDOUT (FORMAT csv, HEADER)`, so PostgreSQL
  itself quotes multi-line text and doubled quotes, and memory stays flat;
- the record count in the manifest is `count(*)` in the same snapshot, and must equal the count
  COPY reports and the number of rows that arrived, or the export fails;
- nothing gets its final name until every table is written and fsynced, and manifest.json comes
  last: a folder with a manifest is complete, and a failed export leaves no file that looks whole.

Which tables are read is `tables.py`; the transaction they are read in, `snapshot.py`; how a file
reaches the disk, `writer.py`.
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from aria_tui import __version__
from aria_tui.dump.model import (
    ExportedTable,
    ExportPlanned,
    ExportProgressFn,
    ExportResult,
    TableExported,
    TableProgress,
    TableStarted,
)
from aria_tui.dump.snapshot import begin_snapshot, lock_table, read_catalog_locked, sentence
from aria_tui.dump.tables import file_name, list_tables, select_tables
from aria_tui.dump.writer import PARTIAL_SUFFIX, BackgroundWriter, StagedFile
from aria_tui.errors import ExportError
from aria_tui.manifest.format import (
    MANIFEST_NAME,
    Manifest,
    ManifestColumn,
    ManifestForeignKey,
    ManifestTable,
    fsync_dir,
    is_export_file,
    write_manifest,
)
from aria_tui.pg import locks
from aria_tui.pg.catalog import Catalog, Table
from aria_tui.pg.rows import one

DEFAULT_LOCK_TIMEOUT = locks.EXPORT_LOCK_TIMEOUT_SECONDS
# rows arrive one per message; batching them keeps syscalls and hashing cheap
_WRITE_CHUNK = 1 << 20
_PROGRESS_EVERY = 0.1  # seconds between progress events: ~10 a second is all a screen can show


def prepare_out_dir(out_dir: Path, force: bool = False) -> Path:
    """Create OUT_DIR, or accept an existing one only if it is empty or `force` is given."""
    out_dir = Path(out_dir).expanduser()
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} exists and is not a folder.")
    if out_dir.is_dir():
        entries = sorted(p.name for p in out_dir.iterdir())
        if entries and not force:
            raise ExportError(
                f"{out_dir} is not empty ({len(entries)} entries); choose an empty folder, "
                "or pass --force to export into it anyway."
            )
        for name in entries:  # leftovers of an export that crashed: never valid, never wanted
            if name.startswith(".") and name.endswith(PARTIAL_SUFFIX):
                (out_dir / name).unlink(missing_ok=True)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"Cannot create {out_dir}: {exc.strerror or exc}.") from None
    return out_dir



def export_database(
    conn: psycopg.Connection,
    out_dir: Path,
    *,
    schemas: list[str] | None = None,
    tables: list[str] | None = None,
    compress: bool = False,
    force: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    progress: ExportProgressFn | None = None,
) -> ExportResult:
    """Export the selected tables of `conn`'s database into `out_dir` with a manifest.

    `conn` must be a fresh connection with no transaction open: the export sets its isolation
    level. Every failure raises ExportError (one sentence) after removing what this run wrote.
    """
    started = time.monotonic()
    out_dir = prepare_out_dir(out_dir, force)
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise ExportError("The source connection is already inside a transaction.")
    emit = progress or (lambda event: None)

    staged: list[StagedFile] = []
    published: list[StagedFile] = []
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            snapshot_time = begin_snapshot(conn, lock_timeout)
            names = select_tables(list_tables(conn), schemas, tables)
            # lock before reading definitions, as pg_dump does: from here on no DROP or ALTER
            # can take a table away, and a table someone else holds is named in the error
            for name in names:
                lock_table(conn, name, lock_timeout)
            catalog = read_catalog_locked(conn, sorted({s for s, _ in names}), lock_timeout)
            selected = [_table(catalog, name) for name in names]
            counts = {t.qualified: _count(conn, t) for t in selected}
            emit(
                ExportPlanned(
                    database=catalog.database,
                    server_version=catalog.server_version,
                    snapshot_time=snapshot_time,
                    tables=tuple((t.qualified, counts[t.qualified]) for t in selected),
                )
            )
            done: list[ExportedTable] = []
            entries: list[ManifestTable] = []
            for table in selected:
                staged_file = StagedFile(out_dir, file_name(table, compress), compress)
                staged.append(staged_file)
                exported = _export_table(conn, table, counts[table.qualified], staged_file, emit)
                done.append(exported)
                entries.append(_entry(table, exported))
                emit(TableExported(exported))
        # the snapshot is over and every file is on disk: only now do files take their names
        for staged_file in staged:
            staged_file.publish()
            published.append(staged_file)
        manifest = Manifest(
            tool_version=__version__,
            database=catalog.database,
            server_version=catalog.server_version,
            server_version_num=catalog.server_version_num,
            snapshot_time=snapshot_time,
            tables=tuple(entries),
            compression="gzip" if compress else None,
        )
        manifest_path = write_manifest(out_dir, manifest)
    except BaseException as exc:
        # Ctrl-C included: a half-done export must not leave anything that looks finished
        for staged_file in staged:
            staged_file.discard()
        for staged_file in published:
            staged_file.final_path.unlink(missing_ok=True)
        fsync_dir(out_dir)
        if isinstance(exc, psycopg.Error):
            raise ExportError(sentence(exc, None, conn)) from None
        raise
    written = {t.file for t in entries} | {MANIFEST_NAME}
    stale = tuple(
        sorted(
            p.name for p in out_dir.iterdir() if is_export_file(p.name) and p.name not in written
        )
    )
    return ExportResult(
        out_dir=out_dir,
        manifest_path=manifest_path,
        manifest=manifest,
        tables=tuple(done),
        seconds=time.monotonic() - started,
        stale_files=stale,
    )


def _table(catalog: Catalog, name: tuple[str, str]) -> Table:
    table = catalog.get(".".join(name))
    if table is None:  # cannot happen while we hold its lock; said plainly if it ever does
        raise ExportError(f"Table {'.'.join(name)} disappeared from the source during the export.")
    return table


def _count(conn: psycopg.Connection, table: Table) -> int:
    try:
        # ONLY: an inheritance child's rows are its own file's, not its parent's too
        return one(conn.execute(sql.SQL("SELECT count(*) FROM ONLY {}").format(table.ident)))[0]
    except psycopg.Error as exc:
        raise ExportError(sentence(exc, table.qualified, conn)) from None


def _export_columns(table: Table) -> list[str]:
    # generated columns are computed by the target; pg_dump leaves them out of the data too
    return [c.name for c in table.columns if not c.generated]


def _export_table(
    conn: psycopg.Connection,
    table: Table,
    expected: int,
    out: StagedFile,
    emit: ExportProgressFn,
) -> ExportedTable:
    t0 = time.monotonic()
    name = table.qualified
    emit(TableStarted(table=name, file=out.final_path.name, records=expected))
    columns = _export_columns(table)
    query = sql.SQL("COPY (SELECT {} FROM ONLY {}) TO STDOUT WITH (FORMAT csv, HEADER true)").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns), table.ident
    )
    messages = 0  # the server sends one CopyData message per row, plus one for the header
    csv_bytes = 0
    buf = bytearray()
    last_tick = t0
    writer = BackgroundWriter(out)
    try:
        with conn.cursor() as cur:
            with cur.copy(query) as copy:
                for data in copy:
                    buf += data
                    messages += 1
                    if len(buf) >= _WRITE_CHUNK:
                        writer.write(buf)
                        csv_bytes += len(buf)
                        buf.clear()
                    if not messages & 0xFF:  # the clock, not every row: rows can be tiny
                        now = time.monotonic()
                        if now - last_tick >= _PROGRESS_EVERY:
                            last_tick = now
                            done_bytes = csv_bytes + len(buf)
                            emit(TableProgress(name, messages - 1, expected, done_bytes))
            copied = cur.rowcount
        if buf:
            writer.write(buf)
            csv_bytes += len(buf)
        writer.close()
    except psycopg.Error as exc:
        writer.abandon()
        raise ExportError(sentence(exc, name, conn)) from None
    except BaseException:
        writer.abandon()
        raise
    rows = max(messages - 1, 0)
    if not copied == rows == expected:
        raise ExportError(
            f"Table {name} did not export consistently: count(*) said {expected:,} records, "
            f"COPY reported {copied:,} and {rows:,} arrived."
        )
    emit(TableProgress(name, rows, expected, csv_bytes))
    sha256, size = out.finish()
    return ExportedTable(
        table=name,
        file=out.final_path.name,
        records=expected,
        bytes=size,
        csv_bytes=csv_bytes,
        sha256=sha256,
        seconds=time.monotonic() - t0,
        csv_sha256=out.csv_sha256 or sha256,
    )


def _entry(table: Table, exported: ExportedTable) -> ManifestTable:
    exported_columns = set(_export_columns(table))
    return ManifestTable(
        file=exported.file,
        schema=table.schema,
        table=table.name,
        records=exported.records,
        bytes=exported.bytes,
        sha256=exported.sha256,
        # only a compressed file has a second form worth recording
        csv_bytes=exported.csv_bytes if exported.file.endswith(".gz") else None,
        csv_sha256=exported.csv_sha256 if exported.file.endswith(".gz") else None,
        columns=tuple(
            ManifestColumn(c.name, c.type, c.not_null)
            for c in table.columns
            if c.name in exported_columns
        ),
        primary_key=table.primary_key,
        unique_keys=tuple(k.columns for k in table.unique_keys if not k.primary),
        foreign_keys=tuple(
            ManifestForeignKey(fk.columns, fk.ref_table, fk.ref_columns, fk.on_delete)
            for fk in table.foreign_keys
        ),
    )
