"""Schema drift as decisions: add / drop / widen / fill a column, accept a proposed rename.

Every difference the diff finds between an export file and its target table is the operator's
to decide, and each decision is data (`Decision`) that the CLI (`--decide`), the plan file and
the wizard share:

- `add[:TYPE]`: an export column the target lacks is added (`ALTER TABLE ... ADD COLUMN`), typed
  from the export's manifest.json source type when there is one, else inferred from its values;
- `drop`: the column is knowingly left behind; the load says what and how many non-empty values;
- `widen[:TYPE]`: a target column too narrow for the export (`ALTER COLUMN ... TYPE`), by default
  the smallest standard type that holds what the narrow one does not;
- `rename:TARGET`: a CSV column loads into TARGET (a proposed similar name, accepted);
- `fill:VALUE`: a target column the export does not supply (NOT NULL without a default blocks the
  table) gets VALUE, read by the column type's input function as a CSV value would be, in every
  record the load inserts. The schema stays as it was: the column's default is VALUE only inside
  the table's transaction (`SET DEFAULT` before the rows, the old default back after them,
  `Applied.after`), so every load path (COPY, binary COPY, the stage) fills it the same way. A row
  the target held already keeps its own value, a take-export conflict's too: its UPDATE writes the
  export's columns, and the export says nothing about this one (a seed row's real value is not
  overwritten by a stand-in; a duplicate keeps it as well). `check_values` asks the target, at
  plan time, whether VALUE is a value of the column's type.

`decide()` turns decisions into an Inventory whose diffs and catalog tables already show the
result, and the DDL per table; `finish()` puts the DDL and notes on the LoadPlan. The DDL runs
inside the table's own transaction (runner.py), so a dry run shows it and rolls it back. What there
is to decide is load/differences.py; what an export column holds, load/export_values.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from aria_tui import spelling
from aria_tui.errors import AriaError
from aria_tui.load.export_values import infer_type, non_empty
from aria_tui.pg.catalog import Column, Table
from aria_tui.status import FILLED_WITH

if TYPE_CHECKING:
    from aria_tui.load.model import LoadPlan
    from aria_tui.scan.model import Diff, Inventory, TableScan

ADD, DROP, WIDEN, RENAME, FILL = "add", "drop", "widen", "rename", "fill"
ACTIONS = (ADD, DROP, WIDEN, RENAME, FILL)

# format_type() spellings -> pg_type.typname, for the columns a decision creates
_BASE = {
    "bigint": "int8",
    "integer": "int4",
    "int": "int4",
    "smallint": "int2",
    "boolean": "bool",
    "double precision": "float8",
    "real": "float4",
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "character varying": "varchar",
    "character": "bpchar",
    "time with time zone": "timetz",
    "time without time zone": "time",
}
# what a narrow type widens to by default
_WIDER = {
    "int2": "integer",
    "int4": "bigint",
    "int8": "numeric",
    "float4": "double precision",
    "varchar": "text",
    "bpchar": "text",
    "numeric": "numeric",
    "timestamp": "timestamp with time zone",
    "time": "time with time zone",
    "date": "timestamp with time zone",  # a time of day the date would drop
    "name": "text",  # more than 63 bytes
}


@dataclass(frozen=True)
class Decision:
    table: str  # 'schema.table'
    column: str  # the CSV column (add, drop, rename) or the target column (widen, fill)
    action: str  # add | drop | widen | rename | fill
    arg: str | None = None  # the type (add, widen), the target column (rename), the value (fill)

    def spec(self) -> str:
        """The `--decide` spelling (a part whose name holds a dot, a quote or `=` in quotes)."""
        tail = f":{self.arg}" if self.arg else ""
        return f"{spelling.spell(self.table, self.column)}={self.action}{tail}"


def parse(text: str) -> Decision:
    """`SCHEMA.TABLE.COLUMN=add[:TYPE]|drop|widen[:TYPE]|rename:TARGET_COLUMN|fill:VALUE`; a part
    whose name holds a dot, a double quote or `=` is written in double quotes (`""` for a
    quote), as SQL does: `public.t."addr.city"=drop`."""
    split = spelling.split(text)
    parts, what = split if split is not None else ([], None)
    action, _, arg = (what or "").strip().partition(":")
    action = action.strip().lower()
    if what is None or len(parts) != 3 or action not in ACTIONS:
        more = (
            " (a name that holds a dot goes in double quotes: SCHEMA.TABLE.\"CO.LUMN\")"
            if split is not None and len(parts) > 3
            else ""
        )
        raise AriaError(
            f"Cannot read the decision {text!r}: write SCHEMA.TABLE.COLUMN=add[:TYPE], =drop, "
            f"=widen[:TYPE], =rename:TARGET_COLUMN or =fill:VALUE{more}."
        )
    return checked(text, f"{parts[0]}.{parts[1]}", parts[2], action, arg)


def checked(text: str, table: str, column: str, action: str, arg: str) -> Decision:
    """The decision on `table` ('schema.table') and `column`, its argument checked for its
    action; `text` names it in a refusal."""
    if action == FILL and not arg.strip():
        raise AriaError(
            f"The decision {text!r} gives no value (fill:VALUE, the value every loaded record gets)."
        )
    if action == RENAME and not arg.strip():
        raise AriaError(f"The decision {text!r} names no target column (rename:TARGET_COLUMN).")
    if action == DROP and arg.strip():
        raise AriaError(f"The decision {text!r}: drop takes no argument.")
    return Decision(table, column, action, arg.strip() or None)


def base_type(type_sql: str) -> str:
    t = re.sub(r"\s*\(.*\)\s*", "", type_sql.strip().lower())
    t = t.removesuffix("[]")
    return _BASE.get(t, t)


def _column(name: str, type_sql: str, position: int, like: Column | None = None) -> Column:
    if like is not None:
        return replace(like, type=type_sql, base_type=base_type(type_sql), type_oid=0)
    return Column(
        name=name,
        type=type_sql,
        base_type=base_type(type_sql),
        type_oid=0,
        not_null=False,
        default=None,
        identity=None,
        generated=False,
        sequence=None,
        position=position,
    )


def widen_to(col: Column) -> str:
    """The smallest standard type wider than `col`'s that holds what it refuses."""
    wider = _WIDER.get(col.base_type)
    if wider is None:
        raise AriaError(
            f"aria-tui does not know a wider type for {col.name} ({col.type}); "
            f"say which: widen:TYPE."
        )
    return wider


