"""The cutover plan file (`cutover.toml`): every decision of a cutover, as code.

`aria-tui plan` writes it with the defaults filled in and a comment saying why for each; `load
--plan` and `validate --plan` follow it. It holds the tables in load order, each file's checksum
and the rows its table held when planned (a plan that no longer fits is refused with one
sentence), the column mapping, the renames, the added / dropped / widened columns with their DDL,
the conflict policy, the rejects accepted on purpose and the tables loaded with their user
triggers switched off. No password: the target is written as
its display form only. Written 0600.

Python reads TOML (`tomllib`); the few shapes written here (strings, integers, booleans, arrays
of strings, tables and arrays of tables) are written by `_Writer`, not a dependency.
"""

from __future__ import annotations

import json
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aria_tui import paths, spelling
from aria_tui.errors import AriaError
from aria_tui.load import decisions as dec
from aria_tui.load.differences import narrow_columns, refused_values
from aria_tui.status import CONFLICT_POLICIES as POLICIES
from aria_tui.status import REJECT

if TYPE_CHECKING:
    from aria_tui.load.model import LoadPlan, TablePlan
    from aria_tui.pg.connect import Target
    from aria_tui.scan.model import Inventory

VERSION = 1

_POLICY_WHY = {
    "reject": "a record whose key the target holds with other content goes to the reject file "
    "with both versions, and the load exits 1",
    "keep-target": "the target's row is kept on purpose; each kept record is listed",
    "take-export": "the target's row becomes the export's record; its old values go to an undo "
    "file",
}


