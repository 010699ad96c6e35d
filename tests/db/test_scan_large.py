"""The scan of a large file (above csvio.LARGE_BYTES): counted in flat memory, sampled, not read
record by record, with every line number still true; files with extra columns still read whole."""

from __future__ import annotations

import pytest
from loadkit import connect_with

import aria_tui.csvio as csvio
from aria_tui.csvio import cutter, records
from aria_tui.scan import scan
from aria_tui.scan.sample import SAMPLED_NOTE

DDL = """
CREATE TABLE items (
    id    integer PRIMARY KEY,
    name  text NOT NULL,
    data  jsonb,
    emb   vector(3)
);
"""


@pytest.fixture
def conn(empty_db):
    with connect_with(empty_db, DDL) as c:
        yield c


@pytest.fixture
def large(monkeypatch):
    """Every file counts as large, and blocks are small, so a test file has many of them."""
    monkeypatch.setattr(csvio, "LARGE_BYTES", 0)
    monkeypatch.setattr(records, "COUNT_BLOCK_BYTES", 4000)
    monkeypatch.setattr(cutter, "BLOCK_BYTES", 1500)


def _file(path, n: int, bad_every: int) -> dict[tuple[int, str], str]:
    """n records, each third spanning three lines; every bad_every-th has bad JSON. Returns the
    true (line, value) of each bad value."""
    lines, bad, line = ["id,name,data,emb"], {}, 2
    for i in range(1, n + 1):
        name = f'"multi\nline\n{i}"' if i % 3 == 0 else f"n{i}"
        data = "{bad" + str(i) if i % bad_every == 0 else '"{""k"": 1}"'
        if i % bad_every == 0:
            bad[(line, "{bad" + str(i))] = "data"
        lines.append(f'{i},{name},{data},"[{i},0,1]"')
        line += 3 if i % 3 == 0 else 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return bad


def test_large_file_is_counted_and_sampled_with_true_lines(tmp_path, conn, large):
    bad = _file(tmp_path / "items.csv", 3000, 7)
    t = scan(tmp_path, conn, "none").table("items")
    assert t.rows == 3000
    assert SAMPLED_NOTE in t.diff.notes
    assert t.diff.status == "drift"
    assert t.diff.type_issues  # the head alone holds some
    for issue in t.diff.type_issues:
        assert (issue.line, issue.value) in bad, issue
    # the sample is the head and a spread, not the whole file
    assert 2000 <= t.diff.sampled_rows < 3000


def test_large_file_with_an_extra_column_is_read_whole(tmp_path, conn, large):
    lines = ["id,name,category"] + [f"{i},n{i}," for i in range(1, 5000)] + ["5000,last,work"]
    (tmp_path / "items.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    t = scan(tmp_path, conn, "none").table("items")
    assert t.rows == 5000
    assert SAMPLED_NOTE not in t.diff.notes  # only a full read can say a column is all empty
    (extra,) = t.diff.extra_columns
    assert (extra.all_empty, extra.first_value_line) == (False, 5001)
    assert t.diff.status == "blocked"


def test_large_file_broken_in_its_head_notes_the_record_with_its_line(tmp_path, conn, large):
    """A record COPY refuses is not a blocked file (issue 16): the scan names it, the load will
    reject it alone."""
    body = "".join(f'{i},n{i},,"[1,2,3]"\n' for i in range(1, 400))
    (tmp_path / "items.csv").write_text("id,name,data,emb\n" + body + "400,short\n" + body)
    t = scan(tmp_path, conn, "none").table("items")
    assert t.diff.status != "blocked" and t.problem is None
    note = " ".join(t.diff.notes)
    assert "1 records in the records sampled cannot be read" in note and "line 401" in note, note
    assert "row has 2 fields" in note
    assert t.rows == 799


def test_large_file_without_target_is_counted_flat(tmp_path, conn, large, monkeypatch):
    (tmp_path / "nothing_like_it.csv").write_text('a,b\n1,"x\ny"\n2,z\n', encoding="utf-8")
    real = records.pl.scan_csv

    def scan_csv(source, *a, **k):  # polars maps a file it is given by name: not a large one
        assert isinstance(source, bytes), "large file counted by mapping it"
        return real(source, *a, **k)

    monkeypatch.setattr(records.pl, "scan_csv", scan_csv)
    t = scan(tmp_path, conn, "none").table("nothing_like_it")
    assert t.diff.status == "no_target"
    assert t.rows == 2


# -- the scan a load runs first (count_large=False): only the head, and polars only if needed ----

STAMPED = "CREATE TABLE IF NOT EXISTS stamped (id integer PRIMARY KEY, at timestamptz, note text)"


def _stamped(path, n: int, at: str = "2024-01-01 10:00:00.123456+00", late: str | None = None):
    body = "".join(f'{i},{at},"note\n{i}"\n' for i in range(1, n + 1))
    path.write_text("id,at,note\n" + body + (f"{n + 1},{late},x\n" if late else ""), encoding="utf-8")


def _for_load(folder, db):
    from aria_tui.load.prescan import scan_for_load
    from aria_tui.selection import Selection

    with connect_with(db, STAMPED) as c:
        return scan_for_load(folder, c, None, target_display="t", selection=Selection()).table(
            "stamped"
        )


@pytest.fixture
def no_survey(monkeypatch):
    """The polars survey of the head fails the test if it runs."""

    def survey(*a, **k):
        raise AssertionError("the head was surveyed with polars")

    monkeypatch.setattr(csvio, "Survey", survey)


def test_the_load_scan_of_a_clean_large_file_estimates_from_the_head_without_polars(
    tmp_path, empty_db, large, no_survey, monkeypatch
):
    from aria_tui.scan import sample

    _stamped(tmp_path / "stamped.csv", 3000)
    whole = _for_load(tmp_path, empty_db)  # the head block holds the whole file: counted
    assert (whole.rows, whole.rows_estimated, whole.diff.status) == (3000, False, "match")
    monkeypatch.setattr(sample, "HEAD_BYTES", 20_000)  # the head ends here, in blocks of
    monkeypatch.setattr(sample, "HEAD_BLOCK", 4_000)
    t = _for_load(tmp_path, empty_db)
    assert t.rows_estimated and t.diff.status == "match" and t.problem is None
    assert 2700 <= t.rows <= 3300, t.rows
    assert sample.HEAD_NOTE in t.diff.notes


def test_the_load_scan_still_blocks_a_lossy_value_in_the_head_of_a_large_file(
    tmp_path, empty_db, large
):
    _stamped(tmp_path / "stamped.csv", 100, late="2024-01-01 10:00:00.1234567+00")
    t = _for_load(tmp_path, empty_db)
    assert t.diff.status == "blocked" and "round its seconds to 6 decimal places" in t.diff.reason


def test_the_load_scan_of_a_large_file_broken_in_its_head_names_the_record(
    tmp_path, empty_db, large
):
    """The C reader does not vouch for a head holding a record COPY refuses: the survey reads
    it and names it, as before."""
    body = "".join(f"{i},2024-01-01 10:00:00+00,n{i}\n" for i in range(1, 400))
    (tmp_path / "stamped.csv").write_text("id,at,note\n" + body + "400,short\n" + body)
    t = _for_load(tmp_path, empty_db)
    assert t.problem is None and t.diff.status != "blocked"
    note = " ".join(t.diff.notes)
    assert "line 401" in note and "row has 2 fields" in note, note
