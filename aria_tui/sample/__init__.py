"""Realistic sample exports (Aria v3, Archon), written the way PostgreSQL's CSV COPY writes them.

`write_sample(out_dir, profile, scale, seed)` writes one `<table>.csv` per catalog entry of the
profile, streaming row by row (memory does not grow with scale) and deterministically (the same
seed gives byte-identical files). Full scale has exactly the catalog's `rows_full` rows per file;
small scale keeps every table but far fewer rows (the committed `sample_export/`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from aria_tui import profiles
from aria_tui.errors import AriaError
from aria_tui.sample.pgtext import csv_line
from aria_tui.sample.spec import Ctx, Registry, TableSpec
from aria_tui.sample.thirdparty import generic_rows

SCALES = ("small", "full")
DEFAULT_SEED = 42

# progress(file, rows written so far, rows that file will have)
Progress = Callable[[str, int, int], None]

# small scale: tables up to this size keep every row; larger ones get a fraction of it
SMALL_KEEP_ALL = 300
SMALL_FRACTION = 50
SMALL_OVERRIDES = {
    "semantic_memories": 100,  # 768-d vectors: enough rows to matter, still ~0.8 MB
    "archon_crawled_pages": 2000,
    "archon_code_examples": 200,
    "archon_page_metadata": 40,
}

_BATCH_BYTES = 1 << 20  # write in ~1 MB pieces: few syscalls, flat memory


def registry(profile: str) -> Registry:
    if profile == "aria_v4":
        from aria_tui.sample.aria import reg
    elif profile == "archon":
        from aria_tui.sample.archon import reg
    else:
        raise AriaError(f"No sample generator for profile '{profile}'; choose aria_v4 or archon.")
    return reg


def small_rows(file: str, full: int) -> int:
    if file in SMALL_OVERRIDES:
        return min(full, SMALL_OVERRIDES[file])
    if full <= SMALL_KEEP_ALL:
        return full
    return max(SMALL_KEEP_ALL, full // SMALL_FRACTION)


def plan(
    profile: str, scale: str = "small", rows: Mapping[str, int] | None = None
) -> list[tuple[TableSpec, int]]:
    """Every file the sample will have, with its generator and row count, in catalog order."""
    if scale not in SCALES:
        raise AriaError(f"Unknown scale '{scale}'; choose small or full.")
    prof = profiles.load(profile)
    reg = registry(profile)
    rows = dict(rows or {})
    known = {t.file for t in prof.tables}
    unknown = sorted(set(rows) - known)
    if unknown:
        raise AriaError(f"--rows names {unknown[0]}, which is not a table of the {profile} sample.")
    for file, n in rows.items():
        if n < 0:
            raise AriaError(f"--rows {file}={n}: a row count cannot be negative.")
    out: list[tuple[TableSpec, int]] = []
    for entry in prof.tables:
        spec = reg.specs.get(entry.file)
        if spec is None:
            if not entry.columns:
                raise AriaError(
                    f"The {profile} catalog entry {entry.file} has neither a generator nor columns."
                )
            spec = TableSpec(entry.file, entry.columns, generic_rows(entry.file, entry.columns))
        full = entry.rows_full or 0
        n = rows.get(entry.file, full if scale == "full" else small_rows(entry.file, full))
        out.append((spec, n))
    return out


def write_table(
    path: Path, spec: TableSpec, ctx: Ctx, n: int, progress: Progress | None = None
) -> int:
    """Stream one table to `path`; returns the rows written (always n)."""
    columns = spec.columns
    width = len(columns)
    every = max(1, min(5000, n // 20 or 1))
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(csv_line(list(columns)))
        buf: list[str] = []
        size = 0
        for row in spec.generate(ctx, n):
            if isinstance(row, str):
                line = row
            else:
                if isinstance(row, Mapping):
                    if len(row) != width:
                        extra = sorted(set(row) ^ set(columns))
                        raise RuntimeError(
                            f"{spec.file}: row columns differ from the header: {extra}"
                        )
                    values: Sequence[object] = [row[c] for c in columns]
                else:
                    values = row
                    if len(values) != width:
                        raise RuntimeError(
                            f"{spec.file}: row has {len(values)} values for {width} columns"
                        )
                line = csv_line(values)
            buf.append(line)
            size += len(line)
            written += 1
            if size >= _BATCH_BYTES:
                fh.write("".join(buf))
                buf.clear()
                size = 0
            if progress and written % every == 0:
                progress(spec.file, written, n)
        fh.write("".join(buf))
    if written != n:
        raise RuntimeError(f"{spec.file}: generator wrote {written} rows, {n} were planned")
    if progress:
        progress(spec.file, written, n)
    return written


def write_sample(
    out_dir: Path,
    profile: str = "aria_v4",
    scale: str = "small",
    seed: int = DEFAULT_SEED,
    rows: dict[str, int] | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Write the sample export into `out_dir` (created if needed); returns {file name: rows}."""
    tables = plan(profile, scale, rows)
    ctx = Ctx(seed=seed, counts={spec.file: n for spec, n in tables})
    # one row of each table first: a child whose parent was set to 0 rows fails here, before any file
    for spec, n in tables:
        if n:
            next(iter(spec.generate(ctx, 1)), None)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AriaError(f"Cannot create {out_dir}: {exc.strerror or exc}.") from None
    result: dict[str, int] = {}
    for spec, n in tables:
        path = out_dir / f"{spec.file}.csv"
        tmp = path.with_name(path.name + ".part")
        try:
            result[path.name] = write_table(tmp, spec, ctx, n, progress)
            # a crash or Ctrl-C must not leave a truncated file that looks complete
            os.replace(tmp, path)
        except OSError as exc:
            raise AriaError(f"Cannot write {path}: {exc.strerror or exc}.") from None
        finally:
            if tmp.exists():
                tmp.unlink()
    return result


__all__ = [
    "DEFAULT_SEED",
    "SCALES",
    "Progress",
    "plan",
    "small_rows",
    "write_sample",
    "write_table",
]
