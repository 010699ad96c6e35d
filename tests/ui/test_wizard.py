"""The wizard, driven with the keyboard through Pilot against a real embedded PostgreSQL.

Every wait is on the app itself (workers complete, a message arrives, a screen appears), never a
sleep. Screens are checked by their widget state and by the text they show at a fixed size.
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import re
import shutil
import statistics
import threading
import time
from pathlib import Path

import psycopg
import pytest
from loadkit import manifest_of
from wizardkit import make_app, settle, until

from aria_tui.ui.app import AriaApp, create_app
from aria_tui.ui.snapshot import screen_text

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_EXPORT = ROOT / "sample_export"
SIZE = (100, 30)

needs_sample = pytest.mark.skipif(
    not (SAMPLE_EXPORT / "memories.csv").is_file(), reason="sample_export/ is not there yet"
)


def small_export(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    for name in names:
        shutil.copy(SAMPLE_EXPORT / name, folder / name)
    return folder


def svg_text(app: AriaApp) -> str:
    """The words of the exported SVG screenshot, in reading order (Rich writes one <text> per
    styled segment, with spaces as &#160;)."""
    segments = re.findall(r"<text[^>]*>(.*?)</text>", app.export_screenshot(), flags=re.S)
    return html.unescape("".join(segments)).replace("\xa0", " ")


def big_activity_log(folder: Path, records: int) -> Path:
    """A large activity_log.csv made of the sample's records with fresh ids: a load that lasts."""
    with open(SAMPLE_EXPORT / "activity_log.csv", newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        samples = list(reader)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    tails = []
    for row in samples:
        buf.seek(0)
        buf.truncate()
        writer.writerow(row[1:])
        tails.append("," + buf.getvalue())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "activity_log.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(",".join(header) + "\n")
        n = len(tails)
        out.write("".join(f"{i:08x}-0000-4000-8000-{i:012x}{tails[i % n]}" for i in range(records)))
    return path


def rows(db, table: str) -> int:
    with psycopg.connect(db.conninfo) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# -- connect -----------------------------------------------------------------------------------


async def test_bad_dsn_is_an_error_dialog_with_a_way_back(tmp_path):
    from aria_tui.ui.screens.connect import ConnectScreen
    from aria_tui.ui.screens.dialogs import ErrorModal

    dsn = "postgresql://op:s3cret-pw@127.0.0.1:1/nowhere?connect_timeout=2"
    app = make_app(tmp_path, dsn)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, ErrorModal)
        text = screen_text(app)
        assert "Cannot connect" in text
        assert "127.0.0.1:1" in text
        assert "s3cret-pw" not in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConnectScreen)
        text = screen_text(app)
        assert "Not connected" in text and "s3cret-pw" not in text
        # Next is greyed out, Retry is offered
        assert app.screen.check_action("next", ()) is None
        assert app.screen.check_action("reconnect", ()) is True
        await pilot.press("r")  # retry: same error again, still no crash
        await settle(app, pilot)
        assert isinstance(app.screen, ErrorModal)
    assert app.return_code in (None, 0)


async def test_connect_offers_bootstrap_on_an_empty_target(tmp_path, empty_db):
    export = small_export(tmp_path, "memories.csv") if SAMPLE_EXPORT.is_dir() else tmp_path
    app = make_app(export, empty_db.conninfo, "aria_v4")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        assert "✗ aria_data" in text and "Press b" in text
        assert app.screen.check_action("next", ()) is None
        await pilot.press("b")
        await settle(app, pilot)
        await settle(app, pilot)  # the bootstrap worker reconnects through a second message
        connection = app.state.connection
        assert connection is not None and not connection.needs_bootstrap
        assert "✓ aria_data" in screen_text(app)


# -- the whole journey ------------------------------------------------------------------------


