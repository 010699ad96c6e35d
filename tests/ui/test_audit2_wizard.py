"""Audit 2 of the wizard: driven by keyboard through Pilot at 80×24 against the real embedded
PostgreSQL, each test set against what `aria-tui load` / `aria-tui validate` say for the same
export and target. Small hand-made exports only: each test runs in a few seconds."""

from __future__ import annotations

import json
from pathlib import Path

from loadkit import query, sql, write
from wizardkit import make_app, settle, until

from aria_tui.ui.snapshot import screen_text

SIZE = (80, 24)

# a real init script's seed row and production's customised value of it: a conflict
SETTINGS_DDL = (
    "CREATE SCHEMA app",
    "CREATE TABLE app.settings (key text PRIMARY KEY, value text)",
    "INSERT INTO app.settings VALUES ('theme', 'dark')",
)
SETTINGS_CSV = "key,value\ntheme,light\nlang,en\n"
NOTES_DDL = ("CREATE TABLE app.notes (id int PRIMARY KEY, body text)",)
NOTES_CSV = "id,body\n1,one\n2,two\n3,three\n"


def bad_id_export(db, folder: Path) -> Path:
    """app.notes, empty, and its export with one record (line 3) whose id is no integer."""
    sql(db, "CREATE SCHEMA app", *NOTES_DDL)
    return write(folder, "app.notes.csv", "id,body\n1,one\nx,bad id\n3,three\n").parent


def conflicted_export(db, folder: Path) -> Path:
    sql(db, *SETTINGS_DDL, *NOTES_DDL)
    write(folder, "app.settings.csv", SETTINGS_CSV)
    write(folder, "app.notes.csv", NOTES_CSV)
    return folder


async def to_inventory(app, pilot) -> None:
    from aria_tui.ui.screens.inventory import InventoryScreen

    await settle(app, pilot)
    await pilot.press("n")
    await until(pilot, lambda: isinstance(app.screen, InventoryScreen), "the inventory")
    await settle(app, pilot)


async def highlight_file(app, name: str) -> None:
    grid = app.screen.grid
    grid.move_cursor(row=grid.get_row_index(name), animate=False)


async def plan_and_run(app, pilot) -> None:
    """inventory → n (plan) → n → y (load) → the load finished."""
    from aria_tui.ui.screens.dialogs import ConfirmModal
    from aria_tui.ui.screens.plan import PlanScreen
    from aria_tui.ui.screens.run import RunScreen

    await pilot.press("n")
    await until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan")
    await pilot.press("n")
    await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the confirmation")
    await pilot.press("y")
    await until(pilot, lambda: isinstance(app.screen, RunScreen), "the run")
    await settle(app, pilot)
    await until(pilot, lambda: app.screen.finished_at is not None, "the load's end")


async def to_validation(app, pilot) -> None:
    from aria_tui.ui.screens.validate import ValidateScreen

    await pilot.press("n")
    await until(pilot, lambda: isinstance(app.screen, ValidateScreen), "the validation")
    await settle(app, pilot)
    await until(pilot, lambda: app.state.validation is not None, "the verdict")
    await pilot.pause()


# -- the run screen's per-table verdict ---------------------------------------------------------