def widenable(col: Column) -> bool:
    """aria-tui knows a wider standard type for `col` (a `widen` without a TYPE)."""
    return col.base_type in _WIDER


@dataclass(frozen=True)
class Applied:
    """What decisions did to one table: its statements and what the report should say."""

    ddl: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # run after the rows, before the commit: the defaults a fill set, back as they were
    after: tuple[str, ...] = ()


def decide(
    inventory: Inventory, decisions: list[Decision]
) -> tuple[Inventory, dict[str, Applied]]:
    """The inventory as the decisions make it (mapping, diff verdict, catalog columns), and the
    DDL and notes per table. A decision naming no file, table or column raises AriaError."""
    if not decisions:
        return inventory, {}
    by_table: dict[str, list[Decision]] = {}
    for d in decisions:
        by_table.setdefault(d.table, []).append(d)
    scans = list(inventory.tables)
    tables = dict(inventory.catalog.tables)
    applied: dict[str, Applied] = {}
    for target, decs in by_table.items():
        idx = next((i for i, s in enumerate(scans) if s.target == target), None)
        table = tables.get(target)
        if idx is None or table is None:
            raise AriaError(f"A decision names {target}, which no file of the export loads into.")
        scan, table, done = _apply(scans[idx], table, decs)
        scans[idx] = scan
        tables[target] = table
        applied[target] = done
    catalog = replace(inventory.catalog, tables=tables)
    return replace(inventory, tables=tuple(scans), catalog=catalog), applied


