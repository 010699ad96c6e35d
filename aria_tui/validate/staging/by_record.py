"""A file whose structure the server's COPY refuses (ragged or blank records, a NUL, invalid
UTF-8, a lone `\\.`), staged record by record as aria-tui's CSV reader splits it, so the records
the loader does load can still be proven; the values are still parsed by the server.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

from aria_tui import csvio
from aria_tui.csvio.files import Sha256
from aria_tui.csvio.header import scan_header
from aria_tui.validate.staging.layout import BROKEN, CHUNK, REC, RECORDS, Layout


def copy_records(
    conn: psycopg.Connection,
    path: Path,
    lay: Layout,
    *,
    check_cancel: Callable[[], None] | None,
    digest: Sha256 | None = None,
) -> int:
    """`_aria_records` from the file's records as aria-tui's CSV reader splits them (csvio), each
    with its position in the file; a record the reader finds broken keeps its place with its
    reason in `_aria_broken`. Returns the records read, broken ones included."""
    header, problem = scan_header(path)
    if header is None:
        raise psycopg.errors.BadCopyFileFormat(
            problem.sentence() if problem is not None else f"{path.name} has no header"
        )
    cols = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in lay.stage_columns)
    table = sql.Identifier(RECORDS)
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} ({} bigint, {} text, {})").format(
            table, sql.Identifier(REC), sql.Identifier(BROKEN), cols
        )
    )
    statement = sql.SQL("COPY {} ({}, {}, {}) FROM STDIN").format(
        table,
        sql.Identifier(REC),
        sql.Identifier(BROKEN),
        sql.SQL(", ").join(map(sql.Identifier, lay.stage_columns)),
    )
    # the stage columns are the header's columns in order (Layout.stage_columns)
    width = len(lay.stage_columns)
    records = 0
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for batch in csvio.iter_batches(path, header, keep_bad=True):
            if check_cancel:
                check_cancel()
            bad = {b.index: b.reject_reason() for b in batch.bad}
            for i, row in enumerate(batch.frame.iter_rows()):
                rec = batch.start_record + i + 1
                if i in bad:
                    copy.write_row((rec, bad[i], *([None] * width)))
                else:
                    copy.write_row((rec, None, *row[:width]))
            records = batch.start_record + batch.frame.height
    if digest is not None:  # what was compared: the file's own bytes, read once more
        with csvio.open_bytes(path) as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
    return records
