"""Which files of an export a load or a validation takes: one `Selection`, resolved once.

The operator says what they want (files named, priorities, or the default), which files to take
although they differ from the export's manifest, and which files they leave out on purpose (the
wizard's unticked rows). `Selection.resolve(inventory)` turns that into a `Resolved`: the files
to work on, the selected files that cannot be loaded (each with its blockers, so the load and the
validation report them and exit 1), and the files left out on purpose (which the reports list).

The rules, the same for `load`, `validate`, the wizard and the benchmark:

- a name that matches no file of the export is an error (AriaError, exit 2);
- a named file that cannot be loaded is selected and blocked: reported with its reason, never
  left out in silence and never an exception;
- by default, with a profile: the files it rates HIGH or MEDIUM; in generic mode: every CSV of
  the folder, whether or not the target has a table for it; with priorities: those priorities;
- a file the export's manifest lists, or the profile rates HIGH or MEDIUM, that is absent from
  the folder (scan lists it `missing`) is in the default selection, and so is a failure;
- the only files left out quietly are those the operator deselected, those outside a priority
  filter or below the profile's default (LOW, unknown to the profile), and those the profile
  marks SKIP; `Resolved.left_out` lists them.

No heavy imports here (the scan's values are only type-checked), so the wizard's state can hold
a Selection without pulling in polars.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from aria_tui.errors import AriaError
from aria_tui.status import (
    IMPORTANT,
    Blocker,
    BlockerKind,
    ManifestState,
    Priority,
    ScanStatus,
)

if TYPE_CHECKING:
    from aria_tui.csvio.files import ExportFile
    from aria_tui.scan.model import Inventory, TableScan

ACCEPT_ALL = "all"  # accept_changed=["all"]: every file blocked by the manifest alone
# manifest states an override may accept; `missing` has no file to load at all
OVERRIDABLE = (ManifestState.CHANGED, ManifestState.UNLISTED)


def _names(values: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in values or () if v and v.strip())


@dataclass(frozen=True)
class Selection:
    """What the operator asked for, before it meets an inventory."""

    tables: tuple[str, ...] = ()  # file names, stems, bare table names or schema.table
    priorities: tuple[str, ...] = ()  # e.g. ('HIGH', 'MEDIUM'); ignored when tables are named
    accept_changed: tuple[str, ...] = ()  # load these despite the manifest; 'all' for every one
    deselected: tuple[str, ...] = ()  # left out on purpose (the wizard's unticked files)

    @classmethod
    def of(
        cls,
        tables: Iterable[str] | None = None,
        priorities: Iterable[str] | None = None,
        accept_changed: Iterable[str] | None = None,
        deselected: Iterable[str] | None = None,
    ) -> Selection:
        """From the CLI's lists (None when a flag was not given)."""
        return cls(
            tables=_names(tables),
            priorities=tuple(p.upper() for p in _names(priorities)),
            accept_changed=_names(accept_changed),
            deselected=_names(deselected),
        )

    @property
    def named(self) -> bool:
        return bool(self.tables)

    # -- before the scan ---------------------------------------------------------------------

    def needs(self, generic: bool) -> Callable[[ExportFile, str | None, str | None], bool]:
        """For scan(needed=...): may this selection take the file? A superset (every spelling of
        a name it accepts), so a load of a few tables does not read the other files."""
        if self.tables:
            names = set(self.tables)

            def named(f: ExportFile, target: str | None, priority: str | None) -> bool:
                spellings = {f.stem, f.name, f.stem.rsplit(".", 1)[-1]}
                if target:
                    spellings |= {target, target.split(".", 1)[1]}
                return bool(spellings & names)

            return named
        if self.priorities:
            wanted = set(self.priorities)
            return lambda f, target, priority: priority in wanted
        if generic:
            return lambda f, target, priority: True
        return lambda f, target, priority: priority in IMPORTANT

    # -- against an inventory ----------------------------------------------------------------

    def resolve(self, inventory: Inventory, also_accept: Iterable[TableScan] = ()) -> Resolved:
        """The files this selection takes from `inventory`. Raises AriaError (exit 2) for a name
        that is no file of the export, or a file accepted despite the manifest that something
        else blocks too. `also_accept`: files accepted by other means (validate: the load journal
        shows these very bytes were loaded under the override)."""
        accepted = _accepted(inventory, self.accept_changed)
        for scan in also_accept:
            if id(scan) not in accepted and manifest_block(scan) is not None:
                accepted[id(scan)] = accept_manifest(scan)
        tables = tuple(accepted.get(id(t), t) for t in inventory.tables)
        if accepted:
            inventory = replace(inventory, tables=tables)

        picked: list[TableScan] = []
        if self.tables:
            for name in self.tables:
                found = _find(inventory, name)
                if found is None:
                    raise AriaError(
                        f"The export has no file for table '{name}' (or the name is ambiguous); "
                        "use a file stem or schema.table."
                    )
                if all(found is not p for p in picked):
                    picked.append(found)
        else:
            dropped = {id(s) for s in (_find(inventory, n) for n in self.deselected) if s}
            picked = [
                t
                for t in inventory.tables
                if id(t) not in dropped and self._default_takes(t, inventory)
            ]
        picked, inventory = _one_file_per_table(picked, inventory)
        picked_ids = {id(t) for t in picked}
        return Resolved(
            inventory=inventory,
            picked=tuple(picked),
            left_out=tuple(t for t in inventory.tables if id(t) not in picked_ids),
            accepted=tuple(
                t for t in inventory.tables if id(t) in {id(a) for a in accepted.values()}
            ),
        )

    def _default_takes(self, t: TableScan, inventory: Inventory) -> bool:
        if t.priority == Priority.SKIP:
            return False
        if self.priorities:
            return t.priority in self.priorities
        if t.missing:
            return True  # the manifest lists it or the profile needs it: its absence is a failure
        if inventory.profile is None:
            return True  # generic mode: every CSV of the folder
        return t.selected or t.priority in IMPORTANT


