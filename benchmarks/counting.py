"""Record counting: `wc -l` against aria_tui.csvio.count_records and `aria-tui scan --json`."""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from pathlib import Path

from env import ARIA_TUI
from server import Server
from timing import timed


def counting(path: Path, truth: int, repeats: int, server: Server, profile: str) -> dict:
    """`wc -l` vs aria_tui.csvio.count_records vs `aria-tui scan --json` on one file (warm cache)."""
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    result: dict = {"file": path.name, "bytes": path.stat().st_size, "records": truth}
    wc_times, wc_lines = [], 0
    count_times, counted = [], None
    scan_times, scanned = [], None
    try:
        from aria_tui.csvio import count_records
    except ImportError:
        count_records = None
    template = server.template(profile)
    db = server.fresh(template)
    for _ in range(max(repeats, 3)):
        p = timed(["wc", "-l", str(path)])
        wc_times.append(p.seconds)
        wc_lines = int(p.out.split()[0])
        if count_records is not None:
            start = time.perf_counter()
            n = count_records(path)
            count_times.append(time.perf_counter() - start)
            counted = int(getattr(n, "records", n))
        p = timed(
            [
                *ARIA_TUI,
                "scan",
                str(path.parent),
                "--dsn",
                server.uri(db),
                "--profile",
                profile,
                "--json",
            ]
        )
        try:
            scanned = json.loads(p.out)["tables"][0]["rows"]
            scan_times.append(p.seconds)
        except (json.JSONDecodeError, KeyError, IndexError, TypeError):
            pass
    result["wc"] = {
        "seconds": statistics.median(wc_times),
        "lines": wc_lines,
        "records_claimed": wc_lines - 1,
    }
    if count_times:
        result["count_records"] = {"seconds": statistics.median(count_times), "records": counted}
    if scan_times:
        result["scan"] = {"seconds": statistics.median(scan_times), "records": scanned}
    return result
