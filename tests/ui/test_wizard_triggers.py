"""The wizard's plan step offers the triggers decision by key: g switches the highlighted table's
user triggers off for its load, the dry run and the saved plan carry it, and `load --plan`
replays it."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import psycopg
from wizardkit import make_app, settle

from aria_tui.ui.snapshot import screen_text

SIZE = (120, 36)
CSV = "id,name,updated_at\n" + "".join(
    f"{i},item {i},2020-01-0{i} 10:00:00+00\n" for i in range(1, 4)
)


async def test_g_switches_the_triggers_off_and_the_saved_plan_replays_it(empty_db, tmp_path, cli):
    from aria_tui.ui.screens.plan import PlanScreen

    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.items (id int PRIMARY KEY, name text, updated_at timestamptz)")
        conn.execute(
            "CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER items_stamp BEFORE INSERT OR UPDATE ON public.items "
            "FOR EACH ROW EXECUTE FUNCTION public.stamp()"
        )
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "items.csv").write_text(CSV)
    app = make_app(folder, empty_db.conninfo, "none")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        # the diff names the trigger as a difference to decide
        await pilot.press("d")
        await pilot.pause()
        shown = screen_text(app)
        assert "items_stamp (BEFORE INSERT OR UPDATE" in shown and "--triggers-off" in shown, shown
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, PlanScreen)
        assert "g switches them off" in screen_text(app), screen_text(app)
        await pilot.press("g")
        await pilot.pause()
        (tp,) = app.state.plan.tables
        assert tp.triggers_off and app.state.choices.triggers_off == {"public.items"}
        assert "triggers OFF for the load" in screen_text(app)
        await pilot.press("r")
        await settle(app, pilot)
        dry = app.state.dry_run.table("public.items")
        assert dry.triggers_switched_off and dry.inserted == 3, dry
        await pilot.press("w")
        await pilot.pause()
        saved = app.state.plan_file
        assert saved is not None
    plan = tomllib.loads(Path(saved).read_text(encoding="utf-8"))
    assert plan["table"][0]["triggers_off"] is True
    code, out, err = cli(
        "load", folder, "--dsn", empty_db.conninfo, "--profile", "none", "--plan", saved,
        "--yes", "--json",
    )  # fmt: skip
    assert code == 0, (out, err)
    (t,) = json.loads(out)["tables"]
    assert t["triggers_off"] and t["inserted"] == 3, t
    with psycopg.connect(empty_db.conninfo) as conn:
        years = conn.execute("SELECT DISTINCT extract(year FROM updated_at)::int FROM items").fetchall()
    assert years == [(2020,)]
