"""The cases a benchmark run measures: which files, loaded into which template, in which order."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from env import ARIA_TUI
from inputs import Dataset, csv_header
from server import Server


@dataclass(frozen=True)
class Table:
    target: str  # schema.table
    path: Path
    columns: tuple[str, ...]  # CSV header, used as the \copy column list
    rows: int


@dataclass
class Case:
    key: str
    title: str
    dataset: Dataset
    template: str
    tables: list[Table]  # in foreign-key order
    vector: bool
    notes: list[str] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(t.path.stat().st_size for t in self.tables)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def single_table_case(key: str, title: str, ds: Dataset, server: Server, vector: bool) -> Case:
    (path,) = ds.files()
    template = server.template(ds.profile)
    from aria_tui import profiles

    entry = profiles.load(ds.profile).entry(path.stem)
    assert entry is not None and entry.target, path
    table = Table(entry.target, path, tuple(csv_header(path)), ds.rows[path.name])
    return Case(key, title, ds, template, [table], vector)


def default_selection(ds: Dataset, server: Server, template: str) -> tuple[list[str], str]:
    """File stems `aria-tui load` loads by default: the scan's `selected` flag."""
    db = server.fresh(template)
    done = subprocess.run(
        [
            *ARIA_TUI,
            "scan",
            str(ds.folder),
            "--dsn",
            server.uri(db),
            "--profile",
            ds.profile,
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(done.stdout)
        chosen = [
            Path(t["file"]).name.removesuffix(".csv") for t in report["tables"] if t["selected"]
        ]
        return (
            chosen,
            "the files `aria-tui scan` selects by default (HIGH and MEDIUM with a target, not blocked)",
        )
    except (json.JSONDecodeError, KeyError, TypeError):
        pass
    # scan not usable yet: the same rule from the profile's catalog
    from aria_tui import profiles

    prof = profiles.load(ds.profile)
    chosen = []
    for p in ds.files():
        entry = prof.entry(p.stem)
        if entry and entry.target and entry.priority in ("HIGH", "MEDIUM"):
            chosen.append(p.stem)
    return chosen, "HIGH and MEDIUM files of the profile catalog (aria-tui scan was not usable)"


def export_case(ds: Dataset, server: Server) -> Case:
    """The whole export: the default selection, minus files a plain `\\copy` cannot load."""
    from aria_tui import profiles
    from aria_tui.pg.catalog import read_catalog

    template = server.template(ds.profile)
    prof = profiles.load(ds.profile)
    import psycopg

    with psycopg.connect(server.uri(template)) as conn:
        catalog = read_catalog(conn, list(prof.schemas))
    chosen, rule = default_selection(ds, server, template)
    notes = [f"Tables: {rule}."]
    tables: dict[str, Table] = {}
    excluded: list[str] = []
    for stem in chosen:
        path = ds.folder / f"{stem}.csv"
        entry = prof.entry(stem)
        target = entry.target if entry else None
        table = catalog.get(target) if target else None
        if table is None:
            excluded.append(f"{stem} (no target table)")
            continue
        header = csv_header(path)
        alien = [c for c in header if c not in table.column_names]
        if alien:
            excluded.append(
                f"{stem} (CSV columns {', '.join(alien)} are not in {target}: COPY cannot skip a CSV column, "
                "so a plain `\\copy` fails)"
            )
            continue
        tables[target] = Table(target, path, tuple(header), ds.rows[path.name])
    # parents first, for psql (aria-tui orders them itself)
    ordered: list[Table] = []
    placed: set[str] = set()
    pending = dict(tables)
    while pending:
        ready = [
            t
            for name, t in pending.items()
            if all(
                fk.ref_table == name or fk.ref_table not in pending
                for fk in catalog.get(name).foreign_keys
            )
        ]
        if not ready:  # a cycle: keep file order, psql would fail and say so
            ready = list(pending.values())
        for t in sorted(ready, key=lambda t: t.target):
            ordered.append(t)
            placed.add(t.target)
            del pending[t.target]
    if excluded:
        notes.append("Excluded from both sides: " + "; ".join(excluded) + ".")
    notes.append(
        f'psql side: one `psql -c "\\copy ..."` per table, {len(ordered)} processes, parents first; '
        "its time is the sum. aria-tui side: ONE `aria-tui load --tables ...` of the same tables "
        "(process start, scan and plan included). Plain client: ONE `python benchmarks/"
        "plain_client.py` that only copies the same files (a reference, see its docstring)."
    )
    return Case(
        "export",
        f"{ds.key}: {len(ordered)} tables",
        ds,
        template,
        ordered,
        vector=False,
        notes=notes,
    )
