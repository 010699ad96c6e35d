"""Audit on REAL targets: databases built the way the seed systems' own init scripts build them
(tests/realtargets.py: Aria v4's 01-schema.sql / 03-aria-engine-schema.sql with the seed-003
"DRIFT" columns, an enum, a domain, CHECKs, updated_at triggers, an ivfflat index on the empty
table and the seed rows of seed 000 §7.3; Archon's Supabase complete_setup.sql with roles,
auth.role(), RLS, update_updated_at_column() triggers, task_status/priority enums, generated
tsvector columns, ivfflat indexes and its default settings/prompts), driven through the CLI with
the bundled sample_export/ and the Archon sample, as an operator would.

Each docstring says the setup, what the tool said or did before it was fixed, what the operator
needed, and where the cause was.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
import realtargets as rt

ROOT = Path(__file__).resolve().parents[2]
ARIA_EXPORT = ROOT / "sample_export"


@pytest.fixture(scope="module")
def archon_export(tmp_path_factory) -> Path:
    """The Archon sample (`aria-tui sample OUT --profile archon`), made once for the module."""
    from aria_tui.cli import main

    out = tmp_path_factory.mktemp("archon") / "export"
    assert main(["sample", str(out), "--profile", "archon", "--rows", "archon_crawled_pages=20",
                 "--rows", "archon_code_examples=20"]) == 0
    return out


def run_json(cli, *argv) -> tuple[int, dict]:
    code, out, err = cli(*argv)
    assert "Traceback" not in err + out, err
    assert out.strip(), err
    return code, json.loads(out)


def sql(db, *statements) -> None:
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        for s in statements:
            conn.execute(s)


def adds_up(t: dict) -> bool:
    """csv_rows = inserted + updated + duplicates + conflicts + rejected, earlier runs included."""
    now = t["inserted"] + t["updated"] + t["duplicates"] + t["conflicts"] + t["rejected"]
    before = (t.get("previously_inserted", 0) + t.get("previously_duplicates", 0)
              + t.get("previously_rejected", 0) + t.get("previously_conflicts", 0)
              + t.get("previously_updated", 0))
    return t["csv_rows"] == now + before


# --------------------------------------------------------------------------------------------
# false greens (of `load`)
# --------------------------------------------------------------------------------------------


def test_rerun_after_a_load_that_rejected_seed_conflicts_says_ok_and_forgets_them(
    empty_db, cli, tmp_path, archon_export
):
    """Setup: the Archon target of complete_setup.sql, whose init script seeds archon_prompts
    (document_builder, feature_builder, data_builder) and archon_settings (OPENAI_API_KEY,
    ANTHROPIC_API_KEY, PROJECTS_ENABLED, ...) with their own ids and content. `load --tables
    archon_prompts,archon_settings --yes --json` rejects the 6 conflicting records (default
    policy reject) and exits 1, correctly.

    The operator then re-runs the very same command (the usual reaction in a script or after an
    SSH drop). The tool said: both tables `resumed`, "committed by an earlier run (0 inserted,
    0 duplicates, 0 rejected); nothing inserted now", "public.archon_settings: 0 rejected rows in
    .../public.archon_settings.csv" (a file holding 3 rejected conflicts), `OK`, exit 0 and
    `"ok": true`. For archon_prompts csv_rows 3 = inserted 0 + duplicates 0 + conflicts 0 +
    rejected 0 + previously 0: the equation no longer adds up, and the 6 records that are NOT in
    the target disappeared from the numbers. A script doing `load ... && echo done` now
    believes the cutover succeeded (validate alone stays red).

    Needed: a resumed table carries its earlier conflicts (previously_conflicts /
    conflicts_rejected) so the numbers add up, and the run stays `Not OK`, exit 1, until the
    operator decides (keep-target / take-export / accept).

    Suspected cause: aria_tui/load/resume.py:resumed_result copies only inserted / duplicates /
    rejected totals from the commit records (no conflicts, conflicts_rejected, updated), and
    aria_tui/load/model.py:TableResult.ok then sees nothing wrong. Fix: carry every counter of
    the commit records into the resumed result (previously_conflicts, previously_updated,
    conflicts_rejected) and include them in `ok` and in the sentence.
    """
    rt.init(empty_db.conninfo, rt.ARCHON_INIT)
    args = ("load", archon_export, "--dsn", empty_db.conninfo, "--profile", "archon",
            "--tables", "archon_prompts,archon_settings", "--yes", "--json")
    first_code, first = run_json(cli, *args)
    assert first_code == 1 and sum(t["conflicts"] for t in first["tables"]) == 6, first["tables"]

    again_code, again = run_json(cli, *args)
    bad = [(t["target"], t["status"], t["csv_rows"], t["inserted"], t["conflicts"],
            t.get("previously_inserted")) for t in again["tables"] if not adds_up(t)]
    assert not bad, f"re-run numbers do not add up: {bad}"
    assert again_code == 1 and not again["ok"], (
        f"re-run exit {again_code}, ok={again['ok']}: the 6 rejected conflicts are still not in "
        "the target"
    )


# --------------------------------------------------------------------------------------------
# blocks with no way forward
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# differences the plan does not record / wrong numbers and sentences
# --------------------------------------------------------------------------------------------


def test_the_plan_records_nothing_about_enum_and_integer_values_the_load_will_reject(
    empty_db, cli, tmp_path
):
    """Setup: the Aria v4 target of the init scripts: goals.status is an enum
    aria_data.goal_status ('pending','active','completed','cancelled') and
    aria_engine.scheduled_jobs.created_at_ms / updated_at_ms are INTEGER (the ORM's Integer of
    seed 003). The export holds 34 goals with status 'blocked' and epoch milliseconds
    (1769817900000) in all 7 scheduled_jobs records.

    The tool said: `plan --tables goals,scheduled_jobs` -> "Plan written ... (2 tables, 0 not
    loadable)", exit 0, `decisions: []`, and the plan file mentions neither the enum nor the
    out-of-range values (scan only says "line 11 status: invalid input value for enum" with no
    count, while 34 records are affected). The reviewed plan then rejects 41 records at load.
    Every difference should be an explicit, recorded decision: here the operator signs a plan
    that silently chooses "reject 34 goals and every scheduled job".

    Needed: the plan lists each column with values the target type refuses (with the count of
    records and the way forward: `widen[:TYPE]`, or accept the rejects), and `plan` exits 1 /
    counts such tables like the other undecided ones.

    Suspected cause: aria_tui/cli/plan_cmd.py / aria_tui/load/plan.py write decisions only for
    extra/missing columns and explicit --decide's; the Diff's type_issues (value kind) never
    reach the plan. Fix: turn every type issue into a pending decision in the plan (default
    `reject`, written with its count), and report the real count of affected records in scan.
    """
    rt.init(empty_db.conninfo, rt.ARIA_V4_INIT)
    code, out, err = cli("plan", ARIA_EXPORT, "--dsn", empty_db.conninfo,
                         "--tables", "goals,scheduled_jobs", "--out", tmp_path / "cutover.toml")
    assert "Traceback" not in err + out, err
    text = (tmp_path / "cutover.toml").read_text()
    lcode, loaded = run_json(cli, "load", ARIA_EXPORT, "--dsn", empty_db.conninfo,
                             "--plan", tmp_path / "cutover.toml", "--dry-run", "--yes", "--json")
    rejected = {t["target"]: t["rejected"] for t in loaded["tables"]}
    assert rejected == {"aria_data.goals": 34, "aria_engine.scheduled_jobs": 7}, rejected
    # the column names appear in the mapping anyway: look for the differences themselves
    missing = [w for w in ("goal_status", "out of range") if w not in text]
    assert not missing, (
        f"plan exit {code} ({(out + err).strip()}) says nothing about {missing}; the dry run of "
        f"the same plan rejects {rejected}"
    )


def test_validate_after_a_keep_target_load_lists_the_decision_but_ignores_it_without_a_hint(
    empty_db, cli, tmp_path, archon_export
):
    """Setup: the Archon target (seeded archon_prompts / archon_settings). The operator loads
    with `--on-conflict keep-target` (exit 0, conflicts_kept 6) and runs `validate` the way the
    README's scripted cutover shows it (no --on-conflict).

    The tool said: FAIL, "6 records of the export differ from the target", each "found ... only
    through another unique key", and at the same time "Decided for public.archon_prompts:
    conflict policy keep-target" - a decision it lists and ignores, without saying that
    `validate --on-conflict keep-target` (or `--plan`) is what makes it count. Even the green
    run's presence check says "all 78 records found by id" for archon_settings, when 3 of them
    are found only by `key` under another id (kept target rows).

    Needed: when the load's journal says keep-target and the caller did not, the headline names
    the way forward ("... kept by the load's keep-target: validate with --on-conflict
    keep-target or the plan file to accept them"), and presence counts what it really found by
    id.

    Suspected cause: aria_tui/validate/table.py (decisions listed from the journal while
    `decided_by.keeps()` is false, no hint) and aria_tui/validate/checks/presence.py (the
    success sentence uses s.loadable, not the records found by the primary key). Fix: a hint
    sentence like the load_accepted one in presence(); count other_key records apart.
    """
    rt.init(empty_db.conninfo, rt.ARCHON_INIT)
    common = ("--dsn", empty_db.conninfo, "--profile", "archon",
              "--tables", "archon_prompts,archon_settings")
    lcode, loaded = run_json(cli, "load", archon_export, *common, "--on-conflict", "keep-target",
                             "--yes", "--json")
    assert lcode == 0 and sum(t["conflicts_kept"] for t in loaded["tables"]) == 6
    code, out, err = cli("validate", archon_export, *common, "--report-dir", tmp_path / "r1")
    assert "Traceback" not in err + out, err
    assert code == 1
    assert "--on-conflict keep-target" in out + err or "--plan" in out + err, (
        f"red without a way forward:\n{out}{err}"
    )
    gcode, green = run_json(cli, "validate", archon_export, *common, "--on-conflict",
                            "keep-target", "--report-dir", tmp_path / "r2", "--json")
    assert gcode == 0, green["headline"]
    (settings,) = [t for t in green["tables"] if t["target"] == "public.archon_settings"]
    presence = [c["detail"] for c in settings["checks"] if c["name"] == "presence"][0]
    assert "all 78 records found by id" not in presence, presence


def test_validate_after_a_load_with_a_rename_points_to_a_flag_validate_refuses(
    empty_db, cli, tmp_path
):
    """Setup: the Aria v4 target of the init scripts: knowledge_relations has the old SQL's
    from_entity_id / to_entity_id (seed 003 DRIFT), the export from_entity / to_entity. The
    operator follows the scan's own sentence: `load --decide
    aria_data.knowledge_relations.from_entity=rename:from_entity_id --decide ...to_entity=
    rename:to_entity_id` (knowledge_entities loaded the same way first). The load inserts all
    records, exit 0.

    Then `validate EXPORT --tables knowledge_entities,knowledge_relations` says the files "could
    not be checked", "... (it may be from_entity_id: accept with --decide
    aria_data.knowledge_relations.from_entity=rename:from_entity_id) ...", exit 1. Doing exactly
    that - `validate ... --decide ...` - ends in "aria-tui validate: error: unrecognized
    arguments: --decide ...", exit 2. The load's journal in the target records the decision,
    yet validate neither uses it nor names the way that works (write a plan with `aria-tui plan
    --decide ...` and pass `--plan`).

    Needed: validate accepts the same --decide as load/plan (they are "data that load, plan and
    validate share"), or its sentence names `--plan` instead of a flag it refuses.

    Suspected cause: aria_tui/cli/validate_cmd.py (no --decide option) while the blocker sentence
    comes unchanged from aria_tui/scan/verdict.py. Fix: add --decide to validate (same parser as
    load_cmd), or rewrite the hint for validate.
    """
    rt.init(empty_db.conninfo, rt.ARIA_V4_INIT)
    decide = ("--decide", "aria_data.knowledge_entities.type=rename:entity_type",
              "--decide", "aria_data.knowledge_relations.from_entity=rename:from_entity_id",
              "--decide", "aria_data.knowledge_relations.to_entity=rename:to_entity_id")
    tables = ("--tables", "knowledge_entities,knowledge_relations")
    lcode, loaded = run_json(cli, "load", ARIA_EXPORT, "--dsn", empty_db.conninfo, *tables,
                             *decide, "--yes", "--json")
    assert lcode == 0 and loaded["totals"]["inserted"] == 37, loaded["totals"]
    vcode, out, err = cli("validate", ARIA_EXPORT, "--dsn", empty_db.conninfo, *tables,
                          "--report-dir", tmp_path / "r")
    assert vcode == 1
    if "--decide" in out + err:
        try:
            code2, _, err2 = cli("validate", ARIA_EXPORT, "--dsn", empty_db.conninfo, *tables,
                                 *decide, "--report-dir", tmp_path / "r2")
        except SystemExit as exc:  # argparse: "unrecognized arguments: --decide ..."
            code2, err2 = exc.code, "unrecognized arguments"
        assert code2 != 2, f"validate named --decide as the way forward, then refused it: {err2}"


def test_a_target_only_not_null_column_blocks_the_table_without_any_decision_to_offer(
    empty_db, cli, tmp_path
):
    """Setup: the Aria v4 target, whose v4 init script gave working_memory a new column
    `agent_id VARCHAR(100) NOT NULL` (multi-agent v4; no default). The v3 export has no such
    column. working_memory is HIGH (seed 000 §3.1).

    The tool said (scan, plan, load): "Target column aria_data.working_memory.agent_id is NOT
    NULL without a default and the file has no such column." - and nothing else: unlike every
    other blocker it names no `--decide` action, and none of add/drop/widen/rename applies. The
    HIGH table stays blocked, the run and the proof red, with no way forward inside the tool.

    Needed: a decision to fill the column (e.g. `--decide
    aria_data.working_memory.agent_id=fill:'main'` / `=default:EXPR`, shown as DDL or as a
    constant in the COPY column list, recorded in the plan and quoted by the report), or at least
    a sentence saying what the operator can do.

    Suspected cause: aria_tui/scan/verdict.py (the BY_NONE blocker has no hint) and
    aria_tui/load/decisions.py (no action for a target-only column). Fix: add a `fill[:VALUE]`
    action for target columns the file lacks, validated with pg_input_is_valid, recorded in the
    plan and the certificate.
    """
    rt.init(empty_db.conninfo, rt.ARIA_V4_INIT)
    sql(empty_db, "ALTER TABLE aria_data.working_memory ADD COLUMN agent_id VARCHAR(100) NOT NULL")
    code, scanned = run_json(cli, "scan", ARIA_EXPORT, "--dsn", empty_db.conninfo, "--json")
    (t,) = [t for t in scanned["tables"] if t["file"] == "working_memory.csv"]
    sentences = [b["sentence"] for b in t["diff"]["blockers"]]
    assert sentences, t["diff"]
    assert any("--decide" in s for s in sentences), (
        f"blocked HIGH table with no way forward: {sentences}"
    )
