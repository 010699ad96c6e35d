"""The drifted export shared by the CLI's drift tests (db/test_drift.py, db/test_plan_file.py) and
the wizard's (ui/test_wizard_decisions.py): a table the export outgrew, the decisions that load it,
and its entry in a `--json` answer."""

from __future__ import annotations

import json

DRIFT_DDL = (
    "CREATE SCHEMA app",
    "CREATE TABLE app.events (id int PRIMARY KEY, ts_ms integer, duration_s integer, note text)",
)
CSV = (
    "id,ts_ms,duration_ms,note,source\n"
    "1,1733000000000,120,first,web\n"
    "2,1733000000001,30,second,cli\n"
    "3,1733000000002,5,third,web\n"
)
DECIDE = (
    "--decide", "app.events.source=add",
    "--decide", "app.events.ts_ms=widen",
    "--decide", "app.events.duration_ms=rename:duration_s",
)  # fmt: skip


def events_table(out: str) -> dict:
    """app.events' entry in the `tables` of a command's --json output."""
    return next(t for t in json.loads(out)["tables"] if t["target"] == "app.events")