@needs_sample
async def test_journey_sample_export_to_green_validation(aria_db, tmp_path):
    """sample_export → defaults ticked → diff → dry run → run → validate: all green."""
    from aria_tui.ui.screens.dialogs import ConfirmModal
    from aria_tui.ui.screens.diff import DiffScreen
    from aria_tui.ui.screens.help import HelpScreen
    from aria_tui.ui.screens.inventory import InventoryScreen
    from aria_tui.ui.screens.plan import PlanScreen
    from aria_tui.ui.screens.run import RunScreen
    from aria_tui.ui.screens.validate import ValidateScreen

    app = make_app(SAMPLE_EXPORT, aria_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        assert "PostgreSQL" in text and "✓ aria_data" in text and "aria_v4" in text
        assert "88 CSV files" in text
        assert "1 Connect" in svg_text(app) and "PostgreSQL" in svg_text(app)

        # -- inventory: defaults
        await pilot.press("n")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, InventoryScreen)
        state = app.state
        assert len(state.tables()) == 88
        assert "memories" in state.selected
        assert "activity_log" not in state.selected
        assert not any(name.startswith("litellm") for name in state.selected)
        assert all(t.priority in ("HIGH", "MEDIUM") for t in state.selected_tables())
        text = screen_text(app)
        assert "Ticked 14/88 files" in text and "goals.csv" in text and "drift" in text
        svg = svg_text(app)
        assert "2 Inventory" in svg and "goals.csv" in svg and "Ticked 14" in svg

        # -- keys: toggle, tick a priority group and back, sort, filter
        before = set(state.selected)
        await pilot.press("l")
        assert "activity_log" in state.selected
        await pilot.press("l")
        assert state.selected == before
        await pilot.press("s")
        assert screen.grid.sort_label == "file"
        await pilot.press("slash", *"goals", "enter")
        assert {t.name for t in screen.grid.shown} >= {"goals"}
        assert all("goals" in t.file.name or "goals" in (t.reason or "") for t in screen.grid.shown)

        # -- diff of the drifted goals table: the two extra, all-empty columns
        goals = screen.grid.get_row_index("goals")
        screen.grid.move_cursor(row=goals)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        text = screen_text(app)
        assert "goals.csv" in text and "drift" in text
        assert "category" in text and "every value" in text and "nothing lost" in text
        assert "dropped: every value empty" in svg_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("slash", "escape")  # clear the filter
        assert len(screen.grid.shown) == 88

        # -- help and the palette know the step's keys
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        help_text = screen_text(app)
        assert "Tick" in help_text and "Filter" in help_text and "Diff" in help_text
        await pilot.press("escape")
        await pilot.pause()

        # -- plan and dry run
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, PlanScreen)
        plan = state.plan
        assert plan is not None and len(plan.tables) == len(state.selected)
        order = [tp.target for tp in plan.tables]
        assert order.index("aria_data.knowledge_entities") < order.index("aria_data.knowledge_relations")
        seeded = rows(aria_db, "aria_data.thoughts")  # the v4 init scripts seed a row or two
        await pilot.press("r")
        await settle(app, pilot)
        dry = state.dry_run
        assert dry is not None and dry.dry_run
        assert all(t.inserted + t.duplicates + t.rejected == t.csv_rows for t in dry.tables)
        assert rows(aria_db, "aria_data.thoughts") == seeded  # a dry run leaves the target unchanged
        text = screen_text(app)
        assert "dry run:" in text
        assert "3 Plan" in svg_text(app) and "skip dup on (id)" in svg_text(app)

        # -- run (after a confirmation)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(app, pilot)
        assert isinstance(app.screen, RunScreen)
        result = state.run
        assert result is not None and not state.running and not state.run_cancelled
        assert result.ok, [t for t in result.tables if not t.ok]
        # the dry run predicted exactly what the real run did
        assert [(t.target, t.inserted, t.duplicates, t.rejected) for t in dry.tables] == [
            (t.target, t.inserted, t.duplicates, t.rejected) for t in result.tables
        ]
        text = screen_text(app)
        assert "Loaded" in text and f"{len(plan.tables)}/{len(plan.tables)} tables" in text
        assert "100%" in svg_text(app) and "4 Run" in svg_text(app)
        assert rows(aria_db, "aria_data.thoughts") > seeded

        # -- validate
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, ValidateScreen)
        validation = state.validation
        assert validation is not None
        assert validation.ok, [c for t in validation.tables for c in t.failures]
        text = screen_text(app)
        assert "Cutover proven" in text and "Report:" in text
        assert validation.report_path is not None and validation.report_path.is_file()
        assert "Cutover proven" in svg_text(app)

        # a row deleted by hand: r re-validates, the failing table is opened and named
        with psycopg.connect(aria_db.conninfo, autocommit=True) as conn:
            conn.execute(
                "DELETE FROM aria_data.lessons_learned WHERE ctid = "
                "(SELECT ctid FROM aria_data.lessons_learned LIMIT 1)"
            )
        await pilot.press("r")
        await settle(app, pilot)
        assert state.validation is not None and not state.validation.ok
        text = screen_text(app)
        assert "Not proven" in text and "✗ aria_data.lessons_learned" in text
        assert "presence" in text  # the failed check's sentence, under the opened table
        await pilot.press("q")
    assert app.return_value == 1  # the cutover is not proven: the wizard says so to the shell


