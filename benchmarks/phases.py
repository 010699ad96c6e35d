"""Where one `aria-tui load` spends its time, phase by phase, through the Python API.

    python benchmarks/phases.py EXPORT_DIR DSN PROFILE TABLES [--force-staging]

Does what `aria-tui load EXPORT_DIR --dsn DSN --profile PROFILE --tables TABLES --yes` does
(aria_tui/cli/load_cmd.py, through aria_tui.session.Session: open, scan, plan, load) and prints one JSON
object with the seconds of each phase, including the imports. run.py runs it once per case as
the in-process counterpart of the timed subprocess runs.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from aria_tui.selection import Selection  # noqa: E402
from aria_tui.session import Session  # noqa: E402


def main(argv: list[str]) -> int:
    folder, dsn, profile_name, tables = Path(argv[0]), argv[1], argv[2], argv[3].split(",")
    force_staging = "--force-staging" in argv[4:]
    t = {"imports": time.perf_counter() - T0}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        t[name] = now - mark
        mark = now

    session = Session(folder, dsn, profile_name)
    session.target  # noqa: B018 - resolve (start) the target inside the connect phase
    lap("connect")
    selection = Selection.of(tables)
    inventory = session.scan(for_load=selection)  # what `aria-tui load` scans before it plans
    lap("scan")
    plan = session.plan(selection, inventory)
    lap("plan")
    result = session.load(plan, force_staging=force_staging)
    lap("load")
    if not result.ok:
        print(json.dumps(result.to_json()), file=sys.stderr)
        return 1
    t["paths"] = sorted({r.path for r in result.tables if r.path})
    t["in_process"] = t["connect"] + t["scan"] + t["plan"] + t["load"]
    print(json.dumps(t))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
