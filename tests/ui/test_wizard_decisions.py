"""The wizard's side of issue 15, driven by keyboard through Pilot against the real embedded
PostgreSQL: drift decided on the diff screen (with the DDL the core writes), a conflict policy on
the plan screen, the saved plan file replayed by the CLI to the same numbers, and a plan file
opened with `aria-tui EXPORT_DIR --plan FILE`."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from driftkit import CSV, DRIFT_DDL
from loadkit import query, sql, write
from wizardkit import make_app, settle, until

from aria_tui.ui.snapshot import screen_text

SIZE = (80, 24)  # what an SSH session has: every key must be reachable at this size
SETTINGS_DDL = (
    "CREATE TABLE app.settings (key text PRIMARY KEY, value text)",
    "INSERT INTO app.settings VALUES ('theme', 'dark')",  # the init script's default
)
SETTINGS_CSV = "key,value\ntheme,light\nlang,en\n"  # production customised it
NUMBERS = ("csv_rows", "inserted", "duplicates", "conflicts", "conflicts_kept", "updated", "rejected")


def drifted_target(db, folder: Path) -> Path:
    """The drift of tests/driftkit.py (an export column the table lacks, an integer column
    receiving 13-digit values, a column renamed by similarity) and a customised seed row."""
    sql(db, *DRIFT_DDL, *SETTINGS_DDL)
    write(folder, "app.events.csv", CSV)
    write(folder, "app.settings.csv", SETTINGS_CSV)
    return folder


async def open_diff(app, pilot, name: str):
    from aria_tui.ui.screens.diff import DiffScreen

    await settle(app, pilot)
    await pilot.press("n")
    await settle(app, pilot)
    grid = app.screen.grid
    grid.move_cursor(row=grid.get_row_index(name), animate=False)
    await pilot.press("d")
    await until(pilot, lambda: isinstance(app.screen, DiffScreen), "the diff screen")
    return app.screen


async def highlight(pilot, screen, column: str) -> None:
    """up/down to the difference of `column` (keys only: the list starts at the top)."""
    index = [d.column for d in screen.differences].index(column)
    await pilot.press("home", *["down"] * index)
    assert screen.highlighted.column == column


def numbers(table) -> tuple:
    get = table.get if isinstance(table, dict) else lambda k: getattr(table, k)
    return tuple(get(k) for k in NUMBERS)


async def test_drift_decided_by_keyboard_runs_its_ddl_and_the_saved_plan_replays(
    templates, tmp_path, cli
):
    """a / r / w on the diff screen, c on the plan screen, a real load in the wizard, w saves the
    plan; `aria-tui load --plan` on a twin target gives the same numbers per table, and the
    decisions are in the target (the added column holds the export's values)."""
    from aria_tui.ui.screens.plan import PlanScreen
    from aria_tui.ui.screens.run import RunScreen
    from aria_tui.ui.screens.validate import ValidateScreen

    wizard_db, cli_db = templates.fresh(None), templates.fresh(None)
    export = drifted_target(wizard_db, tmp_path / "export")
    drifted_target(cli_db, tmp_path / "unused")
    app = make_app(export, wizard_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_diff(app, pilot, "app.events")
        state = app.state
        # blocked (source holds data the table lacks), ticked by default: it would fail by name
        assert [t.name for t in state.ticked_unloadable()] == ["app.events"]
        kinds = {d.column: d.actions for d in screen.differences}
        assert kinds == {
            "duration_ms": ("add", "drop", "rename"),
            "source": ("add", "drop"),
            "ts_ms": ("widen",),
        }, kinds
        await highlight(pilot, screen, "source")
        assert screen.check_action("decide", ("widen",)) is None  # not this difference's
        await pilot.press("a")
        await highlight(pilot, screen, "duration_ms")
        await pilot.press("r")
        await highlight(pilot, screen, "ts_ms")
        await pilot.press("w")
        await pilot.pause()
        text = screen_text(app)
        # the DDL is the core's (decisions.decide), shown before anything runs
        assert state.applied["app.events"].ddl == (
            'ALTER TABLE "app"."events" ADD COLUMN "source" text',
            'ALTER TABLE "app"."events" ALTER COLUMN "ts_ms" TYPE bigint',
        )
        assert 'ADD COLUMN "source" text' in text and "TYPE bigint" in text, text
        assert "a/x/w/r/t/f/u Decide" in text and "s Skip table" in text, text  # footer at 80x24
        assert "app.events" in state.selected and not state.ticked_unloadable()  # loadable now
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan")
        plan = app.screen
        targets = [tp.target for tp in state.plan.tables]
        assert targets == ["app.events", "app.settings"], targets
        await pilot.press("home", *["down"] * targets.index("app.settings"), "c")  # keep-target
        await pilot.press("r")
        await settle(app, pilot)
        dry = state.dry_run
        assert dry is not None and dry.dry_run
        assert state.plan.tables[0].ddl == state.applied["app.events"].ddl
        await pilot.press("w")
        await pilot.pause()
        saved = Path(state.plan_file)
        await pilot.press("n")
        await until(pilot, lambda: app.screen is not plan, "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, RunScreen), "the run")
        await settle(app, pilot)
        run = state.run
        assert run is not None and run.ok, run
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ValidateScreen), "the validation")
        await settle(app, pilot)
        assert state.validation is not None and state.validation.ok  # judged by the decisions
    wizard = {t.target: numbers(t) for t in run.tables}
    assert wizard == {t.target: numbers(t) for t in dry.tables}  # the dry run said so
    assert wizard["app.events"] == (3, 3, 0, 0, 0, 0, 0)
    assert wizard["app.settings"] == (2, 1, 0, 1, 1, 0, 0)
    # the decisions were applied, not merely recorded: the added column holds the export's values
    assert query(wizard_db, "SELECT id, ts_ms, duration_s, source FROM app.events ORDER BY id") == [
        (1, 1733000000000, 120, "web"),
        (2, 1733000000001, 30, "cli"),
        (3, 1733000000002, 5, "web"),
    ]
    assert query(wizard_db, "SELECT value FROM app.settings WHERE key = 'theme'") == [("dark",)]

    cutover = tomllib.loads(saved.read_text(encoding="utf-8"))
    by = {t["target"]: t for t in cutover["table"]}
    assert by["app.settings"]["on_conflict"] == "keep-target"
    assert {(d["column"], d["action"], d.get("arg")) for d in by["app.events"]["decision"]} == {
        ("source", "add", None),
        ("duration_ms", "rename", "duration_s"),
        ("ts_ms", "widen", None),
    }
    code, out, err = cli("load", export, "--dsn", cli_db.conninfo, "--plan", saved, "--yes", "--json")
    assert code == 0, (out, err)
    replay = {t["target"]: numbers(t) for t in json.loads(out)["tables"]}
    assert replay == wizard
    assert query(cli_db, "SELECT id, ts_ms, duration_s, source FROM app.events ORDER BY id") == (
        query(wizard_db, "SELECT id, ts_ms, duration_s, source FROM app.events ORDER BY id")
    )


async def test_an_undecided_drift_stays_blocked_and_undo_takes_a_decision_back(empty_db, tmp_path):
    """Without a decision the drifted table is not loaded (no guess loads it), and u really
    takes the decision back: no DDL, blocked again, not in the plan."""
    from aria_tui.ui.state import why_blocked

    export = drifted_target(empty_db, tmp_path / "export")
    app = make_app(export, empty_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_diff(app, pilot, "app.events")
        state = app.state

        def events():
            return next(t for t in state.tables() if t.name == "app.events")

        await highlight(pilot, screen, "source")
        await pilot.press("x")  # drop: source is left behind, the table loads
        await highlight(pilot, screen, "duration_ms")
        await pilot.press("r")
        await pilot.pause()
        assert why_blocked(events()) is None and "app.events" in state.selected
        assert not state.applied["app.events"].ddl  # a drop and a rename change no schema
        await highlight(pilot, screen, "source")
        await pilot.press("u")
        await pilot.pause()
        assert state.choices.decision("app.events", "source") is None
        assert "holds data" in (why_blocked(events()) or "")  # blocked again
        assert [t.name for t in state.ticked_unloadable()] == ["app.events"]
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("n")
        await settle(app, pilot)
        # ticked but blocked: reported as not loadable, never loaded through the guess
        assert [tp.target for tp in state.plan.tables] == ["app.settings"]
        assert [s.scan.target for s in state.plan.skipped] == ["app.events"]
    assert query(
        empty_db,
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'app' "
        "AND table_name = 'events' AND column_name = 'source'",
    ) == [(0,)]


@pytest.mark.parametrize("fits", [True, False])
async def test_the_wizard_opens_a_plan_file(templates, tmp_path, cli, fits):
    """`aria-tui EXPORT_DIR --plan FILE`: the plan's tables, decisions and policies are the
    wizard's; a plan that no longer fits is refused with the CLI's sentence."""
    from textual.clock import MockClock

    from aria_tui.ui.app import create_app
    from aria_tui.ui.screens.dialogs import ErrorModal

    db = templates.fresh(None)
    export = drifted_target(db, tmp_path / "export")
    saved = tmp_path / "cutover.toml"
    code, out, err = cli(
        "plan", export, "--dsn", db.conninfo, "--out", saved,
        "--decide", "app.events.source=add", "--decide", "app.events.ts_ms=widen",
        "--decide", "app.events.duration_ms=rename:duration_s", "--on-conflict", "take-export",
    )  # fmt: skip
    assert code == 0, (out, err)
    if not fits:
        sql(db, "INSERT INTO app.events (id) VALUES (99)")
    app = create_app(export, db.conninfo, None, clock=MockClock(), plan_file=saved)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        state = app.state
        if not fits:
            await until(pilot, lambda: isinstance(app.screen, ErrorModal), "the refusal")
            await pilot.pause()
            said = " ".join(screen_text(app).split())
            assert "Cannot open the plan" in said, said
            assert app.screen.sentence.startswith(
                "The plan no longer fits: app.events holds 1 rows, the plan expected 0"
            ), app.screen.sentence
            assert not state.choices.decisions  # nothing of the refused plan was taken
            return
        await until(pilot, lambda: bool(state.choices.decisions), "the plan's choices")
        assert {d.spec() for d in state.choices.decisions} == {
            "app.events.source=add",
            "app.events.ts_ms=widen",
            "app.events.duration_ms=rename:duration_s",
        }
        assert state.selected == {"app.events", "app.settings"}
        await pilot.press("n")
        await settle(app, pilot)
        policies = {tp.target: tp.on_conflict for tp in state.plan.tables}
        assert policies == {"app.events": "take-export", "app.settings": "take-export"}
        assert len(state.plan.tables[0].ddl) == 2


async def test_a_conflicting_record_shows_export_and_target_side_by_side(empty_db, tmp_path):
    """After a dry run, v on the plan screen shows each conflicting record with the export's
    values beside the target's (the load's own values, not a reject file read back), and what
    the table's policy made of it."""
    from aria_tui.ui.screens.conflicts import ConflictModal
    from aria_tui.ui.screens.plan import PlanScreen

    export = drifted_target(empty_db, tmp_path / "export")
    app = make_app(export, empty_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan")
        plan = app.screen
        assert [tp.target for tp in app.state.plan.tables] == ["app.settings"]  # events: blocked
        assert plan.check_action("view_conflicts", ()) is None  # no dry run yet: nothing to show
        await pilot.press("r")
        await settle(app, pilot)
        result = app.state.dry_run.table("app.settings")
        assert (result.conflicts, result.conflicts_kept) == (1, 0)
        (record,) = result.conflict_records
        assert (record.line, record.source, record.action) == (2, "target", "rejected")
        assert record.values == (("key", "theme", "theme"), ("value", "light", "dark"))
        assert record.differing == ("value",)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, ConflictModal), "the side-by-side view")
        await pilot.pause()
        said = " ".join(screen_text(app).split())
        assert "Conflict 1/1 · app.settings" in said and "line 2" in said, said
        assert "value light dark" in said, said  # one row: column, export, target
        assert "rejected: goes to the reject file" in said, said
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is plan
        await pilot.press("c", "r")  # keep-target: the same record, kept on purpose
        await settle(app, pilot)
        (record,) = app.state.dry_run.table("app.settings").conflict_records
        assert record.action == "kept"
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, ConflictModal), "the view again")
        await pilot.pause()
        assert "kept: the target's row stays" in " ".join(screen_text(app).split())
    assert query(empty_db, "SELECT value FROM app.settings WHERE key = 'theme'") == [("dark",)]