def _one_file_per_table(
    picked: list[TableScan], inventory: Inventory
) -> tuple[list[TableScan], Inventory]:
    """Two selected files for one table would race for its rows (and a keyless table would take
    both): the first loads, every other one is blocked, saying why. One rule for the load and
    the validation, so the proof never judges a file the load refused."""
    first: dict[str, TableScan] = {}
    swapped: dict[int, TableScan] = {}
    for t in picked:
        if not t.target or blockers_of(t, inventory):
            continue
        if t.target not in first:
            first[t.target] = t
            continue
        why = f"{t.file.name} loads into {t.target}, which {first[t.target].file.name} already loads."
        swapped[id(t)] = replace(t, diff=t.diff.adding(Blocker(BlockerKind.DUPLICATE_TARGET, why)))
    if not swapped:
        return picked, inventory
    tables = tuple(swapped.get(id(t), t) for t in inventory.tables)
    return [swapped.get(id(t), t) for t in picked], replace(inventory, tables=tables)


@dataclass(frozen=True)
class Resolved:
    """A Selection met with an inventory: what to work on, and what to report."""

    inventory: Inventory  # with the files accepted despite the manifest made loadable
    picked: tuple[TableScan, ...]  # every selected file, in selection order
    left_out: tuple[TableScan, ...]  # not selected, on purpose: listed, not a failure
    accepted: tuple[TableScan, ...] = ()  # files made loadable despite the manifest

    @property
    def chosen(self) -> tuple[TableScan, ...]:
        """Selected and loadable."""
        return tuple(t for t in self.picked if not blockers_of(t, self.inventory))

    @property
    def blocked(self) -> tuple[TableScan, ...]:
        """Selected but not loadable: a failure, each with its blockers_of()."""
        return tuple(t for t in self.picked if blockers_of(t, self.inventory))

    def why(self, scan: TableScan) -> str:
        """One sentence: why this selected file cannot be loaded."""
        return sentence(blockers_of(scan, self.inventory), scan)


