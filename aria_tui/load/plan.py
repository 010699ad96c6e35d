"""`make_plan()`: the selected tables of an Inventory, in foreign-key order, with what to load how.

Order is a topological sort over the live catalog's foreign keys among the selected tables,
parents first, across schemas. Self-references do not constrain the order (the loader inserts a
table's rows in one statement, so a reply that comes before its parent in the file still loads).
A cycle between distinct tables loads as one group in one transaction with its constraints
deferred when every FK of the cycle is deferrable; otherwise its tables are blocked with a
sentence naming them, before anything is written.

A file that differs from the export's manifest (issue 10: `changed`, or `unlisted`) is blocked by
the scan. The operator may load it anyway with an explicit override (`load --accept-changed`, the
wizard's `o`), but only when the manifest is the file's ONLY blocking reason: the planner
re-derives the schema verdict the scan gave before its manifest check (`verdict_before_manifest`)
and the overridden table keeps the manifest sentence, so the CLI and the wizard can say so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from aria_tui import manifest as manifest_mod
from aria_tui.csvio.files import ExportFile
from aria_tui.errors import AriaError
from aria_tui.load.model import LoadPlan, TablePlan
from aria_tui.pg.catalog import Table

DEFAULT_PRIORITIES = ("HIGH", "MEDIUM")  # what the scan ticks by default with a profile
ACCEPT_ALL = "all"  # accept_changed=["all"]: every file blocked by the manifest alone

# TableScan.manifest states an override may accept; `missing` has no file to load at all
_OVERRIDABLE = (manifest_mod.CHANGED, manifest_mod.UNLISTED)
# Diff.status and MissingColumn.filled_by values (aria_tui.scan.model), spelled here so the
# planner does not import the scanner
_MATCH, _DRIFT, _BLOCKED = "match", "drift", "blocked"
_FILLED_BY_NOTHING = "none"

if TYPE_CHECKING:
    from aria_tui.scan.model import Diff, Inventory, TableScan


def needed_files(
    selection: list[str] | None, priorities: list[str] | None, generic: bool
) -> Callable[[ExportFile, str | None, str | None], bool]:
    """For scan(needed=...): the files make_plan may take for this selection (a superset of what
    it takes: every spelling of a name it accepts), so the others are not read before a load."""
    if selection:
        names = set(selection)

        def named(f: ExportFile, target: str | None, priority: str | None) -> bool:
            spellings = {f.stem, f.name, f.stem.rsplit(".", 1)[-1]}
            if target:
                spellings |= {target, target.split(".", 1)[1]}
            return bool(spellings & names)

        return named
    if priorities:
        wanted = {p.upper() for p in priorities}
        return lambda f, target, priority: priority in wanted
    if generic:
        return lambda f, target, priority: target is not None
    return lambda f, target, priority: priority in DEFAULT_PRIORITIES


def make_plan(
    inventory: Inventory,
    selection: list[str] | None = None,
    priorities: list[str] | None = None,
    accept_changed: Iterable[str] | None = None,
) -> LoadPlan:
    """The load plan for `selection` (file stems / table names), `priorities`, or the default ticks.

    A name that matches no file raises AriaError; a named file that cannot be loaded (blocked,
    no target table) goes to `LoadPlan.skipped` with its reason.

    `accept_changed` (file names, stems or tables; `all` for every one) are files to load although
    they differ from the export's manifest; each must be blocked by the manifest alone, or the
    plan is refused with AriaError. The override does not select a file: it lets a file the
    selection takes be loaded. `manifest_override(table_plan)` tells which tables it let through.
    """
    accepted = accepted_scans(inventory, accept_changed)
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
            scan = accepted.get(id(scan), scan)
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
            if id(scan) in accepted and not _unloadable(accepted[id(scan)], inventory):
                chosen.append(accepted[id(scan)])  # blocked by the manifest alone, and accepted
                continue
            skipped.append((scan, _unloadable(scan, inventory) or f"{scan.file.name} is blocked."))

    # two files for one target table would race for the same rows: keep the first, say why
    by_target: dict[str, TableScan] = {}
    unique: list[TableScan] = []
    for scan in chosen:
        if scan.target is None:  # _unloadable() refused a file without a target table
            continue
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
            skipped.append((scan, blocked_targets[target]))
            continue
        n += 1
        group, deferred = group_info.get(target, (None, False))
        plans.append(_table_plan(scan, tables[target], n, group, deferred))
    return LoadPlan(tables=tuple(plans), skipped=tuple(skipped), export=str(inventory.export))


def with_policy(plan: LoadPlan, on_conflict: str | dict[str, str] | None) -> LoadPlan:
    """`plan` with a conflict policy (load/conflicts.py) for every table, or per 'schema.table'."""
    if not on_conflict:
        return plan
    tables = []
    for tp in plan.tables:
        policy = on_conflict if isinstance(on_conflict, str) else on_conflict.get(tp.target)
        tables.append(replace(tp, on_conflict=policy) if policy else tp)
    return replace(plan, tables=tuple(tables))


# -- the manifest override (issue 10) ------------------------------------------------------------


def manifest_block(scan: TableScan) -> str | None:
    """The manifest's sentence when it is the ONLY thing blocking `scan`, else None.

    Scan blocks a `changed` or `unlisted` file with the manifest's sentence, joined by '; ' to
    the schema diff's own reason when the diff blocked the file too. The file may be overridden
    only when nothing else blocks it: no CSV problem, a target table, a reason that is the
    manifest's sentence and nothing more, and none of the diff's own blocking findings (a column
    holding data the target lacks, a NOT NULL column nothing fills, no column loaded).
    """
    if scan.manifest not in _OVERRIDABLE or scan.diff.status != _BLOCKED:
        return None
    if scan.problem is not None or scan.target is None or scan.header is None:
        return None
    if not manifest_mod.is_file_reason(scan.file.name, scan.diff.reason):
        return None
    if _schema_blocks(scan.diff):
        return None
    return scan.diff.reason


def verdict_before_manifest(scan: TableScan) -> str:
    """The schema verdict the scan gave `scan` before its manifest check blocked it.

    `match` or `drift` for a file blocked by the manifest alone (drift by the same findings the
    diff judges by: extra, missing, renamed, reordered or computed columns, sampled type
    problems), `blocked` when something else blocks it too, and the scan's own status for any
    file the manifest did not block.
    """
    diff = scan.diff
    if scan.manifest not in _OVERRIDABLE or diff.status != _BLOCKED:
        return diff.status
    if manifest_block(scan) is None:
        return _BLOCKED
    dropped = {source for source, target in diff.mapping if target is None}
    computed = dropped - {e.name for e in diff.extra_columns}  # GENERATED target columns
    if (
        diff.extra_columns
        or diff.missing_columns
        or diff.renames
        or diff.reordered
        or diff.type_issues
        or computed
    ):
        return _DRIFT
    return _MATCH


def accept_manifest(scan: TableScan) -> TableScan:
    """`scan` with its pre-manifest verdict: loadable, the manifest sentence kept as its reason."""
    why = manifest_block(scan)
    if why is None:
        raise AriaError(f"{scan.file.name} {_why_not_overridable(scan)}")
    return replace(scan, diff=replace(scan.diff, status=verdict_before_manifest(scan), reason=why))


def manifest_override(item: TablePlan | TableScan) -> bool:
    """True for a table the plan loads although it differs from the export's manifest."""
    scan = item.scan if isinstance(item, TablePlan) else item
    return scan.manifest in _OVERRIDABLE and scan.diff.loadable


