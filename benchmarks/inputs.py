"""The benchmark's inputs: sample exports generated once by `aria-tui sample` and cached."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from env import ARIA_TUI, CACHE, log


@dataclass(frozen=True)
class Dataset:
    """A folder of CSV files to load, with the rows the generator wrote into each."""

    key: str
    folder: Path
    profile: str
    rows: dict[str, int]  # file name -> records

    def files(self) -> list[Path]:
        return sorted(self.folder / name for name in self.rows)

    @property
    def bytes(self) -> int:
        return sum(p.stat().st_size for p in self.files())


def _sample(out: Path, profile: str, scale: str, rows: dict[str, int]) -> dict[str, int]:
    cmd = [
        *ARIA_TUI,
        "sample",
        str(out),
        "--profile",
        profile,
        "--scale",
        scale,
        "--json",
        "--force",
    ]
    for table, n in rows.items():
        cmd += ["--rows", f"{table}={n}"]
    log("generating: " + " ".join(cmd[len(ARIA_TUI) - 1 :]))
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"aria-tui sample failed: {done.stderr.strip() or done.stdout.strip()}")
    return json.loads(done.stdout)["tables"]


def dataset(
    key: str,
    profile: str,
    scale: str,
    rows: dict[str, int] | None = None,
    only: str | None = None,
    reuse: Path | None = None,
) -> Dataset:
    """Generate (once) and cache a sample export; `only` keeps just that file in the folder."""
    folder = CACHE / "inputs" / key
    marker = folder / ".done.json"
    if marker.exists():
        meta = json.loads(marker.read_text())
        ds = Dataset(key, folder, profile, meta["rows"])
        if all(p.exists() for p in ds.files()):
            return ds
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if reuse is not None:
        # an export generated earlier by `aria-tui sample` (e.g. /tmp/archon_full): link, not copy
        assert only is not None
        src = (reuse / f"{only}.csv").resolve()
        if not src.exists():
            sys.exit(f"--archon-from: {src} does not exist")
        (folder / src.name).symlink_to(src)
        written = {src.name: int((rows or {})[only])}
        source = f"linked from {src}"
    else:
        tmp = CACHE / "inputs" / f".tmp-{key}"
        shutil.rmtree(tmp, ignore_errors=True)
        written = _sample(tmp, profile, scale, rows or {})
        if only:
            name = f"{only}.csv"
            os.replace(tmp / name, folder / name)
            written = {name: written[name]}
        else:
            for name in written:
                os.replace(tmp / name, folder / name)
        shutil.rmtree(tmp, ignore_errors=True)
        source = f"aria-tui sample --profile {profile} --scale {scale}" + "".join(
            f" --rows {t}={n}" for t, n in (rows or {}).items()
        )
    marker.write_text(json.dumps({"rows": written, "source": source}, indent=1))
    return Dataset(key, folder, profile, written)


def csv_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh))
