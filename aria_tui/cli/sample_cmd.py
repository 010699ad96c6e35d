"""`aria-tui sample OUT_DIR`: write a realistic sample export (Aria v3 or Archon)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from aria_tui.cli.common import emit_json
from aria_tui.errors import AriaError
from aria_tui.sample import DEFAULT_SEED, SCALES, plan, write_sample


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out_dir", metavar="OUT_DIR", help="folder to write the CSV files into")
    parser.add_argument(
        "--profile",
        default="aria_v4",
        choices=["aria_v4", "archon"],
        help="which export (default aria_v4)",
    )
    parser.add_argument(
        "--scale",
        default="small",
        choices=list(SCALES),
        help="small (default) or full: the real export's row counts",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"random seed; the same seed writes identical files (default {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--rows",
        action="append",
        default=[],
        metavar="TABLE=N",
        help="override one table's row count, e.g. archon_crawled_pages=50000 (repeatable)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into OUT_DIR even if it is not empty (its files of the same name are replaced)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def parse_rows(items: list[str]) -> dict[str, int]:
    rows: dict[str, int] = {}
    for item in items:
        name, sep, count = item.partition("=")
        name = name.strip().removesuffix(".csv")
        try:
            n = int(count.replace("_", "").replace(",", "")) if sep else -1
        except ValueError:
            n = -1
        if not name or n < 0:
            raise AriaError(f"--rows {item!r} is not TABLE=N with N a whole number of rows.")
        rows[name] = n
    return rows


def _check_out_dir(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise AriaError(f"{out} exists and is not a folder.")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise AriaError(
            f"{out} is not empty; choose an empty or new folder, or pass --force to write into it."
        )


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def run(args: argparse.Namespace) -> int:
    out = Path(args.out_dir)
    rows = parse_rows(args.rows)
    _check_out_dir(out, args.force)
    started = time.monotonic()
    written = _write(out, args, rows)
    seconds = time.monotonic() - started
    size = sum((out / name).stat().st_size for name in written)
    total_rows = sum(written.values())
    if args.json:
        emit_json(
            {
                "ok": True,
                "out_dir": str(out),
                "profile": args.profile,
                "scale": args.scale,
                "seed": args.seed,
                "files": len(written),
                "rows": total_rows,
                "bytes": size,
                "seconds": round(seconds, 3),
                "tables": written,
            }
        )
    else:
        print(
            f"Wrote {len(written)} files, {total_rows:,} rows, {_human(size)} to {out} "
            f"in {seconds:.1f} s ({args.profile}, {args.scale}, seed {args.seed})."
        )
    return 0


def _write(out: Path, args: argparse.Namespace, rows: dict[str, int]) -> dict[str, int]:
    """One overall bar in rows while a person watches (the crawled pages dominate a full Archon
    sample), file by file."""
    from aria_tui.cli.common import TransientProgress

    total = max(sum(n for _, n in plan(args.profile, args.scale, rows)), 1)
    done_by_file: dict[str, int] = {}

    def read(event: tuple[str, int]) -> tuple[int, int, str]:
        file, done = event
        done_by_file[file] = done
        return total, sum(done_by_file.values()), file

    with TransientProgress("sampling", not args.json, read) as tick:
        progress = None if tick is None else (lambda file, done, n: tick((file, done)))
        return write_sample(out, args.profile, args.scale, args.seed, rows, progress)