@needs_sample
async def test_a_missing_expected_file_fails_the_wizards_run_and_validation(aria_db, tmp_path):
    """Issue 14: the wizard takes the CLI's default selection. A file the profile rates HIGH that
    the folder lacks fails the run and the proof, by name, unless the operator leaves it out."""
    from aria_tui.ui.screens.dialogs import ConfirmModal
    from aria_tui.ui.screens.plan import PlanScreen
    from aria_tui.ui.screens.validate import ValidateScreen

    export = small_export(tmp_path, "memories.csv")
    app = make_app(export, aria_db.conninfo, "aria_v4")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        state = app.state
        missing = {t.name for t in state.tables() if t.missing}
        assert "thoughts" in missing and missing <= state.selected
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, PlanScreen)
        assert "cannot be loaded" in screen_text(app)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the confirmation")
        await pilot.press("y")
        await settle(app, pilot)
        result = state.run
        assert result is not None and not result.ok
        thoughts = next(t for t in result.tables if t.target == "aria_data.thoughts")
        assert thoughts.status == "blocked" and "thoughts.csv" in (thoughts.error or "")
        assert next(t for t in result.tables if t.target == "aria_data.memories").ok
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, ValidateScreen)
        validation = state.validation
        assert validation is not None and not validation.ok
        by_file = {t.file: t for t in validation.tables}
        assert by_file["thoughts.csv"].status == "missing" and by_file["memories.csv"].ok
        assert "missing from the folder" in validation.headline
        text = screen_text(app)
        assert "Not proven: 13 files of the export are missing from the folder" in text
        assert "✗ aria_data.goals" in text and "missing" in text
        await pilot.press("q")
    assert app.return_value == 1


# -- keyboard: palette, flags ---------------------------------------------------------------


@needs_sample
async def test_command_palette_runs_the_steps_actions(aria_db, tmp_path):
    from textual.command import CommandPalette

    export = small_export(tmp_path, "knowledge_entities.csv", "knowledge_relations.csv")
    app = make_app(export, aria_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"dry run")
        await until(pilot, lambda: "Dry run" in screen_text(app) and "key: r" in screen_text(app), "the hit")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.state.dry_run is not None and app.state.dry_run.dry_run


def test_wizard_flags_reach_textual(monkeypatch):
    """--inline, --no-mouse and --ansi become App.run(inline=, mouse=) and the ANSI theme."""
    from aria_tui.cli import build_wizard_parser
    from aria_tui.ui import app as app_mod

    seen = {}

    def fake_run(self, **kwargs):
        seen.update(kwargs, ansi=self.ansi, color=self.ansi_color)
        return 0

    monkeypatch.setattr(app_mod.AriaApp, "run", fake_run)
    args = build_wizard_parser().parse_args(["sample_export", "--inline", "--no-mouse", "--ansi"])
    assert app_mod.run_wizard(args) == 0
    assert seen == {"inline": True, "mouse": False, "ansi": True, "color": True}


