"""`make_plan()`: the selected tables of an Inventory, in foreign-key order, with what to load how.

Order is a topological sort over the live catalog's foreign keys among the selected tables,
parents first, across schemas. Self-references do not constrain the order (the loader inserts a
table's rows in one statement, so a reply that comes before its parent in the file still loads).
A cycle between distinct tables loads as one group in one transaction with its constraints
deferred when every FK of the cycle is deferrable; otherwise its tables are blocked with a
sentence naming them, before anything is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aria_tui.errors import AriaError
from aria_tui.load.model import LoadPlan, TablePlan
from aria_tui.target.catalog import Table

DEFAULT_PRIORITIES = ("HIGH", "MEDIUM")  # what the scan ticks by default with a profile

if TYPE_CHECKING:
    from aria_tui.scan.model import Inventory, TableScan


def make_plan(
    inventory: Inventory,
    selection: list[str] | None = None,
    priorities: list[str] | None = None,
) -> LoadPlan:
    """The load plan for `selection` (file stems / table names), `priorities`, or the default ticks.

    A name that matches no file raises AriaError; a named file that cannot be loaded (blocked,
    no target table) goes to `LoadPlan.skipped` with its reason.
    """
    skipped: list[tuple[TableScan, str]] = []
    chosen: list[TableScan] = []
    if selection:
        for name in selection:
            scan = inventory.table(name)
            if scan is None:
                raise AriaError(
                    f"The export has no file for table '{name}' (or the name is ambiguous); "
                    "use a file stem or schema.table."
                )
            if scan in chosen or any(s is scan for s, _ in skipped):
                continue
            why = _unloadable(scan, inventory)
            if why:
                skipped.append((scan, why))
            else:
                chosen.append(scan)
    else:
        for scan in inventory.select(None, priorities):
            why = _unloadable(scan, inventory)
            if why:
                skipped.append((scan, why))
            else:
                chosen.append(scan)
        # A file the selection would have taken but for a blocking problem is reported, not
        # silently left out: otherwise a run could say "ok" while part of the export is not
        # loaded (seed 004).
        wanted = {p.upper() for p in priorities} if priorities else None
        for scan in inventory.tables:
            if scan in chosen or any(s is scan for s, _ in skipped) or scan.target is None:
                continue
            if scan.diff.loadable and scan.problem is None:
                continue  # loadable but not selected: the operator's choice
            if wanted is not None:
                if scan.priority not in wanted:
                    continue
            elif inventory.profile is not None and scan.priority not in DEFAULT_PRIORITIES:
                continue
            skipped.append((scan, _unloadable(scan, inventory) or f"{scan.file.name} is blocked."))

    # two files for one target table would race for the same rows: keep the first, say why
    by_target: dict[str, TableScan] = {}
    unique: list[TableScan] = []
    for scan in chosen:
        if scan.target in by_target:
            skipped.append(
                (
                    scan,
                    f"{scan.file.name} loads into {scan.target}, which "
                    f"{by_target[scan.target].file.name} already loads.",
                )
            )
            continue
        by_target[scan.target] = scan
        unique.append(scan)

    tables = {s.target: inventory.catalog.get(s.target) for s in unique}
    order, groups = _order([s.target for s in unique], tables)

    plans: list[TablePlan] = []
    blocked_targets: dict[str, str] = {}
    group_info: dict[str, tuple[int, bool]] = {}
    for gid, members in enumerate(groups, start=1):
        if len(members) < 2:
            continue
        fks = [
            fk
            for t in members
            for fk in tables[t].foreign_keys
            if fk.ref_table in members and not fk.self_reference
        ]
        if all(fk.deferrable for fk in fks):
            for t in members:
                group_info[t] = (gid, True)
        else:
            names = ", ".join(sorted(members))
            stuck = ", ".join(sorted(fk.name for fk in fks if not fk.deferrable))
            why = (
                f"The tables {names} reference each other in a cycle and the foreign keys {stuck} "
                "are not DEFERRABLE, so no load order can satisfy them; load them by hand or make "
                "those constraints DEFERRABLE."
            )
            for t in members:
                blocked_targets[t] = why

    n = 0
    for target in order:
        scan = by_target[target]
        if target in blocked_targets:
            skipped.append((scan, blocked_targets[target]))
            continue
        n += 1
        gid, deferred = group_info.get(target, (None, False))
        plans.append(_table_plan(scan, tables[target], n, gid, deferred))
    return LoadPlan(tables=tuple(plans), skipped=tuple(skipped), export=str(inventory.export))


def _unloadable(scan: TableScan, inventory: Inventory) -> str | None:
    if scan.problem is not None:
        return scan.problem.sentence()
    if not scan.diff.loadable:
        return scan.diff.reason or f"{scan.file.name} cannot be loaded ({scan.diff.status})."
    if not scan.target or inventory.catalog.get(scan.target) is None:
        return f"The target has no table for {scan.file.name}."
    if len(scan.diff.mapping) == 0:
        return f"{scan.file.name} has no header, so there are no columns to load."
    return None


def _table_plan(
    scan: TableScan, table: Table, order: int, group: int | None, deferred: bool
) -> TablePlan:
    csv_columns = tuple(c for c, _ in scan.diff.mapping)
    columns = []
    for csv_col, target_col in scan.diff.mapping:
        if target_col is None:
            continue
        col = table.column(target_col)
        # a generated column is computed by the target; the exported value is only a copy of it
        if col is None or col.generated:
            continue
        columns.append((csv_col, target_col))
    loaded = {t for _, t in columns}
    sequences = tuple(
        (c.name, c.sequence) for c in table.columns if c.sequence and c.name in loaded
    )
    return TablePlan(
        scan=scan,
        table=table,
        columns=tuple(columns),
        csv_columns=csv_columns,
        conflict_keys=tuple(k.columns for k in table.unique_keys),
        sequences=sequences,
        self_fks=tuple(fk for fk in table.foreign_keys if fk.self_reference),
        order=order,
        group=group,
        deferred=deferred,
    )


def _order(targets: list[str], tables: dict[str, Table]) -> tuple[list[str], list[list[str]]]:
    """Parents-first order and the strongly connected groups (Tarjan), both deterministic."""
    selected = set(targets)
    parents: dict[str, list[str]] = {t: [] for t in targets}
    for t in targets:
        for fk in tables[t].foreign_keys:
            if fk.ref_table in selected and fk.ref_table != t and fk.ref_table not in parents[t]:
                parents[t].append(fk.ref_table)

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # iterative enough for real schemas (depth = FK chain length)
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in parents[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            # Tarjan over parent edges emits a group after all its parents' groups
            groups.append(sorted(group, key=targets.index))

    for t in targets:
        if t not in index:
            visit(t)
    order = [t for g in groups for t in g]
    return order, groups
