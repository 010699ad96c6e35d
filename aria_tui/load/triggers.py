"""A table's user triggers switched off for its load, when the operator decided so
(`load --triggers-off S.T`, the plan file's `triggers_off`, the wizard's `g`).

A real target's init script often puts `BEFORE INSERT OR UPDATE ... NEW.updated_at = now()` on
its tables: left on, it replaces the export's value in every row the load inserts or a
take-export UPDATE writes, and the proof can never be green. Switched off, the rows are the
export's records.

Everything happens in the table's own transaction: `switch_off()` after its lock and before any
row, `switch_on()` after its counts are proven and before its commit, each trigger in the mode it
had (`ENABLE TRIGGER` for origin, `ENABLE ALWAYS TRIGGER` for always; a trigger that was already
disabled, or fires only in replica mode, is not touched). ALTER TABLE is transactional: a crash,
a cancel or a failed table rolls the switch back with the rows, so no run can leave them off, and
no other session ever sees them off (the load's SHARE ROW EXCLUSIVE lock keeps writers out
meanwhile). A chunked load commits per chunk, so a table whose triggers are off loads whole
(chunked.chunk_size).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from aria_tui.load import model as m
from aria_tui.load.work import TableFailed
from aria_tui.pg.catalog import Trigger, trigger_of

# the table's own triggers and, for a partitioned table, those of each of its partitions (its rows
# meet them there: copies of the parent's, each with a mode of its own, and the partition's own)
_ENABLED_SQL = """
SELECT t.tgname, t.tgtype::int, t.tgenabled::text, n.nspname, c.relname, c.oid = %(oid)s
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE t.tgrelid IN (SELECT %(oid)s::oid UNION SELECT relid FROM pg_partition_tree(%(oid)s::regclass))
  AND NOT t.tgisinternal AND t.tgenabled IN ('O', 'A')
ORDER BY c.oid <> %(oid)s, n.nspname, c.relname, t.tgname
"""


def enabled(conn: psycopg.Connection, oid: int) -> tuple[Trigger, ...]:
    """The user triggers that fire now on the table's rows, with their mode (read in the
    transaction): its own, and its partitions'."""
    rows = conn.execute(_ENABLED_SQL, {"oid": oid}).fetchall()
    return tuple(
        trigger_of(name, tgtype, mode, None if own else (schema, rel))
        for name, tgtype, mode, schema, rel, own in rows
    )


def _on(tp: m.TablePlan, t: Trigger) -> sql.Composable:
    # ONLY: on a partitioned table, ALTER TABLE ... TRIGGER also sets its partitions' copies,
    # which have modes of their own, each switched and restored on its own here
    rel = sql.Identifier(*t.partition) if t.partition else tp.table.ident
    return sql.SQL("ALTER TABLE ONLY {}").format(rel)


def switch_off(conn: psycopg.Connection, tp: m.TablePlan) -> tuple[Trigger, ...]:
    """Disable every user trigger the table's rows meet now; returns them as they were.
    A role that may not alter the table ends the table in one sentence (TableFailed)."""
    found = enabled(conn, tp.table.oid)
    if not found:
        return ()
    role = str(conn.execute("SELECT current_user").fetchone()[0])  # type: ignore[index]
    for t in found:
        try:
            conn.execute(
                sql.SQL("{} DISABLE TRIGGER {}").format(_on(tp, t), sql.Identifier(t.name))
            )
        except psycopg.errors.InsufficientPrivilege:
            raise TableFailed(
                f"{tp.target}: its user triggers cannot be switched off for the load, because the "
                f"role {role} does not own the table (or a partition of it); run the load as its "
                f"owner (or a superuser), or keep its triggers (leave {tp.target} out of "
                "--triggers-off, or set triggers_off = false in the plan); nothing of the table "
                "was loaded."
            ) from None
    return found


def switch_on(conn: psycopg.Connection, tp: m.TablePlan, switched: tuple[Trigger, ...]) -> None:
    """Each trigger `switch_off()` disabled, enabled again in the mode it had. The caller has
    fired the transaction's deferred constraint checks first (ALTER TABLE refuses a table with
    pending trigger events)."""
    for t in switched:
        how = sql.SQL("ENABLE ALWAYS TRIGGER" if t.enabled == "A" else "ENABLE TRIGGER")
        conn.execute(sql.SQL("{} {} {}").format(_on(tp, t), how, sql.Identifier(t.name)))


def note(tp: m.TablePlan, switched: tuple[Trigger, ...], whole_instead_of_chunks: bool) -> str:
    """What the load says of the decision, in the table's notes."""
    if switched:
        what = (
            "Loaded with its user triggers switched off, as decided (--triggers-off): "
            + ", ".join(t.describe() for t in switched)
            + "; switched on again as they were, in the same transaction, before it committed"
        )
    else:
        what = (
            "Decided to load it with its user triggers switched off (--triggers-off), but none "
            "fires on it now: nothing was switched off"
        )
    if whole_instead_of_chunks:
        what += (
            "; loaded whole in one transaction rather than in chunks, since its triggers are off "
            "only inside one"
        )
    return what + "."