async def test_decisions_are_reachable_from_the_palette_and_by_letters(empty_db, tmp_path):
    """ctrl+p finds a decision by its name, and j/k move through the differences (letters
    survive any SSH client)."""
    from textual.command import CommandPalette

    export = drifted_target(empty_db, tmp_path / "export")
    app = make_app(export, empty_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_diff(app, pilot, "app.events")
        await pilot.press("j")  # duration_ms -> source
        assert screen.highlighted.column == "source"
        await pilot.press("j", "k")
        assert screen.highlighted.column == "source"
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"add column")
        await until(pilot, lambda: "key: a" in screen_text(app), "the hit")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen, "the diff again")
        await pilot.pause()
        decision = app.state.choices.decision("app.events", "source")
        assert decision is not None and decision.action == "add"


async def test_t_picks_the_type_of_an_added_or_widened_column(empty_db, tmp_path):
    """t offers the core's default first, then standard types; the picked one is in the DDL, the
    decision and the load."""
    from aria_tui.ui.screens.dialogs import ChoiceModal

    export = drifted_target(empty_db, tmp_path / "export")
    app = make_app(export, empty_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_diff(app, pilot, "app.events")
        state = app.state
        await highlight(pilot, screen, "ts_ms")
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, ChoiceModal), "the types")
        assert app.screen.choices[0][0] == "bigint"  # the default: integer's next wider type
        numeric = [v for v, _ in app.screen.choices].index("numeric") + 1
        await pilot.press(str(numeric))
        await until(pilot, lambda: app.screen is screen, "the diff again")
        await highlight(pilot, screen, "source")
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, ChoiceModal), "the types")
        assert app.screen.choices[0][0] == "text"  # inferred from web/cli/web
        await pilot.press(str([v for v, _ in app.screen.choices].index("jsonb") + 1))
        await until(pilot, lambda: app.screen is screen, "the diff again")
        await highlight(pilot, screen, "duration_ms")
        await pilot.press("r")
        await pilot.pause()
        assert state.applied["app.events"].ddl == (
            'ALTER TABLE "app"."events" ALTER COLUMN "ts_ms" TYPE numeric',
            'ALTER TABLE "app"."events" ADD COLUMN "source" jsonb',
        )
        assert state.choices.decision("app.events", "ts_ms").spec() == "app.events.ts_ms=widen:numeric"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("r")  # jsonb refuses 'web': the dry run rejects every record, says why
        await settle(app, pilot)
        events = app.state.dry_run.table("app.events")
        assert (events.inserted, events.rejected) == (0, 3), events


