"""Issue 17's start-up budget, guarded by what a process imports and reads, never by a clock:
a command imports only what it uses, and the scan a load runs first reads each file it streams
once (the load reads it again, in full, anyway)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from hostile import CASES

from aria_tui.errors import AriaError
from aria_tui.load.prescan import scan_for_load
from aria_tui.scan import scan
from aria_tui.selection import Selection

# what no headless command may pay for: the wizard, Rich's live display, the sample generators
NEVER_HEADLESS = ("textual", "aria_tui.ui", "aria_tui.sample")

_SPY = """
import atexit, json, os, runpy, sys
atexit.register(lambda: open(os.environ["SPY_OUT"], "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["aria-tui", *sys.argv[1:]]
runpy.run_module("aria_tui", run_name="__main__")
"""


def modules_of(tmp_path: Path, *argv: str) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The modules a fresh `python -m aria_tui ARGV` had imported when it exited."""
    out = tmp_path / f"modules-{len(list(tmp_path.glob('modules-*')))}.json"
    done = subprocess.run(
        [sys.executable, "-c", _SPY, *argv],
        env={**os.environ, "SPY_OUT": str(out)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return set(json.loads(out.read_text())), done


def loaded(modules: set[str], *names: str) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def test_help_imports_neither_psycopg_nor_polars_nor_the_loader(tmp_path):
    top, done = modules_of(tmp_path, "--help")
    assert done.returncode == 0 and "load" in done.stdout
    assert not loaded(top, "psycopg", "polars", "rich", *NEVER_HEADLESS)
    load_help, done = modules_of(tmp_path, "load", "--help")
    assert done.returncode == 0 and "--jobs" in done.stdout
    assert not loaded(
        load_help, "polars", "rich", "aria_tui.load.run", "aria_tui.scan", *NEVER_HEADLESS
    )
    for command in ("scan", "validate"):
        help_modules, done = modules_of(tmp_path, command, "--help")
        assert done.returncode == 0 and "--dsn" in done.stdout
        assert not loaded(
            help_modules, "polars", "rich", "aria_tui.scan.scanner", "aria_tui.validate.runner"
        )
    # the spy sees what a command does import: `sample --help` needs the generators it lists
    # (and no database driver)
    sample_help, done = modules_of(tmp_path, "sample", "--help")
    assert done.returncode == 0 and loaded(sample_help, "aria_tui.sample")
    assert not loaded(sample_help, "psycopg", "polars")


def test_a_json_load_imports_only_what_loading_a_plain_table_uses(empty_db, tmp_path):
    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        # timestamptz and numeric: the columns a value could silently change in (scan/losses.py)
        conn.execute(
            "CREATE TABLE public.items (id int PRIMARY KEY, name text, at timestamptz, "
            "cost numeric(10,6))"
        )
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "items.csv").write_text(
        "id,name,at,cost\n1,a,2024-01-01 10:00:00.123456+00,1.000001\n"
        '2,"b, quoted",2024-01-01 10:00:00.1230000+00,2.5000000\n3,,,\n'
    )
    modules, done = modules_of(
        tmp_path,
        "load",
        str(folder),
        "--dsn",
        empty_db.conninfo,
        "--profile",
        "none",
        "--yes",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [(t["target"], t["inserted"], t["path"]) for t in result["tables"]] == [
        ("public.items", 3, "fast")
    ]
    # the same process did load: the loader and psycopg are there; polars (a raw COPY reads no
    # value, and a search of the file's bytes proved no timestamp or numeric of it loses a digit,
    # so the scan read none either), Rich's display and the decisions (none were asked for) are not, nor the wizard
    assert loaded(modules, "aria_tui.load.run") and loaded(modules, "psycopg")
    assert not loaded(
        modules,
        "polars",
        "rich",
        "aria_tui.load.decisions",
        "aria_tui.load.differences",
        "aria_tui.load.export_values",
        "aria_tui.load.cutover",
        *NEVER_HEADLESS,
    )
    # a vector table whose other columns the C reader encodes (integers, text, jsonb, uuid,
    # timestamps, float8, bool) does not either; one with a date column (encoded by polars)
    # does, in the same kind of run: the check above can see polars when it is there
    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.vecs (id int PRIMARY KEY, w float8, ok bool, emb vector(2))")
        conn.execute("CREATE TABLE public.dated (id int PRIMARY KEY, d date, emb vector(2))")
    (folder / "vecs.csv").write_text('id,w,ok,emb\n1,0.5,t,"[1,2]"\n')
    (folder / "dated.csv").write_text('id,d,emb\n1,2026-01-02,"[1,2]"\n')
    for table, polars in (("vecs", False), ("dated", True)):
        modules, done = modules_of(
            tmp_path, "load", str(folder), "--dsn", empty_db.conninfo, "--profile", "none",
            "--tables", table, "--yes", "--json",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["tables"][0]["inserted"] == 1
        assert json.loads(done.stdout)["tables"][0]["path"] == "binary"
        assert bool(loaded(modules, "polars")) == polars, table


def test_the_load_blocks_a_value_that_loses_a_digit_anywhere_in_the_file(empty_db, tmp_path):
    """The byte search that spares the load's scan from parsing values must not spare a value
    that would lose a digit: one seventh fractional digit of seconds, past every head a sample
    reads, still blocks the file, and a numeric with one digit too many does too."""
    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.ev (id int PRIMARY KEY, at timestamptz)")
        conn.execute("CREATE TABLE public.costs (id int PRIMARY KEY, c numeric(10,6))")
    folder = tmp_path / "export"
    folder.mkdir()
    fine = "".join(f"{i},2024-01-01 10:00:00.123456+00\n" for i in range(5000))
    (folder / "ev.csv").write_text(f"id,at\n{fine}5000,2024-01-01 10:00:00.1234567+00\n")
    costs = "".join(f"{i},1.000001\n" for i in range(5000))
    (folder / "costs.csv").write_text(f"id,c\n{costs}5000,1.0000001\n")
    with psycopg.connect(empty_db.conninfo) as conn:
        inv = scan_for_load(folder, conn, None, target_display="t", selection=Selection())
    ev, cost = inv.table("ev"), inv.table("costs")
    assert ev.status == "blocked" and "round its seconds to 6 decimal places" in ev.diff.reason
    assert "line 5002" in ev.diff.reason, ev.diff.reason
    assert cost.status == "blocked" and "round it to 6 decimal places" in cost.diff.reason


def test_the_scan_before_a_load_reads_a_streamed_file_once(empty_db, tmp_path, monkeypatch):
    """The load's scan counts a small file in the pass that checks its structure: no count
    before it. The wizard's scan still counts first (its value sample is spread over the rows),
    and a file refused whole still has its records counted."""
    from aria_tui import csvio

    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.items (id int PRIMARY KEY, name text)")
        conn.execute("CREATE TABLE public.latin (id int PRIMARY KEY, name text)")
    folder = tmp_path / "export"
    folder.mkdir()
    rows = "".join(f'{i},"line {i}\nwith a newline"\n' for i in range(2500))
    (folder / "items.csv").write_text("id,name\n" + rows)
    (folder / "latin.csv").write_bytes(
        b"id,name\n" + b"".join(b"%d,caf\xe9\n" % i for i in range(10))
    )
    counted: list[str] = []
    count = csvio.count_records

    def spy(path: Path, flat: bool = False) -> int:
        counted.append(Path(path).name)
        return count(path, flat)

    monkeypatch.setattr(csvio, "count_records", spy)
    with psycopg.connect(empty_db.conninfo) as conn:
        for_load = scan_for_load(folder, conn, None, target_display="t", selection=Selection())
        assert counted == ["latin.csv"]  # only the file refused whole, after its pass
        counted.clear()
        full = scan(folder, conn, "none")
    assert sorted(counted) == ["items.csv", "latin.csv"]
    items, latin = for_load.table("items"), for_load.table("latin")
    assert (items.rows, items.rows_estimated, items.problem) == (2500, False, None)
    assert items.rows == full.table("items").rows
    assert latin.problem is not None and "not UTF-8" in latin.problem.reason
    assert latin.rows == full.table("latin").rows == 10
    assert latin.status == full.table("latin").status == "blocked"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_structure_pass_reads_what_the_polars_stream_reads(case, tmp_path, monkeypatch):
    """csvio.read_structure (the C reader, no polars) against iter_batches (polars, the exact
    parser behind it) on every hostile file: the same records, the same bad ones at the same
    lines; without the C reader it steps aside (the scan streams with polars then)."""
    from aria_tui import csvio
    from aria_tui.csvio import native

    for name, data in case.files().items():
        path = tmp_path / name
        path.write_bytes(data)
        header = csvio.read_header(path)
        if isinstance(header, csvio.CsvProblem):
            continue  # refused before any record is read, by both
        try:
            batches = list(csvio.iter_batches(path, header, 1000, [header.columns[0]]))
        except AriaError as exc:
            with pytest.raises(AriaError) as raised:
                csvio.read_structure(path, header)
            assert type(raised.value) is type(exc)
            continue
        got = csvio.read_structure(path, header)
        assert got is not None
        assert got.records == sum(b.frame.height + len(b.bad) for b in batches), name
        bad = [x for b in batches for x in b.bad]
        assert [(x.line, x.last_line, x.kind, x.reason) for x in got.bad] == [
            (x.line, x.last_line, x.kind, x.reason) for x in bad
        ], name
    monkeypatch.setattr(native, "_MODULE", None)
    assert csvio.read_structure(tmp_path / name, header) is None


def test_the_load_scan_of_a_small_file_reads_its_head_and_the_load_every_record(
    empty_db, tmp_path, monkeypatch, cli
):
    """A file whose values the plan needs none of is not streamed whole before its load, small
    or large: the head (2,000 records) gives its structure and an estimate, and the load, which
    reads every record anyway, still finds and rejects alone a broken record past that head."""
    from aria_tui import csvio
    from aria_tui.scan import sample

    monkeypatch.setattr(sample, "HEAD_BLOCK", 4096)  # the head ends inside this small file
    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.items (id int PRIMARY KEY, name text)")
    folder = tmp_path / "export"
    folder.mkdir()
    rows = "".join(f"{i},name {i}\n" for i in range(1, 4001))
    (folder / "items.csv").write_text(f"id,name\n{rows}4001\n4002,last\n")  # 4001: one field
    streamed: list[str] = []
    real = csvio.read_structure

    def spy(path, *a, **k):
        streamed.append(Path(path).name)
        return real(path, *a, **k)

    monkeypatch.setattr(csvio, "read_structure", spy)
    with psycopg.connect(empty_db.conninfo) as conn:
        inv = scan_for_load(folder, conn, None, target_display="t", selection=Selection())
    items = inv.table("items")
    assert streamed == [] and items.problem is None and items.status != "blocked"
    assert items.rows_estimated and 3000 < items.rows < 5000, items.rows
    # `plan`, whose file the operator reviews before any load, samples the values (and so
    # reads this small file whole): its count is PostgreSQL's, not the head's estimate
    out = tmp_path / "cutover.toml"
    code, _, err = cli("plan", folder, "--dsn", empty_db.conninfo, "--profile", "none", "--out", out)
    assert code == 0, err
    assert "items.csv -> public.items: 4002 records" in out.read_text()

    from loadkit import load

    result = load(empty_db, folder)
    (t,) = result.tables
    assert (t.csv_rows, t.inserted, t.rejected) == (4002, 4001, 1), t.to_json()
