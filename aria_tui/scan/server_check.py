"""Step three of a file's schema diff: ask the target whether the sampled values cast
(`pg_input_is_valid`), in one statement for the whole export, so the CSV work of many files can
run in threads and the target is asked once."""

from __future__ import annotations

import json

import psycopg
from psycopg import sql

from aria_tui.errors import first_line
from aria_tui.scan.sample import BadValue, ColumnSample, FileSample, short

# One SELECT per column, glued with UNION ALL into one statement for the whole export: a round
# trip per file costs more than the checking itself. The type is a constant per column so
# pg_input_is_valid parses it once (it caches the parsed type across calls). The values travel as
# one JSON array each: json.dumps is C code, where psycopg's array dumper costs Python work per
# element (0.35 s for the 100,000 values of the full Aria export).
_COLUMN_CHECK = (
    "SELECT {k}, u.i, (pg_input_error_info(u.v, {t})).message "
    "FROM json_array_elements_text({v}::json) WITH ORDINALITY AS u(v, i) "
    "WHERE NOT pg_input_is_valid(u.v, {t})"
)

_Job = tuple[FileSample, str, ColumnSample]  # a file, one of its CSV columns, what was sampled


def check_samples(samples: list[FileSample], conn: psycopg.Connection) -> None:
    """Ask the target which sampled values its input functions refuse; the answers are added to
    each column's `bad` list. One statement for all files; if an input function raises instead
    of reporting (an extension type without soft errors), each column is asked on its own so
    only that one goes unchecked, with a note saying so."""
    jobs: list[_Job] = [
        (sample, source, smp)
        for sample in samples
        for source, smp in sample.columns.items()
        if smp.kind == "server" and smp.values
    ]
    if not jobs:
        return
    try:
        _apply(jobs, _run_check(conn, jobs))
    except psycopg.Error:
        for job in jobs:
            sample, source, smp = job
            try:
                _apply([job], _run_check(conn, [job]))
            except psycopg.Error as exc:
                if conn.broken or conn.closed:
                    raise  # the target is gone, not one type's input function
                first = first_line(exc)
                sample.notes.append(
                    f"values of column {source} were not type-checked: the target's "
                    f"{smp.target.type} input raised ({first})"
                )


def _run_check(conn: psycopg.Connection, jobs: list[_Job]) -> list[tuple[int, int, str]]:
    parts = [
        sql.SQL(_COLUMN_CHECK).format(
            k=sql.Literal(k), t=sql.Literal(smp.target.type), v=sql.Placeholder(f"v{k}")
        )
        for k, (_, _, smp) in enumerate(jobs)
    ]
    params = {f"v{k}": json.dumps(smp.values, ensure_ascii=False) for k, (_, _, smp) in enumerate(jobs)}
    # a savepoint when the caller has a transaction open: a raising input function must not
    # abort the caller's work
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(sql.SQL(" UNION ALL ").join(parts), params)
        return cur.fetchall()


def _apply(jobs: list[_Job], rows: list[tuple[int, int, str]]) -> None:
    for k, i, message in rows:
        _, _, smp = jobs[k]
        records = smp.counts[i - 1] if len(smp.counts) >= i else 1
        smp.bad.append(BadValue(smp.lines[i - 1], short(smp.values[i - 1]), message, records))