async def test_a_target_column_the_export_lacks_is_filled_by_keyboard(templates, tmp_path):
    """f on a NOT NULL target column the file does not supply: the value typed is checked by the
    target (a value its type refuses is one sentence, nothing decided), then decided with the
    DDL the core writes, and the table is no longer blocked."""
    db = templates.fresh(None)
    sql(
        db,
        "CREATE SCHEMA app",
        "CREATE TABLE app.memory (id int PRIMARY KEY, note text, agent_id varchar(8) NOT NULL)",
    )
    export = write(tmp_path / "export", "app.memory.csv", "id,note\n1,first\n").parent
    app = make_app(export, db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_diff(app, pilot, "app.memory")
        state = app.state
        assert [(d.column, d.actions) for d in screen.differences] == [("agent_id", ("fill",))]
        assert [t.name for t in state.ticked_unloadable()] == ["app.memory"]
        await highlight(pilot, screen, "agent_id")
        await pilot.press("f")
        await pilot.pause()
        await pilot.press(*"far-too-long", "enter")
        await pilot.pause()
        status = str(screen.query_one("#status").render())
        assert "is not a value of app.memory.agent_id" in status, status
        assert state.choices.decision("app.memory", "agent_id") is None
        await pilot.press("f")
        await pilot.pause()
        await pilot.press(*"main", "enter")
        await pilot.pause()
        decision = state.choices.decision("app.memory", "agent_id")
        assert decision is not None and (decision.action, decision.arg) == ("fill", "main")
        assert state.applied["app.memory"].ddl == (
            """ALTER TABLE ONLY "app"."memory" ALTER COLUMN "agent_id" SET DEFAULT 'main'::character varying(8)""",
        )
        text = screen_text(app)
        assert "fill main" in text and "DROP DEFAULT" in text, text
        assert "app.memory" in state.selected and not state.ticked_unloadable()
