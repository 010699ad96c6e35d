"""What the export's manifest and the profile expect of a scanned folder: a file that differs from
what the export wrote, a record count other than the one it counted, a column it typed
timestamptz going into a `timestamp`, and the files it lists (or the profile rates HIGH or
MEDIUM) that are not in the folder at all. Each becomes a blocker on the file's TableScan, as
data; nothing expected is ever left out in silence."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from aria_tui.csvio import ExportFile
from aria_tui.manifest.check import ManifestCheck
from aria_tui.manifest.format import MANIFEST_NAME
from aria_tui.pg.catalog import Catalog
from aria_tui.profiles import Profile, TableEntry
from aria_tui.scan.inventory import classify, default_selected
from aria_tui.scan.matching import match_target
from aria_tui.scan.model import BLOCKED, DRIFT, MATCH, NO_TARGET, Diff, TableScan
from aria_tui.scan.verdict import LOSS, loss_blockers, loss_issue
from aria_tui.status import IMPORTANT, Blocker, BlockerKind, ManifestState

# format_type()'s spellings of a timestamp with a zone, a precision or not
_ZONED_TIMESTAMP = re.compile(r"(?i)^(timestamp(\s*\(\s*\d\s*\))?\s+with\s+time\s+zone|timestamptz)")


def apply_manifest(
    t: TableScan, check: ManifestCheck, prof: Profile | None, catalog: Catalog
) -> TableScan:
    """A file that differs from what the export wrote (or that it never wrote) is blocked; a
    column the export wrote as timestamptz into a `timestamp` column is blocked too (its zone
    would be dropped), even when the values the scan read were all in UTC."""
    state = check.status_for(t.file)
    diff = replace(t.diff, source_types=check.source_types(t.file))
    table = catalog.get(t.target) if t.target else None
    if table is not None and diff.status in (MATCH, DRIFT, BLOCKED):
        mapping = dict(diff.mapping)
        flagged = {i.column for i in diff.type_issues if i.kind == LOSS}
        added = [
            loss_issue(
                src,
                0,
                "",
                "the export's manifest.json types it timestamp with time zone: timestamp without "
                "time zone would drop every value's zone",
            )
            for src, typ in diff.source_types.items()
            if src not in flagged
            and _ZONED_TIMESTAMP.match(typ.strip())
            and (col := table.column(mapping.get(src) or "")) is not None
            and col.base_type == "timestamp"
        ]
        if added:
            blockers = (*diff.blockers, *loss_blockers(added, mapping, table))
            diff = replace(
                Diff.blocked(*blockers),
                **{**_compared(diff), "type_issues": (*diff.type_issues, *added)},
            )
    fc = check.check_for(t.file)
    if (
        state == ManifestState.OK
        and fc is not None
        and fc.entry is not None
        and not t.rows_estimated
        and t.problem is None
        and fc.entry.records != t.rows
    ):
        # the very bytes the manifest lists, but not the records it counted when it wrote them:
        # the dump lost (or gained) records between its count and its COPY
        why = (
            f"{t.file.name} holds {t.rows:,} records, but the export's manifest counted "
            f"{fc.entry.records:,} in {fc.entry.qualified} when it wrote this very file."
        )
        diff = diff.adding(Blocker(BlockerKind.MANIFEST, why))
    if state in (ManifestState.CHANGED, ManifestState.UNLISTED) and diff.status != NO_TARGET:
        why = check.reason_for(t.file) or f"{t.file.name} does not match the manifest."
        blockers = (Blocker(BlockerKind.MANIFEST, why), *diff.blockers)
        diff = replace(Diff.blocked(*blockers), **_compared(diff))
    return replace(
        t, diff=diff, manifest=state, selected=default_selected(prof, t.priority, t.target, diff)
    )


def _compared(diff: Diff) -> dict[str, Any]:
    """The fields of a diff that describe the comparison itself (all but its verdict)."""
    keep = {"status", "reason", "blockers"}
    return {f: getattr(diff, f) for f in diff.__dataclass_fields__ if f not in keep}


def missing_files(
    folder: Path,
    present: list[TableScan],
    check: ManifestCheck | None,
    prof: Profile | None,
    catalog: Catalog,
) -> list[TableScan]:
    """A TableScan (status `missing`, 0 rows) for each file the export's manifest lists, or the
    profile rates HIGH or MEDIUM, that is not in the folder: its absence is a failure, never a
    file quietly left out (seed 004: pg_dump left out 13 of 19 tables without a word)."""
    out: list[TableScan] = []
    seen: set[str] = set()
    if check is not None:
        for fc in check.missing:
            entry = fc.entry
            assert entry is not None
            stem = entry.stem
            prof_entry = prof.entry(stem) if prof else None
            seen |= {stem, entry.qualified, entry.table}
            if prof_entry is not None:
                seen.add(prof_entry.file)
            why = fc.reason or f"{fc.file} is listed in {MANIFEST_NAME} but is not in the folder."
            out.append(
                _absent(
                    folder, fc.file, stem, why, prof, prof_entry, catalog, ManifestState.MISSING,
                    entry.records,
                )
            )
    if prof is not None:
        have = {id(e) for e in (prof.entry(t.file.stem) for t in present) if e is not None}
        have_files = {e.file for e in (prof.entry(t.file.stem) for t in present) if e is not None}
        for pe in prof.tables:
            if pe.priority not in IMPORTANT or id(pe) in have or pe.file in have_files:
                continue
            if pe.file in seen or (pe.target and pe.target in seen):
                continue
            name = f"{pe.file}.csv"
            why = (
                f"{name} is rated {pe.priority} by the {prof.name} profile "
                f"({pe.target or 'no target table'}) but is not in the folder."
            )
            out.append(_absent(folder, name, pe.file, why, prof, pe, catalog, None))
    return out


def _absent(
    folder: Path,
    name: str,
    stem: str,
    why: str,
    prof: Profile | None,
    entry: TableEntry | None,
    catalog: Catalog,
    manifest_state: str | None,
    expected_rows: int | None = None,
) -> TableScan:
    schema, _, table = stem.rpartition(".")
    file = ExportFile(
        path=folder / name,
        stem=stem,
        schema=schema or None,
        table=table,
        compressed=name.lower().endswith(".gz"),
        bytes=0,
    )
    match = match_target(stem, catalog, prof, entry)
    cls = classify(prof, entry)
    return TableScan(
        file=file,
        header=None,
        rows=0,
        problem=None,
        target=match.table.qualified if match.table is not None else None,
        category=cls.category,
        priority=cls.priority,
        reason=cls.reason,
        selected=False,
        diff=Diff.blocked(Blocker(BlockerKind.MISSING_FILE, why)),
        manifest=manifest_state,
        expected_rows=expected_rows,
    )