async def test_ansi_theme_uses_the_terminals_colours(tmp_path):
    app = create_app(tmp_path, "postgresql://x@127.0.0.1:1/x?connect_timeout=1", None, ansi=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.theme == "ansi-dark" and app.native_ansi_color


# -- blocked files -----------------------------------------------------------------------------


@needs_sample
async def test_blocked_file_fails_the_run_until_left_out_and_the_diff_says_why(aria_db, tmp_path):
    from aria_tui.ui.screens.diff import DiffScreen

    export = small_export(tmp_path, "memories.csv", "thoughts.csv")
    # a header naming a column twice: the scan blocks the file with its line, the rest goes on
    # (a record COPY refuses would only be a reject, issue 16)
    head = (SAMPLE_EXPORT / "working_memory.csv").read_text(encoding="utf-8").splitlines()[0]
    (export / "working_memory.csv").write_text(
        head + "," + head.split(",")[0] + "\n", encoding="utf-8"
    )
    app = make_app(export, aria_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        screen = app.screen
        state = app.state
        blocked = next(t for t in state.tables() if t.name == "working_memory")
        assert blocked.diff.status == "blocked"
        # the profile expects it (HIGH), as it expects the files this small export lacks: the
        # CLI's default selection takes them and fails for them, and so does the wizard's
        assert "working_memory" in state.selected
        missing = {t.name for t in state.tables() if t.missing}
        assert missing and missing <= state.selected
        assert {t.name for t in state.ticked_unloadable()} == missing | {"working_memory"}
        text = screen_text(app)
        assert "[!]" in text and "cannot be loaded" in text and "x Leave out" in text
        plan = app.state.selection().resolve(state.inventory)
        assert any(t.name == "working_memory" for t in plan.picked)

        # space leaves it out on purpose; it cannot be ticked back, and a priority group skips it
        screen.grid.move_cursor(row=screen.grid.get_row_index("working_memory"))
        await pilot.press("space")
        assert "working_memory" not in state.selected
        assert "Unticked working_memory.csv on purpose" in screen_text(app)
        await pilot.press("space")
        assert "working_memory" not in state.selected
        assert "Cannot tick working_memory.csv" in screen_text(app)
        await pilot.press("h", "h")  # untick the HIGH group, tick it again: it stays out
        assert "working_memory" not in state.selected

        # x leaves out every other file that cannot be loaded, and the key goes away
        await pilot.press("x")
        assert not state.ticked_unloadable() and not (missing & state.selected)
        assert {"memories", "thoughts"} <= state.selected
        assert "Left out" in screen_text(app) and "x Leave out" not in screen_text(app)
        screen.grid.move_cursor(row=screen.grid.get_row_index("working_memory"))
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        text = screen_text(app)
        assert "blocked" in text and "working_memory.csv" in text
        assert blocked.diff.reason and blocked.diff.reason.split(":")[0][:30] in text.replace("\n", " ")


# -- cancel ------------------------------------------------------------------------------------


@needs_sample
async def test_cancel_mid_run_rolls_back_the_current_table_and_keeps_the_finished(aria_db, tmp_path):
    """The load is held (by a hook in the event relay) inside its second table while the operator
    cancels; the first table must stay, the second must roll back, the third never start."""
    from aria_tui.load.events import TableStarted
    from aria_tui.ui.screens.dialogs import ConfirmModal
    from aria_tui.ui.screens.run import RunScreen

    export = small_export(tmp_path, "knowledge_entities.csv", "knowledge_relations.csv", "thoughts.csv")
    app = make_app(export, aria_db.conninfo)
    held = threading.Event()
    release = threading.Event()
    relay_factory = app.event_relay

    def holding_relay(dry_run: bool):
        relay = relay_factory(dry_run)

        def hook(event) -> None:
            relay(event)
            if not dry_run and isinstance(event, TableStarted) and event.index == 2:
                held.set()
                release.wait(30)

        return hook

    app.event_relay = holding_relay  # type: ignore[method-assign]
    app.state.jobs = 1  # one table at a time: "the third never starts" is a serial run's promise
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        # three files of an Aria export against an Aria target: the target names the profile,
        # so the profile's other HIGH/MEDIUM files are missing and ticked; x leaves them out
        assert {t.name for t in app.state.ticked_unloadable()} == {
            t.name for t in app.state.tables() if t.missing
        }
        await pilot.press("x")
        assert len(app.state.selected) == 3
        await pilot.press("n", "n")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await until(pilot, held.is_set, "the second table to start")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.current, "the run screen")
        run = app.screen
        second = run.current
        first = app.state.plan.tables[0].target
        # the interface answers while the load runs: help opens and closes
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen is not run
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is run

        await pilot.press("ctrl+c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "rolls back" in screen_text(app)
        await pilot.press("y")
        await pilot.pause()
        assert "Cancelling" in screen_text(app)
        release.set()
        await settle(app, pilot)
        assert app.state.run_cancelled and not app.state.running
        text = screen_text(app)
        assert "Cancelled." in text and "stay loaded" in text and "rolled back" in text
        assert rows(aria_db, first) > 0
        assert rows(aria_db, second) == 0
        # validation of a cancelled run is still offered; quitting says the cutover is unproven
        assert app.screen.check_action("next", ()) is True
        await pilot.press("q")
    assert app.return_value == 1


# -- responsiveness and a real cancel ---------------------------------------------------------


@needs_sample
async def test_keys_answer_fast_while_loading_and_cancel_rolls_the_table_back(aria_db, tmp_path):
    """A key is handled within 100 ms while a big table streams, progress arrives at least four
    times a second, and a cancel in the middle of the table leaves the target as it was."""
    from textual import events

    from aria_tui.ui import messages as msg
    from aria_tui.ui.screens.dialogs import ConfirmModal
    from aria_tui.ui.screens.help import HelpScreen
    from aria_tui.ui.screens.run import RunScreen

    export = tmp_path / "big"
    big_activity_log(export, 200_000)  # indexes are built after the rows now: a bigger file keeps it loading
    before = rows(aria_db, "aria_data.activity_log")
    ticks: list[float] = []

    def hook(message) -> None:
        if isinstance(message, msg.LoadProgressed):
            ticks.append(time.monotonic())

    app = make_app(export, aria_db.conninfo, "aria_v4")
    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        # the profile's HIGH and MEDIUM files are missing from this folder: ticked, so the run
        # would fail for them; x leaves them out on purpose. LOW: visible, not ticked by default
        assert app.state.selected and all(t.missing for t in app.state.selected_tables())
        await pilot.press("x")
        assert app.state.selected == set()
        await pilot.press("space", "n", "n", "y")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and len(ticks) >= 2, "progress")

        # key → handled, measured inside the app (Pilot's own settling would dominate otherwise)
        latencies = []
        for _ in range(8):
            if not app.state.running:
                break
            started = time.monotonic()
            app.post_message(events.Key("question_mark", "?"))
            while not isinstance(app.screen, HelpScreen):
                await asyncio.sleep(0.001)
            latencies.append(time.monotonic() - started)
            app.post_message(events.Key("escape", None))
            while isinstance(app.screen, HelpScreen):
                await asyncio.sleep(0.001)
            await asyncio.sleep(0.05)
        # A frozen interface (work on the event loop) answers in seconds; the 100 ms target itself is
        # measured, not asserted: timed assertions fail on a busy CI machine for reasons of its own.
        print(f"key latency during a load: median {statistics.median(latencies) * 1000:.0f} ms, "
              f"max {max(latencies) * 1000:.0f} ms")
        assert latencies and statistics.median(latencies) < 0.5, latencies
        assert max(latencies) < 2.0, latencies

        assert app.state.running, "the load finished before it could be cancelled: make the file bigger"
        progress = list(ticks)  # before the cancel: a rollback sends no progress
        await pilot.press("ctrl+c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the confirmation")
        await pilot.press("y")
        await settle(app, pilot)
        assert app.state.run_cancelled and not app.state.running
        assert "rolled back" in screen_text(app)
        span = progress[-1] - progress[0]
        print(f"progress messages during a load: {(len(progress) - 1) / span:.1f}/s")
        assert span > 0 and (len(progress) - 1) / span >= 1, (len(progress), span)
    assert rows(aria_db, "aria_data.activity_log") == before


# -- manifest override (issue 10) --------------------------------------------------------------


def _export_with_changed_thoughts(tmp_path: Path) -> Path:
    """memories.csv and thoughts.csv with the manifest an export wrote, then one record of
    thoughts.csv deleted (its first, a one-line record)."""
    import hashlib

    from aria_tui.manifest import format as m

    export = small_export(tmp_path, "memories.csv", "thoughts.csv")
    entries = []
    for name in ("memories.csv", "thoughts.csv"):
        data = (export / name).read_bytes()
        header = data.split(b"\n", 1)[0].decode().split(",")
        with open(export / name, newline="", encoding="utf-8") as fh:
            records = sum(1 for _ in csv.reader(fh)) - 1
        entries.append(
            m.ManifestTable(
                file=name,
                schema="aria_data",
                table=m.stem_of(name),
                records=records,
                bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                columns=tuple(m.ManifestColumn(c, "text", False) for c in header),
            )
        )
    m.write_manifest(export, manifest_of(*entries))
    thoughts = export / "thoughts.csv"
    lines = thoughts.read_bytes().splitlines(keepends=True)
    assert lines[1].count(b'"') % 2 == 0  # a whole record: the file still parses
    thoughts.write_bytes(b"".join(lines[:1] + lines[2:]))
    return export


@needs_sample
async def test_manifest_override_ticks_a_changed_file_only_after_confirmation(aria_db, tmp_path):
    from textual.command import CommandPalette

    from aria_tui.load.plan import manifest_overrides
    from aria_tui.ui.screens.dialogs import ConfirmModal
    from aria_tui.ui.screens.plan import PlanScreen

    export = _export_with_changed_thoughts(tmp_path)
    app = make_app(export, aria_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        screen, state = app.screen, app.state
        changed = next(t for t in state.tables() if t.name == "thoughts")
        assert (changed.manifest, changed.diff.status) == ("changed", "blocked")
        # expected by the manifest and the profile: ticked by default, failing the run until it
        # is left out or overridden
        assert state.selected == {"memories", "thoughts"} and not state.overrides
        screen.grid.move_cursor(row=screen.grid.get_row_index("thoughts"))
        await pilot.press("space")  # left out on purpose
        assert state.selected == {"memories"}

        # on an intact file the key is there but greyed out; on the changed one it is live
        screen.grid.move_cursor(row=screen.grid.get_row_index("memories"))
        await pilot.pause()
        assert "o Override manifest" in screen_text(app)
        assert screen.check_action("override", ()) is None
        screen.grid.move_cursor(row=screen.grid.get_row_index("thoughts"))
        await pilot.pause()
        assert screen.check_action("override", ()) is True

        # space refuses it and points at the override
        await pilot.press("space")
        assert "thoughts" not in state.selected
        assert "Cannot tick thoughts.csv (o overrides the manifest check): " in screen_text(app)
        assert "o overrides · thoughts.csv changed since" in screen_text(app)

        # o asks first, naming the file and the manifest's reason; n leaves it unticked
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the confirmation")
        modal = app.screen
        assert modal.question.startswith(
            "thoughts.csv changed since it was exported from aria_data.thoughts: it holds "
        )
        assert "Load thoughts.csv into aria_data.thoughts anyway?" in modal.question
        assert "Override the manifest check?" in screen_text(app)
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen, "the inventory again")
        assert "thoughts" not in state.selected and not state.overrides

        # the same action from the command palette; y ticks it with the override recorded
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"override")
        await until(pilot, lambda: "key: o" in screen_text(app), "the palette's hit")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: app.screen is screen, "the inventory again")
        assert state.selected == {"memories", "thoughts"} and state.overrides == {"thoughts"}
        text = screen_text(app)
        assert "despite the manifest (override)" in text and "Ticked 2/2 files" in text
        assert screen.check_action("override", ()) is None  # already ticked

        # unticking forgets the override: ticking again needs a new confirmation
        await pilot.press("space")
        assert "thoughts" not in state.selected and not state.overrides
        await pilot.press("space")
        assert "thoughts" not in state.selected
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: app.screen is screen, "the inventory again")

        # the plan loads it, and knows it does so under the override
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), "the plan")
        plan = state.plan
        assert {tp.target for tp in plan.tables} == {"aria_data.memories", "aria_data.thoughts"}
        (overridden,) = manifest_overrides(plan)
        assert overridden.target == "aria_data.thoughts" and not plan.skipped
        assert overridden.scan.rows == changed.rows


