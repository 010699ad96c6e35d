"""`make_plan()`: the selected tables of an Inventory, in foreign-key order, with what to load how.

Which files are selected is `aria_tui.selection` (one Selection, resolved once); the plan takes
the loadable ones and reports the others with their blockers (`LoadPlan.skipped`).

Order is a topological sort over the live catalog's foreign keys among the selected tables,
parents first, across schemas. Self-references do not constrain the order (the loader inserts a
table's rows in one statement, so a reply that comes before its parent in the file still loads).
A cycle between distinct tables loads as one group in one transaction with its constraints
deferred when every FK of the cycle is deferrable; otherwise its tables are blocked with a
sentence naming them, before anything is written.

A file that differs from the export's manifest (issue 10: `changed`, or `unlisted`) carries a
`manifest` blocker. The operator may load it anyway (`load --accept-changed`, the wizard's `o`)
when that is its only blocker (Selection.accept_changed); the overridden table keeps the
manifest sentence as its reason, so the CLI and the wizard can say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from aria_tui.load.model import LoadPlan, Skipped, TablePlan
from aria_tui.pg.catalog import Table
from aria_tui.selection import (
    ACCEPT_ALL,
    Resolved,
    Selection,
    accept_manifest,
    blockers_of,
    manifest_block,
    manifest_override,
)
from aria_tui.status import IMPORTANT, Blocker, BlockerKind

DEFAULT_PRIORITIES = tuple(str(p) for p in IMPORTANT)  # what the scan ticks by default

if TYPE_CHECKING:
    from aria_tui.scan.model import Inventory, TableScan

__all__ = [
    "ACCEPT_ALL",
    "DEFAULT_PRIORITIES",
    "accept_manifest",
    "make_plan",
    "manifest_block",
    "manifest_override",
    "manifest_overrides",
    "plan_selection",
    "with_policy",
]


def make_plan(
    inventory: Inventory,
    selection: Selection | Iterable[str] | None = None,
    priorities: Iterable[str] | None = None,
    accept_changed: Iterable[str] | None = None,
) -> LoadPlan:
    """The load plan of a Selection (or of its parts: names, priorities, accept_changed).

    A name that matches no file raises AriaError; a selected file that cannot be loaded goes to
    `LoadPlan.skipped` with its blockers.
    """
    if not isinstance(selection, Selection):
        selection = Selection.of(selection, priorities, accept_changed)
    return plan_selection(selection.resolve(inventory))


def plan_selection(resolved: Resolved) -> LoadPlan:
    """The plan of a resolved selection: its loadable files ordered, the others reported."""
    inventory = resolved.inventory
    skipped: list[Skipped] = [Skipped(s, blockers_of(s, inventory)) for s in resolved.blocked]

    # one file per table: Selection.resolve blocked any second one already
    by_target: dict[str, TableScan] = {}
    unique: list[TableScan] = []
    for scan in resolved.chosen:
        assert scan.target is not None
        by_target[scan.target] = scan
        unique.append(scan)

    tables: dict[str, Table] = {}
    for target in by_target:
        if (table := inventory.catalog.get(target)) is not None:  # else _unloadable() said so
            tables[target] = table
    order, groups = _order(list(by_target), tables)

    plans: list[TablePlan] = []
    blocked_targets: dict[str, str] = {}
    group_info: dict[str, tuple[int | None, bool]] = {}
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
            skipped.append(Skipped(scan, (Blocker(BlockerKind.CYCLE, blocked_targets[target]),)))
            continue
        n += 1
        group, deferred = group_info.get(target, (None, False))
        plans.append(_table_plan(scan, tables[target], n, group, deferred))
    return LoadPlan(
        tables=tuple(plans),
        skipped=tuple(skipped),
        export=str(inventory.export),
        left_out=resolved.left_out,
    )


def with_policy(plan: LoadPlan, on_conflict: str | dict[str, str] | None) -> LoadPlan:
    """`plan` with a conflict policy (load/conflicts.py) for every table, or per 'schema.table'."""
    if not on_conflict:
        return plan
    tables = []
    for tp in plan.tables:
        policy = on_conflict if isinstance(on_conflict, str) else on_conflict.get(tp.target)
        tables.append(replace(tp, on_conflict=policy) if policy else tp)
    return replace(plan, tables=tuple(tables))


def manifest_overrides(plan: LoadPlan) -> tuple[TablePlan, ...]:
    """The tables the plan loads although they differ from the export's manifest."""
    return tuple(tp for tp in plan.tables if manifest_override(tp.scan))


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


def refreshed(tp: TablePlan, table: Table) -> TablePlan:
    """`tp` with its table read again from the catalog (its keys and foreign keys now), the
    scan's mapping kept: a load that built again what an interrupted one took down."""
    return replace(
        tp,
        table=table,
        conflict_keys=tuple(k.columns for k in table.unique_keys),
        self_fks=tuple(fk for fk in table.foreign_keys if fk.self_reference),
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
