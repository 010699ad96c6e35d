"""The sequences a table's load moves: past the loaded maximum after a load, and back with a
dry run's rollback.

- `reset()`: each serial/identity sequence of the table moves past the largest value loaded
  (the smallest, for a descending one), never backwards, so the application's next insert
  does not collide with a loaded row;
- `SequenceGuard`: a dry run must not consume sequence values (nextval and setval are not
  transactional): each sequence a table's load can advance is rewritten in the dry run's
  transaction first (ALTER SEQUENCE, which is transactional), so its rollback restores it.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from aria_tui.load import model as m
from aria_tui.pg.rows import one


def reset(conn: psycopg.Connection, tp: m.TablePlan) -> tuple[str, ...]:
    """Move each serial/identity sequence past the loaded maximum; never backwards.
    Returns 'sequence -> value' for each one moved."""
    moved = []
    for column, seq in tp.sequences:
        # a descending sequence (INCREMENT BY -1) hands out values below the loaded minimum:
        # moved to its maximum, its next value would be one a loaded row holds
        inc = one(conn.execute(
            "SELECT seqincrement FROM pg_sequence WHERE seqrelid = %s::regclass", (seq,)
        ))[0]
        extreme = "max" if inc > 0 else "min"
        top = one(conn.execute(
            sql.SQL("SELECT {}({})::bigint FROM {}").format(
                sql.SQL(extreme), sql.Identifier(column), tp.table.ident
            )
        ))[0]
        if top is None:
            continue
        # pg_get_serial_sequence() (TablePlan.sequences) already returns a quoted, qualified name
        last, called = _state(conn, seq)
        if inc > 0:
            used = last if called else last - 1
            behind = top > used
        else:
            used = last if called else last + 1
            behind = top < used
        if behind:
            conn.execute("SELECT setval(%s::regclass, %s, true)", (seq, top))
            moved.append(f"{seq} -> {top}")
    return tuple(moved)


def refused(conn: psycopg.Connection, tp: m.TablePlan) -> str | None:
    """The sentence for a table whose sequences this role may not read and move (reset() needs
    SELECT and UPDATE on each: an application role often holds only USAGE), said before any row
    is loaded; None when it may."""
    missing = [
        seq
        for _, seq in tp.sequences
        if not one(
            conn.execute(
                "SELECT has_sequence_privilege(%s::regclass, 'SELECT') "
                "AND has_sequence_privilege(%s::regclass, 'UPDATE')",
                (seq, seq),
            )
        )[0]
    ]
    if not missing:
        return None
    role = one(conn.execute("SELECT current_user"))[0]
    names = ", ".join(missing)
    return (
        f"The role {role} may not move the sequence{'s' if len(missing) > 1 else ''} {names} of "
        f"{tp.target} past the loaded rows (that needs SELECT and UPDATE on it, not only USAGE): "
        f"GRANT SELECT, UPDATE ON SEQUENCE {names} TO {role} (or load as the table's owner), "
        "then load again; nothing of the table was loaded."
    )


# qualified as pg_get_serial_sequence() spells them (TablePlan.sequences)
_SEQUENCES = """
SELECT format('%%I.%%I', n.nspname, s.relname)
FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
WHERE s.relkind = 'S' AND s.oid IN (
  SELECT d.refobjid FROM pg_attrdef ad
  JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
  WHERE ad.adrelid = %(t)s AND d.refclassid = 'pg_class'::regclass
  UNION
  SELECT d.objid FROM pg_depend d
  WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
    AND d.refobjid = %(t)s AND d.deptype IN ('a', 'i'))
ORDER BY 1
"""


class SequenceGuard:
    """Makes a dry run's nextval/setval roll back with it.

    ALTER SEQUENCE gives the sequence new storage in the current transaction, so the values the
    dry run draws after it vanish at the rollback (other sessions' nextval wait meanwhile). A
    role that does not own a sequence cannot ALTER it: its state is noted and set back after
    the rollback, unless another session drew from it since (then it is left, and said)."""

    def __init__(self) -> None:
        self.protected: set[str] = set()
        self.saved: dict[str, tuple[int, bool]] = {}  # not ours to ALTER: state before
        self.seen: dict[str, tuple[int, bool]] = {}  # and at the end of the dry run

    def guard(self, conn: psycopg.Connection, tp: m.TablePlan) -> None:
        """Protect the sequences of `tp`, in its savepoint: again for every table, since a
        table whose savepoint rolled back took its ALTER SEQUENCE with it."""
        self.protected = set()
        for (seq,) in conn.execute(_SEQUENCES, {"t": tp.table.oid}).fetchall():
            if seq in self.saved:
                continue
            try:
                with conn.transaction():
                    state = _state(conn, seq)
            except psycopg.Error:  # not even readable by this role: nothing to set back
                continue
            try:
                with conn.transaction():
                    inc = one(
                        conn.execute(
                            "SELECT seqincrement FROM pg_sequence WHERE seqrelid = %s::regclass",
                            (seq,),
                        )
                    )[0]
                    conn.execute(
                        sql.SQL("ALTER SEQUENCE {} INCREMENT BY {}").format(
                            sql.SQL(seq), sql.Literal(inc)
                        )
                    )
                self.protected.add(seq)
            except psycopg.errors.InsufficientPrivilege:
                self.saved[seq] = state

    def may_setval(self, seq: str) -> bool:
        return seq in self.protected and seq not in self.saved

    def before_rollback(self, conn: psycopg.Connection) -> None:
        for seq in self.saved:
            self.seen[seq] = _state(conn, seq)

    def after_rollback(self, conn: psycopg.Connection) -> list[str]:
        """Set back what could not be protected; returns notes for what could not be."""
        notes = []
        for seq, (last, called) in self.saved.items():
            try:
                now = _state(conn, seq)
                if now == self.seen.get(seq) and now != (last, called):
                    conn.execute("SELECT setval(%s::regclass, %s, %s)", (seq, last, called))
                    now = (last, called)
                conn.commit()
            except psycopg.Error:
                conn.rollback()
            if now != (last, called):
                notes.append(
                    f"The dry run drew values from sequence {seq} and could not set it back "
                    "(this role does not own it, and another session used it meanwhile)."
                )
        return notes


def _state(conn: psycopg.Connection, seq: str) -> tuple[int, bool]:
    last, called = one(
        conn.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(sql.SQL(seq)))
    )
    return int(last), bool(called)