def manifest_overrides(plan: LoadPlan) -> tuple[TablePlan, ...]:
    return tuple(tp for tp in plan.tables if manifest_override(tp))


def _schema_blocks(diff: Diff) -> bool:
    """The diff's own blocking findings (aria_tui.scan.diff.judge), read back from the Diff."""
    return (
        not any(target for _, target in diff.mapping)
        or any(not e.all_empty for e in diff.extra_columns)
        or any(m.filled_by == _FILLED_BY_NOTHING for m in diff.missing_columns)
    )


def _why_not_overridable(scan: TableScan) -> str:
    if scan.manifest not in _OVERRIDABLE:
        state = scan.manifest or "no manifest"
        return f"cannot be accepted despite the manifest: it is not changed or unlisted ({state})."
    reason = (scan.problem.sentence() if scan.problem else None) or scan.diff.reason or ""
    return (
        "cannot be loaded even with the manifest override: something besides the manifest "
        f"blocks it: {reason.rstrip('.')}."
    )


def accepted_scans(inventory: Inventory, names: Iterable[str] | None) -> dict[int, TableScan]:
    """id(original TableScan) -> the same file made loadable, for every file the operator accepts
    (`load --accept-changed`, `validate --accept-changed`). Raises AriaError for a name that is
    no file of the export, or a file something besides the manifest blocks."""
    if not names:
        return {}
    wanted = [n.strip() for n in names if n and n.strip()]
    out: dict[int, TableScan] = {}
    if any(n.lower() == ACCEPT_ALL for n in wanted):
        for scan in inventory.tables:
            if manifest_block(scan) is not None:
                out[id(scan)] = accept_manifest(scan)
    for name in wanted:
        if name.lower() == ACCEPT_ALL:
            continue
        found = inventory.table(name) or _by_file_name(inventory, name)
        if found is None:
            raise AriaError(
                f"Cannot accept '{name}' despite the manifest: the export has no such file "
                "(use a file name, a file stem or schema.table)."
            )
        if found.manifest in (manifest_mod.OK, None):
            continue  # it matches its manifest (again), or there is none: nothing to accept
        out[id(found)] = accept_manifest(found)
    return out


def _by_file_name(inventory: Inventory, name: str) -> TableScan | None:
    """'x.csv' for 'x.csv.gz' and the reverse: the name the operator saw in the manifest."""
    stem = manifest_mod.stem_of(name)
    hits = [t for t in inventory.tables if t.name == stem]
    return hits[0] if len(hits) == 1 else None


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