def _apply(
    scan: TableScan, table: Table, decs: list[Decision]
) -> tuple[TableScan, Table, Applied]:
    from aria_tui.scan.model import BY_FILL, BY_NONE

    diff = scan.diff
    mapping = dict(diff.mapping)
    header = list(mapping)
    extras = {e.name: e for e in diff.extra_columns}
    columns = list(table.columns)
    ddl: list[str] = []
    notes: list[str] = []
    widened: set[str] = set()
    renames = list(diff.renames)
    after: list[str] = []
    fills: dict[str, str] = {}
    # renames and adds first: a fill names a target column no export column loads once they apply
    for d in sorted(decs, key=lambda d: d.action == FILL):
        where = f"{table.qualified}.{d.column}"
        if d.action in (ADD, DROP, RENAME) and d.column not in header:
            raise AriaError(f"The decision {d.spec()} names {d.column}, which {scan.file.name} lacks.")
        if d.action == RENAME:
            assert d.arg is not None
            col = table.column(d.arg)
            if col is None or col.generated:
                raise AriaError(f"{d.spec()}: {table.qualified} has no column {d.arg} to load into.")
            taken = [c for c, t in mapping.items() if t == d.arg and c != d.column]
            if taken:
                raise AriaError(f"{d.spec()}: {table.qualified}.{d.arg} already loads {taken[0]}.")
            mapping[d.column] = d.arg
            extras.pop(d.column, None)
            renames = [r for r in renames if r.source != d.column]
            from aria_tui.scan.model import Rename

            renames.append(Rename(d.column, d.arg, "accepted"))
        elif d.action == ADD:
            if table.column(d.column) is not None:
                if mapping.get(d.column) == d.column:
                    continue  # added already (a re-run, or validation after the load)
                raise AriaError(f"{d.spec()}: {table.qualified} already has a column {d.column}.")
            type_sql, why = (d.arg, "the operator's type") if d.arg else infer_type(scan, d.column)
            stmt = sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                table.ident, sql.Identifier(d.column), sql.SQL(type_sql)
            )
            ddl.append(stmt.as_string(None))
            notes.append(f"{where} added as {type_sql} ({why}).")
            columns.append(_column(d.column, type_sql, max(c.position for c in columns) + 1))
            mapping[d.column] = d.column
            extras.pop(d.column, None)
        elif d.action == DROP:
            if mapping.get(d.column) is not None:
                # drop leaves behind what the target cannot hold; a column it has would be
                # emptied in silence while the proof compared nothing of it
                raise AriaError(
                    f"{d.spec()}: {d.column} loads into {table.qualified}.{mapping[d.column]}; drop "
                    "is for an export column the target lacks."
                )
            mapping[d.column] = None
            extras.pop(d.column, None)
            n = non_empty(scan, d.column)
            count = "an uncounted number of" if n is None else f"{n}"
            notes.append(
                f"{scan.file.name} column {d.column} dropped by decision: {count} non-empty "
                f"value{'s' if n != 1 else ''} left behind."
            )
        elif d.action == WIDEN:
            col = table.column(d.column)
            if col is None:
                raise AriaError(f"{d.spec()}: {table.qualified} has no column {d.column}.")
            if d.arg and base_type(d.arg) == col.base_type and d.arg.lower() == col.type.lower():
                continue  # widened already
            if not d.arg and col.base_type in ("int8", "text", "timestamptz", "float8") and not any(
                mapping.get(i.column) == d.column for i in diff.type_issues
            ):
                continue  # nothing too narrow left: widened already by an earlier run
            type_sql = d.arg or widen_to(col)
            stmt = sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {}").format(
                table.ident, sql.Identifier(d.column), sql.SQL(type_sql)
            )
            ddl.append(stmt.as_string(None))
            lost = (
                f" (a domain over {col.domain_base}: its constraints no longer apply to the column)"
                if col.domain_base
                else ""
            )
            notes.append(f"{where} widened from {col.type} to {type_sql}{lost}.")
            columns = [_column(c.name, type_sql, c.position, c) if c.name == d.column else c for c in columns]
            widened.add(d.column)
        elif d.action == FILL:
            assert d.arg is not None
            set_default, restore = _fill(d, table, mapping)
            ddl.append(set_default)
            after.append(restore)
            fills[d.column] = d.arg
            col = table.column(d.column)
            old = f"its default {col.default} back" if col is not None and col.default else "no default again"
            notes.append(
                f"{where}{FILLED_WITH}{d.arg!r} in every loaded record (fill decision: the export "
                f"has no such column; its default for the load only, then {old}; a row the target "
                "held already keeps its own value)."
            )
    new_table = replace(table, columns=tuple(columns))
    used = {t for t in mapping.values() if t}
    missing = tuple(
        replace(m, filled_by=BY_FILL, value=fills[m.name]) if m.name in fills else m
        for m in diff.missing_columns
        if m.name not in used
    )
    issues = tuple(
        i for i in diff.type_issues if mapping.get(i.column) not in widened and mapping.get(i.column)
    )
    new_diff = replace(
        diff,
        mapping=tuple((c, mapping[c]) for c in header),
        extra_columns=tuple(extras.values()),
        missing_columns=missing,
        renames=tuple(renames),
        proposals=tuple(p for p in diff.proposals if mapping.get(p.source) is None),
        type_issues=issues,
        type_issue_counts={
            c: n for c, n in diff.type_issue_counts.items() if mapping.get(c) not in widened
        },
    )
    new_diff = _rejudge(new_diff, scan, new_table, BY_NONE)
    # a file the decisions made loadable is ticked as the scan would have ticked it
    selected = scan.selected or (
        new_diff.loadable and scan.target is not None and scan.priority in (None, "HIGH", "MEDIUM")
    )
    new_scan = replace(scan, diff=new_diff, selected=selected and new_diff.loadable)
    return new_scan, new_table, Applied(tuple(ddl), tuple(notes), tuple(after))


