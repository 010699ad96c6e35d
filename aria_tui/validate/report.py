"""The cutover report: Markdown an operator pastes into the migration ticket, and the same facts
as JSON. Files are written mode 0600 under the user data dir, named with a timestamp, and every
byte goes through `Target.redact` first so a password can never reach them."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

from aria_tui.errors import AriaError
from aria_tui.paths import data_dir, private_dir, write_private
from aria_tui.pg.connect import Target
from aria_tui.validate.model import (
    CHECK_NAMES,
    CHECKSUM_METHOD,
    STATUS,
    TableValidation,
    Validation,
)

YES, NO, NA = "✅", "❌", "—"

_TITLES = {
    "reconciliation": "Counts",
    "presence": "Keys present",
    "content": "Checksum",
    "foreign_keys": "Foreign keys",
    "vectors": "Vectors",
    "sequences": "Sequences",
}

STATUS_TEXT = {
    "passed": "passed",
    "failed": "FAILED",
    "incomplete": "INCOMPLETE (records not loaded)",
    "no_target": "no target table",
    "blocked": "blocked",
    "skipped": "skipped by the load",
    "error": "could not be checked",
}


def reports_dir(report_dir: Path | None) -> Path:
    return private_dir(Path(report_dir) if report_dir else data_dir() / "reports")


def check_dir(report_dir: Path | None) -> Path:
    """The report folder, made if needed; one sentence (AriaError, exit 2) when it cannot hold the
    report: validation checks this before any work, so a run is never lost to it."""
    path = Path(report_dir) if report_dir else data_dir() / "reports"
    if path.exists() and not path.is_dir():
        raise AriaError(f"The report folder {path} is a file, not a folder: name a folder with --report-dir.")
    try:
        reports_dir(report_dir)
    except OSError as exc:
        raise AriaError(
            f"Cannot create the report folder {path}: {exc.strerror or exc}."
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise AriaError(f"Cannot write the report into {path}: permission denied.")
    return path


def write(validation: Validation, target: Target, report_dir: Path | None) -> Validation:
    """Write `validate-<UTC timestamp>.md` and `.json`; returns the Validation with their paths."""
    folder = reports_dir(report_dir)
    stamp = (validation.started_at or "now").replace(":", "").replace("-", "")
    base = folder / f"validate-{stamp}"
    md_path, json_path = base.with_suffix(".md"), base.with_suffix(".json")
    n = 1
    while md_path.exists() or json_path.exists():  # two runs in one second keep both reports
        n += 1
        md_path = folder / f"validate-{stamp}-{n}.md"
        json_path = md_path.with_suffix(".json")
    done = replace(validation, report_path=md_path, json_path=json_path)
    write_private(md_path, target.redact(markdown(done)))
    write_private(
        json_path,
        target.redact(json.dumps(done.to_json(), indent=2, ensure_ascii=False)) + "\n",
    )
    return done


def _cell(text: str) -> str:
    # a detail inside a table cell: no pipes, no newlines
    return text.replace("|", "\\|").replace("\n", " ")


def verdict(v: Validation) -> str:
    return f"{YES} PASS" if v.ok else f"{NO} FAIL"


def markdown(v: Validation) -> str:
    lines: list[str] = []
    add = lines.append
    add("# Cutover validation report")
    add("")
    add(f"- **Verdict:** {verdict(v)}: {v.headline}")
    add(f"- **Export:** `{v.export}`")
    add(f"- **Target:** `{v.target_display}`")
    add(f"- **Profile:** {v.profile or 'none (generic)'}")
    add(f"- **Run:** {v.started_at}, {v.seconds:.1f} s")
    add("")
    add("## Summary")
    add("")
    add("| Metric | Value |")
    add("|--------|-------|")
    add(f"| Tables validated | {len(v.tables)} |")
    add(f"| Passed | {v.passed} |")
    add(f"| Failed | {v.failed} |")
    add(f"| Not selected | {len(v.not_selected)} |")
    add(f"| Rows in export (validated tables) | {sum(t.csv_rows for t in v.tables):,} |")
    add(f"| Rows in target (validated tables) | {sum(t.target_rows for t in v.tables):,} |")
    add(f"| Records not loadable (rejected) | {sum(t.rejected for t in v.tables):,} |")
    add(f"| Records of the export not in the target | {v.not_in_target:,} |")
    add(f"| Records that differ from the target | {sum(t.differing for t in v.tables):,} |")
    add(f"| Records decided away by the operator | {v.decided_away:,} |")
    add(f"| Verdict | **{verdict(v)}** |")
    add("")
    add("## Tables")
    add("")
    head = ["Table", "File", "CSV rows", "Target rows"] + [_TITLES[c] for c in CHECK_NAMES] + ["Result"]
    add("| " + " | ".join(head) + " |")
    add("|" + "|".join("---" if i < 2 else "---:" if i < 4 else ":---:" for i in range(len(head))) + "|")
    for t in v.tables:
        marks = [_mark(t, name) for name in CHECK_NAMES]
        result = f"{YES} passed" if t.ok else f"{NO} {STATUS_TEXT.get(t.status, t.status)}"
        add(
            f"| `{t.target}` | {t.file} | {t.csv_rows:,} | {t.target_rows:,} | "
            + " | ".join(marks)
            + f" | {result} |"
        )
    add("")
    add(f"{YES} passed, {NO} failed, {NA} does not apply (no foreign keys, vector columns or sequences).")
    add("")
    add("## What failed and why")
    add("")
    failed = [t for t in v.tables if not t.ok]
    if not failed:
        add("Nothing failed: every selected table is in the target, complete and identical to the export.")
    for t in failed:
        add(f"### `{t.target}` ({t.file}): {STATUS_TEXT.get(t.status, t.status)}")
        add("")
        if t.not_in_target:
            add(f"- **Not in the target**: {t.not_in_target:,} of the file's {t.csv_rows:,} records")
        if t.reject_file:
            add(f"- **Reject file of the load**: `{t.reject_file}`")
        for c in t.failures:
            add(f"- **{_TITLES.get(c.name, c.name)}**: {c.detail}")
        add("")
    add("")
    decided = [t for t in v.tables if t.decisions]
    if decided:
        add("## Decided by the operator")
        add("")
        add(
            "These tables were judged under decisions the operator made explicitly (a plan file, "
            "`--decide`, `--on-conflict`, `--accept-rejects`): what they left out is listed, not "
            "counted as missing."
        )
        add("")
        for t in decided:
            where = f"; reject file `{t.reject_file}`" if t.accepted_rejects and t.reject_file else ""
            add(f"- `{t.target}` ({t.file}): {'; '.join(t.decisions)}{where}")
        add("")
    add("## Certificate")
    add("")
    add(
        "What was compared, so that it can be checked again: each file by its sha256, its size "
        "and its records, the checksum of its loadable records, and the target table's rows and "
        "checksum now. Checksums: " + CHECKSUM_METHOD + "."
    )
    add("")
    add("| Table | File | sha256 | Bytes | Records | Export checksum | Target rows | Target checksum | Exact |")
    add("|---|---|---|---:|---:|---|---:|---|:---:|")
    for t in v.tables:
        add(
            f"| `{t.target}` | {t.file} | `{t.file_sha256 or NA}` | "
            f"{'' if t.file_bytes is None else f'{t.file_bytes:,}'} | {t.csv_rows:,} | "
            f"`{t.export_checksum or NA}` | {t.target_rows:,} | `{t.target_checksum or NA}` | "
            f"{YES if t.exact else NA} |"
        )
    add("")
    add("## Check details")
    add("")
    for t in v.tables:
        add(f"### `{t.target}`")
        add("")
        for c in t.checks:
            add(f"- {YES if c.ok else NO} **{_TITLES.get(c.name, c.name)}**: {c.detail}")
        add("")
    if v.not_selected:
        add("## Not selected")
        add("")
        add("These files were not validated (not selected for the cutover): " + ", ".join(v.not_selected) + ".")
        add("")
    if v.notes:
        add("## Notes")
        add("")
        for note in v.notes:
            add(f"- {note}")
        add("")
    return "\n".join(lines).rstrip() + "\n"


def _mark(t: TableValidation, name: str) -> str:
    check = t.check(name)
    if check is None:
        # a table that could not be checked at all fails every column, not "does not apply"
        return NO if t.check(STATUS) is not None else NA
    return YES if check.ok else NO
