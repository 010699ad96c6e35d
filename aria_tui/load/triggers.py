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

_ENABLED_SQL = """
SELECT tgname, tgtype::int, tgenabled::text FROM pg_trigger
WHERE tgrelid = %(oid)s AND NOT tgisinternal AND tgenabled IN ('O', 'A')
ORDER BY tgname
"""


def enabled(conn: psycopg.Connection, oid: int) -> tuple[Trigger, ...]:
    """The table's user triggers that fire now, with their mode (read in the transaction)."""
    rows = conn.execute(_ENABLED_SQL, {"oid": oid}).fetchall()
    return tuple(trigger_of(name, tgtype, mode) for name, tgtype, mode in rows)


def switch_off(conn: psycopg.Connection, tp: m.TablePlan) -> tuple[Trigger, ...]:
    """Disable every user trigger of `tp`'s table that fires now; returns them as they were.
    A role that may not alter the table ends the table in one sentence (TableFailed)."""
    found = enabled(conn, tp.table.oid)
    if not found:
        return ()
    role = str(conn.execute("SELECT current_user").fetchone()[0])  # type: ignore[index]
    for t in found:
        try:
            conn.execute(
                sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(
                    tp.table.ident, sql.Identifier(t.name)
                )
            )
        except psycopg.errors.InsufficientPrivilege:
            raise TableFailed(
                f"{tp.target}: its user triggers cannot be switched off for the load, because the "
                f"role {role} does not own the table; run the load as its owner (or a superuser), "
                f"or keep its triggers (leave {tp.target} out of --triggers-off, or set "
                "triggers_off = false in the plan); nothing of the table was loaded."
            ) from None
    return found


def switch_on(conn: psycopg.Connection, tp: m.TablePlan, switched: tuple[Trigger, ...]) -> None:
    """Each trigger `switch_off()` disabled, enabled again in the mode it had."""
    for t in switched:
        how = sql.SQL("ENABLE ALWAYS TRIGGER" if t.enabled == "A" else "ENABLE TRIGGER")
        conn.execute(
            sql.SQL("ALTER TABLE {} {} {}").format(tp.table.ident, how, sql.Identifier(t.name))
        )


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