def _q(value: str) -> str:
    # a JSON string is a TOML basic string, but for DEL (U+007F), which JSON leaves raw and TOML
    # refuses (a value the server's reason quotes may hold it)
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _comment_text(text: str) -> str:
    """Text for a TOML comment: control characters (which TOML refuses there) shown escaped."""
    return "".join(
        c if (c >= " " and c != "\x7f") or c == "\t" else json.dumps(c)[1:-1] for c in text
    )


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _q(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.lines.append(f"# {_comment_text(line)}".rstrip())

    def key(self, name: str, value: Any, why: str | None = None) -> None:
        tail = f"  # {_comment_text(' '.join(why.splitlines()))}" if why else ""
        self.lines.append(f"{name} = {_value(value)}{tail}")

    def blank(self) -> None:
        self.lines.append("")

    def header(self, name: str) -> None:
        self.lines.append(f"[[{name}]]")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


@dataclass(frozen=True)
class PlannedTable:
    target: str
    file: str
    sha256: str
    target_rows: int
    on_conflict: str
    accept_rejects: bool
    columns: tuple[tuple[str, str], ...]
    decisions: tuple[dec.Decision, ...]
    triggers_off: bool = False  # loaded with its user triggers switched off


@dataclass(frozen=True)
class CutoverPlan:
    export: str
    profile: str | None
    on_conflict: str
    tables: tuple[PlannedTable, ...]
    jobs: int | None = None  # tables side by side (plan --jobs, or the wizard's j)
    unloadable: tuple[str, ...] = ()  # files the plan's selection took that cannot be loaded

    @property
    def decisions(self) -> list[dec.Decision]:
        return [d for t in self.tables for d in t.decisions]

    def table(self, target: str) -> PlannedTable | None:
        return next((t for t in self.tables if t.target == target), None)

    @property
    def selection_names(self) -> list[str]:
        """What `load --plan` and `validate --plan` take: the planned tables and the files the
        plan's selection took that cannot be loaded (which fail, by name)."""
        return [t.target for t in self.tables] + list(self.unloadable)


def render(
    plan: LoadPlan,
    inventory: Inventory,
    decisions: list[dec.Decision],
    target_rows: dict[str, int],
    target_display: str,
    default_policy: str,
    jobs: int | None = None,
) -> str:
    """The plan file's text: every table of `plan` in load order with every decision."""
    from aria_tui.csvio.files import sha256_file

    w = _Writer()
    w.comment(
        "aria-tui cutover plan: every decision of this cutover, defaults filled in.\n"
        f"Written {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} by `aria-tui plan` for\n"
        f"the export {Path(plan.export).resolve()}\n"
        f"against {target_display} (no password is ever written here).\n"
        "Replay: aria-tui load EXPORT_DIR --plan THIS_FILE; aria-tui validate EXPORT_DIR --plan "
        "THIS_FILE.\n"
        "A plan that no longer fits (a file changed, a column gone, a table holding rows the plan\n"
        "did not expect) is refused."
    )
    w.blank()
    w.key("version", VERSION)
    w.key("export", str(Path(plan.export).resolve()))
    w.key("profile", inventory.profile or "none", "none: generic mode")
    w.key("on_conflict", default_policy, "the default policy: " + _POLICY_WHY[default_policy])
    if jobs is not None:
        w.key("jobs", jobs, "tables loaded side by side (0: auto); load --jobs overrides it")
    by_table: dict[str, list[dec.Decision]] = {}
    for d in decisions:
        by_table.setdefault(d.table, []).append(d)
    if plan.skipped:
        # selected but not loadable: `load --plan` and `validate --plan` take them too and fail
        # for each, by name, as the load the plan was written for would (never a quiet omission)
        w.key(
            "unloadable",
            [scan.file.name for scan, _ in plan.skipped],
            "selected files that cannot be loaded: the load and the proof fail for them",
        )
    for scan, reason in plan.skipped:
        w.blank()
        w.comment(f"not loaded: {scan.file.name}: {reason}")
    for tp in plan.tables:
        w.blank()
        w.header("table")
        parents = sorted(
            {fk.ref_table for fk in tp.table.foreign_keys if not fk.self_reference}
        )
        w.comment(
            f"{tp.order}. {tp.scan.file.name} -> {tp.target}: "
            + (
                f"about {tp.scan.rows} records (estimated from its head)"
                if tp.scan.rows_estimated
                else f"{tp.scan.rows} records"
            )
            + (f"; after its parents {', '.join(parents)}" if parents else "; no parent table")
        )
        w.key("target", tp.target)
        w.key("file", tp.scan.file.name)
        w.key("sha256", sha256_file(Path(tp.file)).hexdigest(), "the file as planned: a changed file refuses the plan")
        rows = target_rows.get(tp.target, 0)
        w.key(
            "target_rows",
            rows,
            "rows the table held when planned: other rows, not loaded by aria-tui, refuse the plan",
        )
        w.key("on_conflict", tp.on_conflict, _POLICY_WHY[tp.on_conflict])
        w.key(
            "accept_rejects",
            tp.accept_rejects,
            "rejected records are accepted on purpose" if tp.accept_rejects else "a rejected record fails the load",
        )
        refused = refused_values(tp.scan.diff)
        if refused:
            w.key(
                "refused",
                refused,
                "values the target's types refuse, in the sampled records: the load rejects "
                "these records, each with its line in the reject file"
                + (" (accepted: accept_rejects)" if tp.accept_rejects else ", and fails")
                + ", unless a column is widened (--decide ...=widen[:TYPE])",
            )
        _triggers(w, tp)
        w.comment("column mapping, CSV column -> target column (in file order):")
        renames = {r.source: r.why for r in tp.scan.diff.renames}
        w.lines.append("columns = [")
        for c, t in tp.columns:
            why = "same name" if c == t else f"renamed ({renames.get(c, 'decided')})"
            w.lines.append(f"  [{_q(c)}, {_q(t)}],  # {why}")
        w.lines.append("]")
        loaded = {c for c, _ in tp.columns}
        dropped = [c for c in tp.csv_columns if c not in loaded]
        extras = {e.name: e for e in tp.scan.diff.extra_columns}
        for c in dropped:
            e = extras.get(c)
            if c not in {d.column for d in by_table.get(tp.target, [])}:
                w.comment(
                    f"{c}: not loaded, "
                    + ("every value empty: dropping it loses nothing" if e and e.all_empty else "computed by the target or not in it")
                )
        for d in by_table.get(tp.target, []):
            w.header("table.decision")
            w.key("column", d.column)
            w.key("action", d.action)
            if d.arg:
                w.key("arg", d.arg)
            ddl = [s for s in tp.ddl if f'"{d.column}"' in s]
            if ddl:
                w.key("ddl", ddl[0])
            note = next((n for n in tp.decision_notes if d.column in n), None)
            w.comment(note or f"decided: {d.spec()}")
        for p in tp.scan.diff.proposals:
            w.comment(
                f"proposed, not accepted: {p.source} -> {p.target} ({p.why}); accept with "
                f"--decide {spelling.spell(tp.target, p.source)}=rename:{p.target}"
            )
        for target_col, typ, why in narrow_columns(tp.scan.diff, tp.table):
            w.comment(
                f"{target_col} ({typ}) is too narrow for sampled values ({why}): the records are "
                f"rejected unless --decide {spelling.spell(tp.target, target_col)}=widen"
            )
    return w.text()


def _triggers(w: _Writer, tp: TablePlan) -> None:
    """`triggers_off`, with the table's user triggers that fire on the load named: written when
    it has some (or the decision was made), so the operator sees the difference to decide."""
    fire = tp.table.load_triggers
    if not fire and not tp.triggers_off:
        return
    if fire:
        w.comment(
            "user triggers that fire on the load: "
            + ", ".join(t.describe() for t in fire)
            + (
                "; BEFORE INSERT/UPDATE ones may change the export's values on each row"
                if any(t.changes_rows for t in fire)
                else ""
            )
        )
    w.key(
        "triggers_off",
        tp.triggers_off,
        "switched off for the load, in its transaction, and on again as they were before it "
        "commits"
        if tp.triggers_off
        else "they run on every loaded row; true loads the export's values with them switched off",
    )


def _bool(value: Any, path: Path, target: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise AriaError(f"The plan {path} gives {target} {key} = {value!r}; it takes true or false.")
    return value


def write(path: Path, text: str) -> Path:
    paths.write_private(path, text)
    return path


def _decision(path: Path, target: str, d: dict) -> dec.Decision:
    """One [[table.decision]] entry: its table and column as written (a name may hold a dot)."""
    column, action, arg = str(d["column"]), str(d["action"]).strip().lower(), str(d.get("arg") or "")
    if action not in dec.ACTIONS:
        raise AriaError(f"The plan {path} gives {target}.{column} the unknown decision {action!r}.")
    return dec.checked(dec.Decision(target, column, action, arg or None).spec(), target, column, action, arg)


def read(path: Path) -> CutoverPlan:
    """Read a plan file; a file that is not one is refused with one sentence."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise AriaError(f"Cannot read the plan {path}: {exc.strerror or exc}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise AriaError(f"The plan {path} is not valid TOML: {exc}.") from None
    if data.get("version") != VERSION:
        raise AriaError(f"The plan {path} is not an aria-tui cutover plan of version {VERSION}.")
    default = data.get("on_conflict", REJECT)
    tables = []
    for raw in data.get("table", []):
        try:
            target = str(raw["target"])
            policy = str(raw.get("on_conflict", default))
            if policy not in POLICIES:
                raise AriaError(f"The plan {path} gives {target} the unknown policy {policy!r}.")
            decs = tuple(_decision(path, target, d) for d in raw.get("decision", []))
            tables.append(
                PlannedTable(
                    target=target,
                    file=str(raw["file"]),
                    sha256=str(raw["sha256"]),
                    target_rows=int(raw.get("target_rows", 0)),
                    on_conflict=policy,
                    accept_rejects=bool(raw.get("accept_rejects", False)),
                    columns=tuple((str(c), str(t)) for c, t in raw.get("columns", [])),
                    decisions=decs,
                    triggers_off=_bool(raw.get("triggers_off", False), path, target, "triggers_off"),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AriaError(f"The plan {path} has a table entry aria-tui cannot read ({exc}).") from None
    return CutoverPlan(
        export=str(data.get("export", "")),
        profile=data.get("profile"),
        on_conflict=default,
        tables=tuple(tables),
        jobs=int(data["jobs"]) if isinstance(data.get("jobs"), int) else None,
        unloadable=tuple(str(f) for f in data.get("unloadable", []) if isinstance(f, str)),
    )


def open_for(path: Path, folder: Path) -> CutoverPlan:
    """Read a plan file and refuse it, in one sentence, when it is for another export folder."""
    cp = read(path)
    if cp.export and Path(cp.export).resolve() != Path(folder).resolve():
        raise AriaError(f"The plan {path} is for the export {cp.export}, not {Path(folder).resolve()}.")
    return cp


def check_files(cp: CutoverPlan, folder: Path) -> None:
    """Refuse, in one sentence, a plan whose files changed since it was written: what it
    decided (rejects accepted, columns dropped) was decided about those bytes, not these.
    `validate --plan` asks this; a file gone from the folder is validated as missing."""
    from aria_tui.csvio.files import sha256_file

    for pt in cp.tables:
        path = Path(folder) / pt.file
        if path.is_file() and sha256_file(path).hexdigest() != pt.sha256:
            raise AriaError(
                f"The plan no longer fits: {pt.file} has changed since it was planned (another "
                "checksum), so its decisions do not apply to it."
            )


def check(cp: CutoverPlan, plan: LoadPlan, target: Target) -> None:
    """Refuse, in one sentence (AriaError), a plan file that no longer fits the export or the
    target: the CLI's `load --plan` and the wizard's `--plan` both ask this."""
    from aria_tui.pg import commits
    from aria_tui.pg.catalog import exact_row_count

    with target.connect() as conn:
        rows = {tp.target: exact_row_count(conn, tp.table) for tp in plan.tables}
        committed = {c.target_table for c in commits.read(conn)}
        conn.rollback()
    why = refusal(cp, plan, rows, committed)
    if why:
        raise AriaError(why)


def refusal(
    cp: CutoverPlan, plan: LoadPlan, rows_now: dict[str, int], committed: set[str]
) -> str | None:
    """One sentence naming what no longer fits the plan, or None."""
    from aria_tui.csvio.files import sha256_file

    by_target = {tp.target: tp for tp in plan.tables}
    for pt in cp.tables:
        tp: TablePlan | None = by_target.get(pt.target)
        if tp is None:
            skipped = next((r for s, r in plan.skipped if s.target == pt.target), None)
            why = f": {skipped.rstrip('.')}" if skipped else ""
            return f"The plan no longer fits: {pt.target} ({pt.file}) cannot be loaded now{why}."
        if tp.scan.file.name != pt.file:
            return f"The plan no longer fits: {pt.target} now loads from {tp.scan.file.name}, not {pt.file}."
        if sha256_file(Path(tp.file)).hexdigest() != pt.sha256:
            return f"The plan no longer fits: {pt.file} has changed since it was planned (another checksum)."
        if tuple(tp.columns) != pt.columns:
            gone = [c for c, t in pt.columns if (c, t) not in tp.columns]
            what = f"{', '.join(f'{c}->{t}' for c, t in pt.columns if c in gone)}" if gone else "its order"
            return f"The plan no longer fits: the column mapping of {pt.target} differs ({what})."
        now = rows_now.get(pt.target)
        if now is not None and now != pt.target_rows and pt.target not in committed:
            return (
                f"The plan no longer fits: {pt.target} holds {now} rows, the plan expected "
                f"{pt.target_rows} and no aria-tui load committed it since."
            )
    return None