def blockers_of(scan: TableScan, inventory: Inventory) -> tuple[Blocker, ...]:
    """Everything that stops `scan` from loading, as data; () when it can be loaded."""
    if scan.blockers:
        return scan.blockers
    if scan.problem is not None:
        return (Blocker(BlockerKind.CSV, scan.problem.sentence()),)
    if not scan.diff.loadable:
        why = scan.diff.reason or f"{scan.file.name} cannot be loaded ({scan.diff.status})."
        kind = BlockerKind.NO_TARGET if scan.status == ScanStatus.NO_TARGET else BlockerKind.SCHEMA
        return (Blocker(kind, why),)
    if not scan.target or inventory.catalog.get(scan.target) is None:
        return (Blocker(BlockerKind.NO_TARGET, f"The target has no table for {scan.file.name}."),)
    if not scan.diff.mapping:
        return (
            Blocker(
                BlockerKind.CSV, f"{scan.file.name} has no header, so there are no columns to load."
            ),
        )
    return ()


def sentence(blockers: Iterable[Blocker], scan: TableScan) -> str:
    from aria_tui.status import sentence_of

    return sentence_of(blockers) or f"{scan.file.name} cannot be loaded."


# -- the manifest override (issue 10) ------------------------------------------------------------


def manifest_block(scan: TableScan) -> str | None:
    """The manifest's sentence when it is the ONLY thing blocking `scan`, else None."""
    if scan.manifest not in OVERRIDABLE:
        return None
    if scan.problem is not None or scan.target is None or scan.header is None:
        return None
    if not scan.diff.blocked_only_by(BlockerKind.MANIFEST):
        return None
    return scan.diff.reason


def accept_manifest(scan: TableScan) -> TableScan:
    """`scan` with its manifest blocker lifted: loadable by its columns' own verdict, the
    manifest's sentence kept as its reason. AriaError when something else blocks it too."""
    if manifest_block(scan) is None:
        raise AriaError(f"{scan.file.name} {_why_not_overridable(scan)}")
    return replace(scan, diff=scan.diff.without(BlockerKind.MANIFEST), selected=True)


def manifest_override(item: object) -> bool:
    """True for a file (a TableScan, or a TablePlan's) taken although it differs from the
    export's manifest."""
    scan = getattr(item, "scan", item)
    return getattr(scan, "manifest", None) in OVERRIDABLE and scan.diff.loadable  # type: ignore[attr-defined]


def _why_not_overridable(scan: TableScan) -> str:
    if scan.manifest not in OVERRIDABLE:
        state = scan.manifest or "no manifest"
        return f"cannot be accepted despite the manifest: it is not changed or unlisted ({state})."
    others = [b for b in scan.blockers if b.kind != BlockerKind.MANIFEST]
    reason = sentence(others, scan) if others else (scan.diff.reason or "")
    return (
        "cannot be loaded even with the manifest override: something besides the manifest "
        f"blocks it: {reason.rstrip('.')}."
    )


def _accepted(inventory: Inventory, names: tuple[str, ...]) -> dict[int, TableScan]:
    """id(original TableScan) -> the same file made loadable, for every file accepted."""
    out: dict[int, TableScan] = {}
    if not names:
        return out
    if any(n.lower() == ACCEPT_ALL for n in names):
        for scan in inventory.tables:
            if manifest_block(scan) is not None:
                out[id(scan)] = accept_manifest(scan)
    for name in names:
        if name.lower() == ACCEPT_ALL:
            continue
        found = _find(inventory, name)
        if found is None:
            raise AriaError(
                f"Cannot accept '{name}' despite the manifest: the export has no such file "
                "(use a file name, a file stem or schema.table)."
            )
        if found.manifest in (ManifestState.OK, None):
            continue  # it matches its manifest (again), or there is none: nothing to accept
        out[id(found)] = accept_manifest(found)
    return out


def _find(inventory: Inventory, name: str) -> TableScan | None:
    """By the names Inventory.table knows, and 'x.csv' for 'x.csv.gz' (and the reverse)."""
    scan = inventory.table(name)
    if scan is not None:
        return scan
    lower = name.lower()
    for suffix in (".csv.gz", ".csv"):
        if lower.endswith(suffix):
            stem = name[: -len(suffix)]
            hits = [t for t in inventory.tables if t.name == stem]
            return hits[0] if len(hits) == 1 else None
    return None