@needs_sample
async def test_plan_screen_sets_a_conflict_policy_by_key_and_the_saved_plan_replays(
    aria_db, tmp_path, cli
):
    """A customised seed row: c sets take-export on memories, r shows 1 update and no conflict,
    w saves the plan, and `aria-tui load --plan` replays it to the same numbers."""
    import json
    import tomllib

    from aria_tui.ui.screens.plan import PlanScreen

    with psycopg.connect(aria_db.conninfo, autocommit=True) as conn:
        conn.execute(
            "UPDATE aria_data.memories SET value = '{\"name\": \"init default\"}' "
            "WHERE key = 'aria_identity'"
        )
    app = make_app(SAMPLE_EXPORT, aria_db.conninfo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, PlanScreen)
        targets = [tp.target for tp in app.state.plan.tables]
        for _ in range(targets.index("aria_data.memories")):
            await pilot.press("down")
        await pilot.press("c", "c")  # reject -> keep-target -> take-export
        await pilot.pause()
        memories = next(t for t in app.state.plan.tables if t.target == "aria_data.memories")
        assert memories.on_conflict == "take-export"
        await pilot.press("r")
        await settle(app, pilot)
        dry = app.state.dry_run.table("aria_data.memories")
        assert (dry.updated, dry.conflicts) == (1, 0), dry
        await pilot.press("w")
        await pilot.pause()
        saved = app.state.plan_file
        assert saved is not None
    plan = tomllib.loads(Path(saved).read_text(encoding="utf-8"))
    by = {t["target"]: t for t in plan["table"]}
    assert by["aria_data.memories"]["on_conflict"] == "take-export"
    code, out, err = cli("load", SAMPLE_EXPORT, "--dsn", aria_db.conninfo, "--plan", saved, "--yes", "--json")
    assert code == 0, (out, err)
    real = next(t for t in json.loads(out)["tables"] if t["target"] == "aria_data.memories")
    assert (real["inserted"], real["duplicates"], real["updated"]) == (
        dry.inserted,
        dry.duplicates,
        dry.updated,
    )