async def test_run_screen_does_not_tick_a_table_whose_conflict_was_rejected(
    empty_db, tmp_path, cli
):
    # The operator would see ✓ and "1 new · 0 dup · 0 rej" for a table whose seed-row conflict
    # went to the reject file (`aria-tui load` exits 1 for it): the conflict is nowhere on screen.
    export = conflicted_export(empty_db, tmp_path / "export")
    app = make_app(export, empty_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await to_inventory(app, pilot)
        await plan_and_run(app, pilot)
        result = app.state.run.table("app.settings")
        assert (result.inserted, result.conflicts, result.conflicts_kept) == (1, 1, 0)
        assert not result.ok
        meter = app.screen.meters["app.settings"]
        text = screen_text(app)
        settings_line = next(
            line for line in text.splitlines() if "app.settings" in line and "new" in line
        )
        assert meter.state != "done", settings_line  # not ✓: the CLI's load fails for it
        assert "1 conf" in settings_line, settings_line


# -- a validation of an earlier selection ---------------------------------------------------------


async def test_a_new_load_after_a_green_validation_does_not_exit_0(empty_db, tmp_path):
    # Validated green with settings.csv left out, then back, tick it, load (its conflict is
    # rejected) and quit from the run screen: the wizard told the shell 0 (proven) although the
    # load it just ran fails, and `aria-tui validate` on the same selection exits 1.
    from aria_tui.ui.screens.inventory import InventoryScreen

    export = conflicted_export(empty_db, tmp_path / "export")
    app = make_app(export, empty_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await to_inventory(app, pilot)
        state = app.state
        assert state.selected == {"app.settings", "app.notes"}
        await highlight_file(app, "app.settings")
        await pilot.press("space")
        assert state.selected == {"app.notes"}
        await plan_and_run(app, pilot)
        await to_validation(app, pilot)
        assert state.validation.ok
        await pilot.press("escape", "escape", "escape")
        await until(pilot, lambda: isinstance(app.screen, InventoryScreen), "the inventory again")
        await highlight_file(app, "app.settings")
        await pilot.press("space")
        assert state.selected == {"app.settings", "app.notes"}
        await plan_and_run(app, pilot)
        assert not state.run.ok  # the conflict went to the reject file
        await pilot.press("q")
    assert app.return_value == 1


# -- the target goes away in the middle of the load ---------------------------------------------


def _kill_load_on(app, db, index: int) -> list:
    """A hook in the event relay: when the real load's table `index` starts, every other backend
    of the database is terminated (the target restarted, a DBA killed the session)."""
    from aria_tui.load.events import TableStarted

    relay_factory = app.event_relay
    seen: list = []

    def killing_relay(dry_run: bool):
        relay = relay_factory(dry_run)

        def hook(event) -> None:
            relay(event)
            if (
                not dry_run
                and isinstance(event, TableStarted)
                and event.index == index
                and not seen
            ):
                seen.append(event.target)
                query(
                    db,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )

        return hook

    app.event_relay = killing_relay  # type: ignore[method-assign]
    return seen


async def test_a_load_that_loses_the_target_midway_is_said_and_validated_red(empty_db, tmp_path):
    # Guard (passes today): the target's connection dies while the second table loads: the
    # operator reads one sentence naming what happened, n still validates (red, the second
    # table's records counted), and quitting does not tell the shell 0.
    export = conflicted_export(empty_db, tmp_path / "export")
    (export / "app.settings.csv").write_text("key,value\nlang,en\n", encoding="utf-8")
    app = make_app(export, empty_db.conninfo)
    app.state.jobs = 1
    killed = _kill_load_on(app, empty_db, 2)
    async with app.run_test(size=SIZE) as pilot:
        await to_inventory(app, pilot)
        await plan_and_run(app, pilot)
        await pilot.pause()
        assert killed
        said = " ".join(screen_text(app).split())
        assert "Traceback" not in said
        assert f"{killed[0]}: failed: Lost the connection to the target" in said, said
        assert "a re-run resumes" in said, said
        await to_validation(app, pilot)
        validation = app.state.validation
        assert not validation.ok and validation.not_in_target >= 1, validation.headline
        await pilot.press("q")
    assert app.return_value == 1


# -- cancel in the middle of a table loaded in chunks ---------------------------------------------


CHUNKED_ROWS = 30_000


def chunked_export(db, tmp_path: Path, monkeypatch) -> Path:
    """app.notes.csv, 30,000 records that load in chunks of 4,000 bytes over two connections."""
    monkeypatch.setenv("ARIA_TUI_CHUNK_BYTES", "4000")
    sql(db, "CREATE SCHEMA app", *NOTES_DDL)
    body = "".join(
        f"{i},note number {i} with some words to make it longer\n"
        for i in range(1, CHUNKED_ROWS + 1)
    )
    return write(tmp_path / "export", "app.notes.csv", "id,body\n" + body).parent


async def cancel_after_a_chunk(app, pilot, db) -> None:
    """Plan, load, and cancel by keyboard (ctrl+c, y) once a chunk has committed: the next chunks
    wait for their commit records (aria_tui.commits is locked) until the cancel is given."""
    import threading

    import psycopg

    from aria_tui.load.events import TableProgress
    from aria_tui.ui.screens.dialogs import ConfirmModal
    from aria_tui.ui.screens.run import RunScreen

    held = threading.Event()
    blocker = psycopg.connect(db.conninfo)
    relay_factory = app.event_relay

    def holding_relay(dry_run: bool):
        relay = relay_factory(dry_run)

        def hook(event) -> None:
            relay(event)
            if (
                not dry_run
                and isinstance(event, TableProgress)
                and event.chunks_done >= 1
                and not held.is_set()
            ):
                blocker.execute("LOCK TABLE aria_tui.commits IN EXCLUSIVE MODE")
                held.set()

        return hook

    app.event_relay = holding_relay  # type: ignore[method-assign]
    try:
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the confirmation")
        await pilot.press("y")
        await until(pilot, held.is_set, "a chunk committed")
        await until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        meter = app.screen.meters["app.notes"]
        await until(
            pilot, lambda: "chunks" in str(meter.query_one(".tp-stats").render()), "chunks shown"
        )
        await pilot.press("ctrl+c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the cancel question")
        question = app.screen.question
        await pilot.press("y")
        await pilot.pause()
    finally:
        app.event_relay = relay_factory  # type: ignore[method-assign]
        blocker.commit()
        blocker.close()
    await settle(app, pilot)
    await until(
        pilot, lambda: not app.state.running and app.screen.finished_at is not None, "the rollback"
    )
    await pilot.pause()
    app.cancel_question = question  # type: ignore[attr-defined]


async def test_cancel_of_a_chunked_table_does_not_say_nothing_was_written(
    empty_db, tmp_path, monkeypatch
):
    # A file loaded in chunks commits chunk by chunk: after a cancel, the committed chunks' rows
    # are in the target. The run screen said "rolled back, nothing written": an operator who
    # believes it and loads that table some other way duplicates those rows.
    export = chunked_export(empty_db, tmp_path, monkeypatch)
    app = make_app(export, empty_db.conninfo)
    app.state.jobs = 2
    async with app.run_test(size=SIZE) as pilot:
        await to_inventory(app, pilot)
        await cancel_after_a_chunk(app, pilot, empty_db)
        written = query(empty_db, "SELECT count(*) FROM app.notes")[0][0]
        result = app.state.run.table("app.notes")
        text = screen_text(app)
        assert 0 < written < CHUNKED_ROWS, written  # some chunks stayed committed
        assert result.chunks >= 1 and result.status == "skipped"
        assert "nothing of it is written" not in app.cancel_question, app.cancel_question
        assert "nothing written" not in text and "nothing of it was written" not in text, text
        assert "app.notes keeps the chunks committed" in " ".join(text.split()), text


async def test_after_a_chunked_cancel_the_proof_is_red_and_a_rerun_finishes_once(
    empty_db, tmp_path, monkeypatch
):
    # Guard (passes today): after the cancel, n validates what is there (red, the records the
    # target lacks counted); esc back to the plan made when the table was empty, n, y: the
    # re-run loads only the rest (no record twice) and the proof goes green.
    from aria_tui.ui.screens.plan import PlanScreen

    export = chunked_export(empty_db, tmp_path, monkeypatch)
    app = make_app(export, empty_db.conninfo)
    app.state.jobs = 2
    async with app.run_test(size=SIZE) as pilot:
        await to_inventory(app, pilot)
        await cancel_after_a_chunk(app, pilot, empty_db)
        written = query(empty_db, "SELECT count(*) FROM app.notes")[0][0]
        await to_validation(app, pilot)
        validation = app.state.validation
        assert not validation.ok
        assert validation.not_in_target == CHUNKED_ROWS - written, validation.headline
        assert "Not proven" in screen_text(app)
        await pilot.press("escape", "escape")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan again")
        await plan_and_run_from_plan(app, pilot)
        assert app.state.run.ok, [t.error for t in app.state.run.tables]
        assert query(empty_db, "SELECT count(*), count(DISTINCT id) FROM app.notes") == [
            (CHUNKED_ROWS, CHUNKED_ROWS)
        ]
        await to_validation(app, pilot)
        assert app.state.validation.ok, app.state.validation.headline
        await pilot.press("q")
    assert app.return_value == 0


async def plan_and_run_from_plan(app, pilot) -> None:
    from aria_tui.ui.screens.dialogs import ConfirmModal
    from aria_tui.ui.screens.run import RunScreen

    await pilot.press("n")
    await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the confirmation")
    await pilot.press("y")
    await until(pilot, lambda: isinstance(app.screen, RunScreen), "the run")
    await settle(app, pilot)
    await until(pilot, lambda: app.screen.finished_at is not None, "the load's end")


# -- a priority group unticked and ticked again ----------------------------------------------------


async def test_a_priority_key_twice_does_not_leave_the_missing_files_out(aria_db, tmp_path, cli):
    # The status line says "the same key again reverses it", but h, h (and m, m) left every
    # HIGH (MEDIUM) file the folder lacks out "on purpose": the run and the proof no longer fail
    # for them, and the wizard says "Cutover proven" while `aria-tui validate` on the same folder
    # exits 1 (seed 004's silent partial dump).
    import shutil

    from loadkit import SAMPLE_EXPORT

    export = tmp_path / "export"
    export.mkdir()
    for name in ("memories.csv", "agent_sessions.csv"):  # one HIGH file, one MEDIUM
        shutil.copy(SAMPLE_EXPORT / name, export / name)
    app = make_app(export, aria_db.conninfo, "aria_v4")
    async with app.run_test(size=SIZE) as pilot:
        await to_inventory(app, pilot)
        state = app.state
        before = set(state.selected)
        missing = {t.name for t in state.tables() if t.missing}
        assert missing and missing <= before
        await pilot.press("h")
        assert "the same key again reverses it" in screen_text(app)
        await pilot.press("h")
        await pilot.press("m", "m")  # the same for MEDIUM
        assert state.selected == before, sorted(before - state.selected)
        await plan_and_run(app, pilot)
        await to_validation(app, pilot)
        wizard_ok = state.validation.ok
    code, out, err = cli("validate", export, "--dsn", aria_db.conninfo, "--json")
    assert code == 1, (out, err)
    assert not wizard_ok  # the wizard must not be greener than the CLI for the same folder


async def test_the_run_log_is_not_hidden_under_its_scrollbar_at_80x24(empty_db, tmp_path):
    # The log wraps its lines to the width it has before its scrollbar appears: once it does,
    # the last two columns of every earlier line are under it. At 80×24 the reject file's path
    # read "…/ap" + "settings.csv": the operator cannot copy where the rejected records are.
    from textual.widgets import RichLog

    export = conflicted_export(empty_db, tmp_path / "export")
    for name in ("a", "b", "c", "d"):  # more log lines than the log shows
        sql(empty_db, f"CREATE TABLE app.{name} (id int PRIMARY KEY)")
        write(export, f"app.{name}.csv", "id\n1\n")
    app = make_app(export, empty_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await to_inventory(app, pilot)
        await plan_and_run(app, pilot)
        await pilot.pause()
        log = app.screen.query_one(RichLog)
        assert log.max_scroll_y > 0  # more lines than it shows: the scrollbar is there
        width = log.scrollable_content_region.width
        hidden = [line.text for line in log.lines if len(line.text.rstrip()) > width]
        assert not hidden, (width, hidden)


# -- the validation's notes at 80 columns -------------------------------------------------------


async def test_a_validation_note_can_be_read_whole_at_80_columns(aria_db, tmp_path):
    # A note under the tables (here: the file loaded despite its manifest, what it was validated
    # against) is one tree line cut at the screen's edge, and highlighting it showed nothing:
    # the operator could not read why the proof is green for a file that differs from its manifest.
    from test_wizard import _export_with_changed_thoughts

    from aria_tui.ui.screens.dialogs import ConfirmModal

    export = _export_with_changed_thoughts(tmp_path)
    app = make_app(export, aria_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await to_inventory(app, pilot)
        await highlight_file(app, "thoughts")
        await pilot.press("space", "o")  # left out, then ticked with the override
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the override question")
        await pilot.press("y")
        await until(pilot, lambda: app.state.overrides == {"thoughts"}, "the override")
        await plan_and_run(app, pilot)
        await to_validation(app, pilot)
        (note,) = app.state.validation.notes
        assert len(note) > 80
        await pilot.press("end")  # the last line of the tree: the note
        await pilot.pause()
        said = " ".join(screen_text(app).split())
        assert " ".join(note.split()) in said, (note, said)


# -- take-export on the plan screen ---------------------------------------------------------------


async def test_the_dry_run_shows_the_records_take_export_updates(empty_db, tmp_path):
    # take-export replaces the seed row: the dry run's numbers on screen were "4 insert · 0 dup ·
    # 0 conf · 0 rej" for 5 records, in green: one record seemed to vanish, and the operator
    # could not see that a target row will be overwritten (load --json says updated: 1).
    from aria_tui.ui.screens.plan import PlanScreen

    export = conflicted_export(empty_db, tmp_path / "export")
    app = make_app(export, empty_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await to_inventory(app, pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan")
        targets = [tp.target for tp in app.state.plan.tables]
        await pilot.press("home", *["down"] * targets.index("app.settings"), "c", "c", "r")
        await settle(app, pilot)
        dry = app.state.dry_run.table("app.settings")
        assert (dry.inserted, dry.updated, dry.on_conflict) == (1, 1, "take-export")
        summary = " ".join(str(app.screen.query_one("#plan-summary").render()).split())
        assert "1 upd" in summary, summary
        row = next(
            line
            for line in screen_text(app).splitlines()
            if "app.settings" in line and "→" not in line
        )
        assert "1 upd" in row or "+1" in row, row  # the table's own row accounts for both records


# -- after the load, back on the plan ---------------------------------------------------------------


async def test_the_plan_does_not_predict_a_rerun_with_the_first_runs_dry_run(empty_db, tmp_path):
    # Dry run, load, esc back to the plan: it still said "dry run: 3 insert … these are the
    # numbers a real run produces" although a re-run now inserts nothing (it resumes): the
    # operator reads a second insert of every record into the target.
    from aria_tui.ui.screens.plan import PlanScreen

    sql(empty_db, "CREATE SCHEMA app", *NOTES_DDL)
    export = write(tmp_path / "export", "app.notes.csv", NOTES_CSV).parent
    app = make_app(export, empty_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await to_inventory(app, pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan")
        await pilot.press("r")
        await settle(app, pilot)
        assert app.state.dry_run.table("app.notes").inserted == 3
        await plan_and_run_from_plan(app, pilot)
        assert app.state.run.table("app.notes").inserted == 3
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan again")
        await pilot.pause()
        said = " ".join(screen_text(app).split())
        assert "dry run: 3 insert" not in said, said
        assert "these are the numbers a real run produces" not in said, said
        await pilot.press("r")  # a new dry run says what a re-run does: nothing new
        await settle(app, pilot)
        assert app.state.dry_run.table("app.notes").inserted == 0


async def test_a_rejected_conflict_is_decided_by_keyboard_after_the_load(empty_db, tmp_path):
    # Guard (passes today): the proof is red for the rejected seed-row conflict; esc, esc, c, c
    # (take-export) on the plan, n, y: the committed table is processed again under the new
    # decision (not "resumed" into a dead end), and the proof goes green.
    from aria_tui.ui.screens.plan import PlanScreen

    export = conflicted_export(empty_db, tmp_path / "export")
    app = make_app(export, empty_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await to_inventory(app, pilot)
        await plan_and_run(app, pilot)
        await to_validation(app, pilot)
        assert not app.state.validation.ok
        await pilot.press("escape", "escape")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan again")
        targets = [tp.target for tp in app.state.plan.tables]
        await pilot.press("home", *["down"] * targets.index("app.settings"))
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert app.state.plan.tables[targets.index("app.settings")].on_conflict == "take-export"
        await plan_and_run_from_plan(app, pilot)
        settings = app.state.run.table("app.settings")
        assert (settings.updated, settings.duplicates, settings.inserted) == (1, 1, 0), settings
        await to_validation(app, pilot)
        assert app.state.validation.ok, app.state.validation.headline
        await pilot.press("q")
    assert app.return_value == 0
    assert query(empty_db, "SELECT key, value FROM app.settings ORDER BY key") == [
        ("lang", "en"),
        ("theme", "light"),
    ]


# -- a reject the operator accepts ---------------------------------------------------------------------


async def test_a_reject_can_be_accepted_by_keyboard_as_validate_accept_rejects_does(
    empty_db, tmp_path, cli
):
    # A record the target cannot take (here an id that is not an integer) is a reject: the CLI
    # asks for the decision (`--accept-rejects app.notes`, exit 0, "decided away"), the wizard
    # offered no key for it: its proof stayed red whatever the operator decided, and the status
    # line's "fix, re-run the load" was the only way on (a dead end for a record meant to go).
    from aria_tui.ui.screens.plan import PlanScreen

    export = bad_id_export(empty_db, tmp_path / "export")
    app = make_app(export, empty_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await to_inventory(app, pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan")
        await pilot.press("r")
        await settle(app, pilot)
        assert app.state.dry_run.table("app.notes").rejected == 1
        await pilot.press("a")  # accept the highlighted table's rejects, on purpose
        await pilot.pause()
        assert "app.notes" in app.state.choices.accept_rejects
        await plan_and_run_from_plan(app, pilot)
        assert app.state.run.ok, [t.error for t in app.state.run.tables]
        await to_validation(app, pilot)
        validation = app.state.validation
        assert validation.ok and validation.decided_away == 1, validation.headline
        assert "decided away by you" in " ".join(screen_text(app).split())
    code, out, err = cli(
        "validate", export, "--dsn", empty_db.conninfo, "--accept-rejects", "app.notes", "--json"
    )
    assert code == 0 and json.loads(out)["summary"]["decided_away"] == 1, (out, err)


async def test_a_reject_seen_on_the_proof_is_accepted_after_the_load(empty_db, tmp_path):
    # The same decision taken where the operator meets the reject, after the load: the proof is
    # red; esc, esc to the plan, a, n, y (the table is processed again under the new decision),
    # n: green, the record decided away. Before, no key on any screen took that decision.
    from aria_tui.ui.screens.plan import PlanScreen

    export = bad_id_export(empty_db, tmp_path / "export")
    app = make_app(export, empty_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await to_inventory(app, pilot)
        await plan_and_run(app, pilot)
        await to_validation(app, pilot)
        assert not app.state.validation.ok
        await pilot.press("escape", "escape")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan again")
        assert app.screen.check_action("accept_rejects", ()) is True
        assert "a Accept rejects" in screen_text(app)  # in the footer at 80×24
        await pilot.press("a")
        await plan_and_run_from_plan(app, pilot)
        assert app.state.run.ok, [t.error for t in app.state.run.tables]
        await to_validation(app, pilot)
        validation = app.state.validation
        assert validation.ok and validation.decided_away == 1, validation.headline
        await pilot.press("q")
    assert app.return_value == 0
    assert query(empty_db, "SELECT id FROM app.notes ORDER BY id") == [(1,), (3,)]


async def test_a_table_processed_again_under_a_new_decision_still_rejects_its_bad_record(
    empty_db, tmp_path, cli
):
    # What the wizard's re-run does for a new decision, said with the CLI: the first load rejects
    # the record "x" (line 3) and commits; a second load with another decision processes the
    # committed table again and failed it whole ("invalid input syntax for type integer") —
    # the planner joined the staged records to the table's rows, casting every key, before
    # leaving out the rejected ones. The decision could never be applied by a re-run.
    export = bad_id_export(empty_db, tmp_path / "export")
    code, out, err = cli("load", export, "--dsn", empty_db.conninfo, "--yes", "--json")
    first = json.loads(out)["tables"][0]
    assert (code, first["status"], first["inserted"], first["rejected"]) == (1, "loaded", 2, 1)
    for again in (("--on-conflict", "keep-target"), ("--accept-rejects", "app.notes")):
        code, out, err = cli("load", export, "--dsn", empty_db.conninfo, "--yes", "--json", *again)
        table = json.loads(out)["tables"][0]
        said = (
            table["status"],
            table["inserted"],
            table["duplicates"],
            table["rejected"],
            table["error"],
        )
        assert said == ("loaded", 0, 2, 1, None), (again, said)
    assert code == 0  # the rejects accepted on purpose
    assert query(empty_db, "SELECT id FROM app.notes ORDER BY id") == [(1,), (3,)]


# -- a table decision on a table that became blocked ----------------------------------------------


async def test_a_triggers_decision_on_a_table_blocked_again_does_not_stop_the_plan(
    empty_db, tmp_path
):
    # g on the plan (triggers off for app.events), back, u undoes the drift decision that made
    # app.events loadable (it stays ticked, blocked: it fails the run by name). The plan step
    # then showed only "Cannot plan the load: --triggers-off names app.events, which this load
    # does not load" and "No plan: go back and tick at least one loadable file", with a
    # loadable app.notes ticked: a CLI flag the operator never typed, and no plan at all.
    from aria_tui.ui.screens.diff import DiffScreen
    from aria_tui.ui.screens.inventory import InventoryScreen
    from aria_tui.ui.screens.plan import PlanScreen

    sql(
        empty_db,
        "CREATE SCHEMA app",
        *NOTES_DDL,
        "CREATE TABLE app.events (id int PRIMARY KEY, note text, updated_at timestamptz)",
        "CREATE FUNCTION app.stamp() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$",
        "CREATE TRIGGER events_stamp BEFORE INSERT OR UPDATE ON app.events "
        "FOR EACH ROW EXECUTE FUNCTION app.stamp()",
    )
    export = write(tmp_path / "export", "app.notes.csv", NOTES_CSV).parent
    write(export, "app.events.csv", "id,note,updated_at,source\n1,a,2020-01-01 10:00:00+00,web\n")
    app = make_app(export, empty_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await to_inventory(app, pilot)
        await highlight_file(app, "app.events")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DiffScreen), "the diff")
        assert [d.column for d in app.screen.differences] == ["source"]
        await pilot.press("x")  # drop source: app.events is loadable
        await pilot.pause()
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, InventoryScreen), "the inventory")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan")
        targets = [tp.target for tp in app.state.plan.tables]
        await pilot.press("home", *["down"] * targets.index("app.events"), "g")
        await pilot.pause()
        assert app.state.choices.triggers_off == {"app.events"}
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, InventoryScreen), "the inventory again")
        await highlight_file(app, "app.events")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DiffScreen), "the diff again")
        await pilot.press("u")  # blocked again, still ticked
        await pilot.pause()
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, InventoryScreen), "the inventory")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan")
        await pilot.pause()
        plan = app.state.plan
        assert plan is not None, screen_text(app)
        assert [tp.target for tp in plan.tables] == ["app.notes"]
        assert [s.scan.target for s in plan.skipped] == ["app.events"]  # fails the run by name
        assert "--triggers-off" not in screen_text(app)
        assert app.state.choices.triggers_off == {"app.events"}  # still recorded for later


async def test_a_resumed_table_that_rejected_records_is_not_ticked(empty_db, tmp_path):
    # Load (one record rejected), esc back to the plan, load again: the table resumes, and the
    # run screen said "✓ already loaded (resumed) · 3 records" for a table whose record is still
    # missing from the target (`load --json`: previously_rejected 1, and the run is not ok).
    from aria_tui.ui.screens.plan import PlanScreen

    export = bad_id_export(empty_db, tmp_path / "export")
    app = make_app(export, empty_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await to_inventory(app, pilot)
        await plan_and_run(app, pilot)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan again")
        await plan_and_run_from_plan(app, pilot)
        result = app.state.run.table("app.notes")
        assert (result.status, result.previously_rejected, result.ok) == ("resumed", 1, False)
        line = next(
            row for row in screen_text(app).splitlines() if "app.notes" in row and "resumed" in row
        )
        assert app.screen.meters["app.notes"].state != "done", line
        assert "1 rej" in line, line


# -- another target chosen after the inventory ---------------------------------------------------------


async def test_a_new_target_gets_a_new_inventory(templates, tmp_path):
    # Inventory against target A, esc back to Connect, t, another DSN, enter, n: the wizard kept
    # A's scan. On B, app.notes has a NOT NULL column the export lacks (blocked until a fill is
    # decided), but the inventory said "match" and planned it with A's catalog.
    from aria_tui.ui.screens.connect import ConnectScreen
    from aria_tui.ui.screens.inventory import InventoryScreen

    a, b = templates.fresh(None), templates.fresh(None)
    sql(a, "CREATE SCHEMA app", *NOTES_DDL)
    sql(
        b,
        "CREATE SCHEMA app",
        "CREATE TABLE app.notes (id int PRIMARY KEY, body text, owner text NOT NULL)",
    )
    export = write(tmp_path / "export", "app.notes.csv", NOTES_CSV).parent
    app = make_app(export, a.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await to_inventory(app, pilot)
        (notes,) = app.state.tables()
        assert notes.diff.status == "match"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConnectScreen), "the connect step")
        await pilot.press("t")
        await pilot.pause()
        await pilot.press(*b.conninfo, "enter")
        await settle(app, pilot)
        await until(pilot, lambda: app.state.connection is not None, "the new target")
        assert app.state.connection.target.conninfo == b.conninfo
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, InventoryScreen), "the inventory")
        await settle(app, pilot)
        (notes,) = app.state.tables()
        assert notes.diff.status == "blocked", notes.diff.status  # B's catalog, not A's
        assert app.state.inventory.catalog.get("app.notes").column("owner") is not None