def _fill(d: Decision, table: Table, mapping: dict[str, str | None]) -> tuple[str, str]:
    """The statements of a fill: the column's default set to VALUE (cast by the column's type, as
    a CSV value is read), and the one that puts its default back as the catalog has it."""
    assert d.arg is not None
    col = table.column(d.column)
    if col is None:
        raise AriaError(f"{d.spec()}: {table.qualified} has no column {d.column}.")
    if col.generated or col.identity:
        what = "computes it" if col.generated else f"numbers it (identity {col.identity})"
        raise AriaError(f"{d.spec()}: the target {what}; fill is for a column the export does not supply.")
    loaded_from = [c for c, t in mapping.items() if t == d.column]
    if loaded_from:
        raise AriaError(
            f"{d.spec()}: {table.qualified}.{d.column} is loaded from the export's column "
            f"{loaded_from[0]}; fill is for a target column the export does not supply."
        )
    # ONLY: the rows go through this table, which gives them its default; without it the
    # statements would also set, then take away, the own defaults of its partitions or children
    column = sql.SQL("ALTER TABLE ONLY {} ALTER COLUMN {}").format(
        table.ident, sql.Identifier(d.column)
    )
    set_default = sql.SQL("{} SET DEFAULT {}::{}").format(column, sql.Literal(d.arg), sql.SQL(col.type))
    restore = (
        sql.SQL("{} SET DEFAULT {}").format(column, sql.SQL(col.default))
        if col.default
        else sql.SQL("{} DROP DEFAULT").format(column)
    )
    return set_default.as_string(None), restore.as_string(None)


def check_values(conn: psycopg.Connection, inventory: Inventory, decisions: list[Decision]) -> None:
    """Refuse, in one sentence (AriaError), a fill whose VALUE the column's type does not take:
    asked of the target's own input function (pg_input_is_valid), as the load would read it."""
    for d in decisions:
        if d.action != FILL or d.arg is None:
            continue
        table = inventory.catalog.get(d.table)
        col = table.column(d.column) if table is not None else None
        if col is None:
            continue  # decide() says what is missing
        try:
            with conn.transaction():
                # no message: the type takes it
                row = conn.execute(
                    "SELECT message FROM pg_input_error_info(%s, %s)", (d.arg, col.type)
                ).fetchone()
            ok, why = (row is not None and row[0] is None), (row[0] if row else None)
        except psycopg.Error as exc:  # an input function without soft errors (pgvector) raises
            ok, why = False, (exc.diag.message_primary or str(exc)).strip()
        if not ok:
            because = f": {why.rstrip('.')}" if why else ""
            raise AriaError(
                f"The decision {d.spec()}: {d.arg!r} is not a value of {d.table}.{d.column} "
                f"({col.type}){because}."
            )


def _rejudge(diff: Diff, scan: TableScan, table: Table, by_none: str) -> Diff:
    """The verdict again, once decisions changed what the diff judged: the schema's blockers are
    judged anew, every other blocker (CSV, manifest, ...) stays as the scan found it."""
    from aria_tui.scan.model import BLOCKED, DRIFT, MATCH
    from aria_tui.status import Blocker, BlockerKind, sentence_of

    if diff.status not in (BLOCKED, DRIFT, MATCH):
        return diff
    if scan.problem is not None:
        return diff  # a broken file stays blocked whatever is decided about its columns
    schema: list[Blocker] = []
    for e in diff.extra_columns:
        if not e.all_empty:
            schema.append(
                Blocker(
                    BlockerKind.SCHEMA,
                    f"Column {e.name} is not in {table.qualified} and holds data (line "
                    f"{e.first_value_line}: {e.first_value!r}), which loading would lose",
                )
            )
    from aria_tui.scan.verdict import loss_blockers, unfilled_blocker

    schema += [unfilled_blocker(table, m.name) for m in diff.missing_columns if m.filled_by == by_none]
    if not any(t for _, t in diff.mapping):
        schema.append(
            Blocker(BlockerKind.SCHEMA, f"No column of the file matches a column of {table.qualified}")
        )
    # a widened column keeps what the narrow one would change: its issues are gone already
    schema += loss_blockers(diff.type_issues, dict(diff.mapping), table)
    blockers = (*(b for b in diff.blockers if b.kind != BlockerKind.SCHEMA), *schema)
    if blockers:
        # the columns' verdict stays drift: lifting the other blockers (--accept-changed) loads it
        return replace(
            diff, status=BLOCKED, reason=sentence_of(blockers), blockers=blockers, verdict=DRIFT
        )
    return replace(diff, status=DRIFT, reason=None, blockers=(), verdict=DRIFT)


def finish(plan: LoadPlan, applied: dict[str, Applied]) -> LoadPlan:
    """`plan` with each table's DDL and decision notes."""
    if not applied:
        return plan
    tables = []
    for tp in plan.tables:
        a = applied.get(tp.target)
        tables.append(
            replace(tp, ddl=a.ddl, ddl_after=a.after, decision_notes=a.notes) if a else tp
        )
    return replace(plan, tables=tuple(tables))
