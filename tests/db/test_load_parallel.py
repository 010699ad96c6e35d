"""`--jobs N` (issue 17): independent tables side by side, a parent committed before its children
start, the same rows and counts as a serial run."""

from __future__ import annotations

import json

import pytest
from loadkit import plan_for, query, sql, write

from aria_tui.load import TableFinished, TableStarted, run_plan
from aria_tui.load.parallel import levels, priorities
from aria_tui.load.run import transaction_units


def _export(db, folder):
    sql(
        db,
        "CREATE TABLE a (id int PRIMARY KEY)",
        "CREATE TABLE b (id int PRIMARY KEY, note text)",
        "CREATE TABLE c (id int PRIMARY KEY, a_id int REFERENCES a (id))",
        "CREATE TABLE d (id int PRIMARY KEY, c_id int REFERENCES c (id), b_id int REFERENCES b (id))",
        "CREATE INDEX d_b ON d (b_id)",
        "CREATE TABLE e (id int PRIMARY KEY, v text)",
    )
    n = 300
    write(folder, "a.csv", "id\n" + "".join(f"{i}\n" for i in range(n)))
    write(folder, "b.csv", "id,note\n" + "".join(f"{i},n{i}\n" for i in range(n)))
    write(folder, "c.csv", "id,a_id\n" + "".join(f"{i},{i}\n" for i in range(n)))
    # one bad reference: rejected with its line, as in a serial run
    write(
        folder,
        "d.csv",
        "id,c_id,b_id\n" + "".join(f"{i},{i},{i}\n" for i in range(n - 1)) + f"{n},{n + 5},1\n",
    )
    write(folder, "e.csv", "id,v\n" + "".join(f"{i},x\n" for i in range(n)))


def test_fk_levels_of_the_plan(empty_db, tmp_path):
    _export(empty_db, tmp_path)
    plan = plan_for(empty_db, tmp_path)
    units = transaction_units(plan.tables)
    lv = {u[0].target: level for u, level in zip(units, levels(units), strict=True)}
    assert lv == {"public.a": 0, "public.b": 0, "public.e": 0, "public.c": 1, "public.d": 2}


def test_the_longest_chain_and_the_biggest_file_start_first(empty_db, tmp_path):
    """List scheduling by critical path: a unit's rank is its cost plus its costliest chain of
    children, so a chain of small tables (a -> c -> d) outranks a lone table of similar size,
    and a big lone file outranks them all; the run's first picks follow the ranks."""
    _export(empty_db, tmp_path)
    write(tmp_path, "e.csv", "id,v\n" + "".join(f"{i},{'x' * 200}\n" for i in range(20_000)))
    plan = plan_for(empty_db, tmp_path)
    units = transaction_units(plan.tables)
    rank = {u[0].target: r for u, r in zip(units, priorities(units), strict=True)}
    assert rank["public.e"] > rank["public.a"] > rank["public.c"] > rank["public.d"]
    assert rank["public.a"] > rank["public.b"]  # same size, but c and d wait on a
    events: list = []
    run_plan(empty_db, plan, jobs=2, on_event=events.append)
    started = [e.target for e in events if isinstance(e, TableStarted)]
    assert set(started[:2]) == {"public.e", "public.a"}, started


def test_parallel_load_equals_the_serial_one_and_parents_commit_first(
    empty_db, templates, tmp_path
):
    _export(empty_db, tmp_path)
    plan = plan_for(empty_db, tmp_path)
    events: list = []
    result = run_plan(empty_db, plan, jobs=3, on_event=events.append)
    assert result.jobs == 3
    by = {t.target: t for t in result.tables}
    assert [t.target for t in result.tables] == [tp.target for tp in plan.tables]
    for t in result.tables:
        assert t.status == "loaded", t
        assert t.csv_rows == t.inserted + t.duplicates + t.rejected
    assert by["public.d"].rejected == 1 and by["public.d"].inserted == 299
    # a child starts only after every table it references has finished (committed)
    seen: list[tuple[str, str]] = [
        ("start", e.target) if isinstance(e, TableStarted) else ("end", e.result.target)
        for e in events
        if isinstance(e, (TableStarted, TableFinished))
    ]
    pos = {ev: i for i, ev in enumerate(seen)}
    for child, parents in {"public.c": ["public.a"], "public.d": ["public.c", "public.b"]}.items():
        for parent in parents:
            assert pos[("end", parent)] < pos[("start", child)], seen
    assert query(empty_db, "SELECT count(*) FROM d") == [(299,)]
    # a re-run at any --jobs resumes every table and changes nothing
    again = run_plan(empty_db, plan_for(empty_db, tmp_path), jobs=2)
    assert {t.status for t in again.tables} == {"resumed"}


def test_cli_jobs(empty_db, tmp_path, cli):
    _export(empty_db, tmp_path)
    code, out, err = cli("load", tmp_path, "--dsn", empty_db.conninfo, "--yes", "--json", "--jobs", "2")
    assert code == 1, err  # one rejected row
    data = json.loads(out)
    assert data["jobs"] == 2
    assert sum(t["inserted"] for t in data["tables"]) == 5 * 300 - 1
    with pytest.raises(SystemExit) as exc:
        cli("load", tmp_path, "--dsn", empty_db.conninfo, "--jobs", "-1")
    assert exc.value.code == 2


def test_jobs_one_is_serial(empty_db, tmp_path):
    _export(empty_db, tmp_path)
    result = run_plan(empty_db, plan_for(empty_db, tmp_path), jobs=1)
    assert result.jobs == 1 and all(t.status == "loaded" for t in result.tables)
