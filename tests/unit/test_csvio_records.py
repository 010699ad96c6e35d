"""csvio.count_records / check_structure / iter_batches on small files with exact expectations.

Every expectation here was checked against PostgreSQL's own COPY ... (FORMAT csv, HEADER true);
db/test_csvio_postgres.py re-checks the cases of tests/csvcases.py against the live server.
"""

from __future__ import annotations

import csv
import gzip
import io
import random
from pathlib import Path

import polars as pl
import pytest
from csvcases import BAD, GOOD

from aria_tui.csvio import (
    CsvProblem,
    Header,
    check_structure,
    count_records,
    cutter,
    iter_batches,
    read_header,
)
from aria_tui.errors import ExportError


def write(tmp_path: Path, data: bytes, name: str = "t.csv") -> Path:
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def header_of(path: Path) -> Header:
    h = read_header(path)
    assert isinstance(h, Header), h
    return h


def read_all(path: Path, **kw) -> tuple[list[tuple], list[int]]:
    rows: list[tuple] = []
    lines: list[int] = []
    for b in iter_batches(path, header_of(path), **kw):
        assert all(dt == pl.String for dt in b.frame.dtypes)
        assert b.lines.dtype == pl.Int64
        assert len(b.lines) == b.frame.height
        rows += b.frame.rows()
        lines += b.lines.to_list()
    return rows, lines


# ----------------------------------------------------------------------- good files, read right

@pytest.mark.parametrize("name", sorted(GOOD))
@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
def test_good_files(tmp_path: Path, name: str, gz: bool) -> None:
    data, rows, lines = GOOD[name]
    path = write(tmp_path, data, f"{name}.csv.gz" if gz else f"{name}.csv")
    assert count_records(path) == len(rows)
    assert check_structure(path, header_of(path)) is None
    assert read_all(path) == (rows, lines)
    assert read_all(path, batch_rows=1) == (rows, lines)


def test_zero_byte_file_counts_zero(tmp_path: Path) -> None:
    assert count_records(write(tmp_path, b"")) == 0


# ----------------------------------------------------------------------- problems, first one wins

@pytest.mark.parametrize("name", sorted(BAD))
def test_structure_problems(tmp_path: Path, name: str) -> None:
    """check_structure names the first problem; the batches read on past it, listing each
    record COPY would refuse (to be rejected alone), and every record is counted once."""
    data, problem = BAD[name]
    path = write(tmp_path, data)
    assert check_structure(path, header_of(path)) == problem
    bad = [b for batch in iter_batches(path, header_of(path)) for b in batch.bad]
    assert bad, name
    first = bad[0]
    assert first.line <= problem.line <= first.last_line, (first, problem)
    assert first.reason.startswith(problem.reason), (first, problem)
    if first.line == first.last_line and first.kind != "terminator":
        assert first.raw == data[header_of(path).bytes :].split(b"\n")[first.line - 2]
    rows, _ = read_all(path)
    # the block count (the scan of a large file) is COPY's; polars' whole-file count misses a
    # record left open at the end, which the scan's streaming of a small file counts
    assert len(rows) + len(bad) == count_records(path, flat=True), (rows, bad)


def test_problem_in_gz_names_the_gz_file(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b\n1,2\n3\n", "t.csv.gz")
    assert check_structure(path, header_of(path)) == CsvProblem(
        "t.csv.gz", 3, "b", "row has 1 field, header has 2"
    )


def test_truncated_gz_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    body = b"a,b\n" + b"".join(b"%d,row %d\n" % (i, i) for i in range(20000))
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(gzip.compress(body)[:-200])
    header = header_of(path)
    problem = check_structure(path, header)
    assert problem is not None
    assert problem.sentence() == (
        "cut.csv.gz: cannot be read (the gzip stream ends early: the file is truncated)."
    )
    with pytest.raises(ExportError, match="truncated"):
        read_all(path)


# ----------------------------------------------------------------------- batches


def test_columns_subset_keeps_line_numbers(tmp_path: Path) -> None:
    data = b'id,body,tag\n1,"a\nb\nc",x\n2,,y\n3,"d",z\n'
    path = write(tmp_path, data)
    batches = list(iter_batches(path, header_of(path), columns=["tag", "id"]))
    assert len(batches) == 1
    b = batches[0]
    assert b.frame.columns == ["tag", "id"]
    assert b.frame.rows() == [("x", "1"), ("y", "2"), ("z", "3")]
    assert b.lines.to_list() == [2, 5, 6]
    with pytest.raises(ExportError, match="no column 'nope'"):
        iter_batches(path, header_of(path), columns=["nope"])  # at the call, not the first next()


def test_batch_rows_start_record_and_bytes_done(tmp_path: Path) -> None:
    data = b"a,b\n" + b"".join(b'%d,"v\n%d"\n' % (i, i) for i in range(10))
    path = write(tmp_path, data)
    batches = list(iter_batches(path, header_of(path), batch_rows=4))
    assert [b.frame.height for b in batches] == [4, 4, 2]
    assert [b.start_record for b in batches] == [0, 4, 8]
    assert [b.lines.to_list() for b in batches] == [
        [2, 4, 6, 8],
        [10, 12, 14, 16],
        [18, 20],
    ]
    done = [b.bytes_done for b in batches]
    assert done == sorted(done)
    assert done[-1] == len(data)


def test_five_megabyte_field(tmp_path: Path) -> None:
    big = ("x" * 1000 + '"\n,') * 5000  # 5 MB with quotes, newlines and commas
    quoted = '"' + big.replace('"', '""') + '"'
    data = f"id,body,n\n1,{quoted},a\n2,small,b\n".encode()
    path = write(tmp_path, data)
    assert count_records(path) == 2
    assert check_structure(path, header_of(path)) is None
    rows, lines = read_all(path)
    assert rows == [("1", big, "a"), ("2", "small", "b")]
    assert lines == [2, 2 + 5000 + 1]


def test_gz_batches_and_progress(tmp_path: Path) -> None:
    body = b"id,note\n" + b"".join(b'%d,"n,\n%d"\n' % (i, i) for i in range(3000))
    path = write(tmp_path, body, "t.csv.gz")
    rows, lines = read_all(path)
    assert len(rows) == 3000 == count_records(path)
    assert rows[2999] == ("2999", "n,\n2999")
    assert lines[2999] == 2 + 2 * 2999
    last = list(iter_batches(path, header_of(path)))[-1]
    assert last.bytes_done == path.stat().st_size  # compressed bytes, for progress on disk size


def _messy_file(
    rng: random.Random, records: int, quote_all: bool = False
) -> tuple[bytes, list[tuple[str | None, ...]]]:
    """A CSV as COPY writes it (or, quote_all, as quote-everything writers do) with nasty values,
    and its values."""
    pieces = ["", "a", "b,c", 'q"q', "line\nbreak", "\r\n", '""', "x" * 300, "é", " s ", "\\."]
    out = io.StringIO()
    out.write("id,v,w\n")
    rows: list[tuple[str | None, ...]] = []
    for i in range(records):
        vals: list[str | None] = [str(i)]
        for _ in range(2):
            if rng.random() < 0.2:
                vals.append(None)
            else:
                vals.append("".join(rng.choice(pieces) for _ in range(rng.randint(0, 4))))
        rows.append(tuple(vals))
        cells = []
        for v in vals:
            if v is None:
                cells.append("")
            elif quote_all or v == "" or any(c in v for c in ',"\r\n'):
                cells.append('"' + v.replace('"', '""') + '"')
            else:
                cells.append(v)
        out.write(",".join(cells) + "\n")
    return out.getvalue().encode(), rows


def test_tiny_blocks_cut_inside_multiline_records(tmp_path: Path, monkeypatch) -> None:
    """Blocks far smaller than a record: every cut lands inside quoted newlines somewhere."""
    data, rows = _messy_file(random.Random(7), 400)
    path = write(tmp_path, data)
    expected_lines = []
    reader = csv.reader(io.StringIO(data.decode(), newline=""))
    next(reader)
    prev = reader.line_num
    for _ in reader:
        expected_lines.append(prev + 1)
        prev = reader.line_num
    reference = read_all(path)
    assert reference == (rows, expected_lines)
    for size in (48, 1000):
        monkeypatch.setattr(cutter, "BLOCK_BYTES", size)
        monkeypatch.setattr(cutter.iter_blocks, "__defaults__", (size,))
        assert read_all(path) == reference
        assert check_structure(path, header_of(path)) is None
    assert count_records(path) == 400


@pytest.mark.parametrize("quote_all", [False, True], ids=["copy", "quote-all"])
def test_fast_path_is_taken_for_clean_files(tmp_path: Path, monkeypatch, quote_all: bool) -> None:
    """The exact (slow) reader must not run on a clean file, COPY-written or quote-everything."""
    from aria_tui.csvio import exact

    data, rows = _messy_file(random.Random(3), 300, quote_all)
    path = write(tmp_path, data)

    def refuse(*a, **k):
        raise AssertionError("exact parser used on a clean file")

    monkeypatch.setattr(exact, "parse_exact", refuse)
    assert check_structure(path, header_of(path)) is None
    assert read_all(path)[0] == rows


def test_abandoned_iteration_stops_the_reading_thread(tmp_path: Path, monkeypatch) -> None:
    import threading

    monkeypatch.setattr(cutter.iter_blocks, "__defaults__", (4096,))
    data = b"id,v\n" + b"".join(b'%d,"x\n%d"\n' % (i, i) for i in range(3000))
    path = write(tmp_path, data)
    it = iter_batches(path, header_of(path), batch_rows=10)
    first = next(it)
    assert first.lines.to_list() == list(range(2, 22, 2))
    it.close()
    assert not [t for t in threading.enumerate() if t.name == "csvio-blocks"]
    # a problem found early ends check_structure, and its thread, before the file is read through
    bad = write(tmp_path, b"id,v\n1\n" + data[5:], "bad.csv")
    assert check_structure(bad, header_of(bad)) == CsvProblem(
        "bad.csv", 2, "v", "row has 1 field, header has 2"
    )
    assert not [t for t in threading.enumerate() if t.name == "csvio-blocks"]


# ----------------------------------------------------------------------- large files, flat memory


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
def test_flat_count_and_survey_agree_with_a_full_read(tmp_path: Path, monkeypatch, gz) -> None:
    from aria_tui.csvio import Survey, records

    data, rows = _messy_file(random.Random(21), 3000)
    path = write(tmp_path, data, "t.csv.gz" if gz else "t.csv")
    reference_rows, reference_lines = read_all(path)
    # blocks far smaller than the file, cut inside multi-line records
    monkeypatch.setattr(records, "COUNT_BLOCK_BYTES", 5000)
    monkeypatch.setattr(cutter, "BLOCK_BYTES", 2000)
    assert count_records(path, flat=True) == count_records(path) == 3000
    survey = Survey(path, header_of(path), head_rows=50, pieces=7, piece_rows=5, piece_bytes=600)
    seen = 0
    for batch in survey:
        n = batch.frame.height
        start = batch.start_record
        assert batch.frame.rows() == reference_rows[start : start + n]
        assert batch.lines.to_list() == reference_lines[start : start + n]
        seen += n
    assert survey.records == 3000
    assert survey.sampled_records == seen
    assert 50 + 5 <= seen <= 50 + 7 * 5 + 200  # the head, then small pieces, not the file


def test_survey_finds_a_problem_in_its_sample(tmp_path: Path) -> None:
    from aria_tui.csvio import Survey

    data = b"id,v\n" + b"".join(b'%d,"x\n%d"\n' % (i, i) for i in range(50)) + b"51\n"
    path = write(tmp_path, data)
    bad = [b for batch in Survey(path, header_of(path)) for b in batch.bad]
    assert [b.sentence() for b in bad] == ['line 102, column "v": row has 1 field, header has 2']


def test_split_keeps_records_whole() -> None:
    data = b'1,"a\nb"\n2,c\n3,"d,""e"""\n4,f\n'
    block = cutter.Block(data, data.count(b'"'), True, None)
    for size in (1, 5, 9, 12, 100):
        parts = list(cutter.split(block, b"\n", size))
        assert b"".join(p.data for p in parts) == data
        assert sum(p.quotes for p in parts) == block.quotes
        assert all(p.quotes % 2 == 0 for p in parts)
        assert [p.final for p in parts] == [False] * (len(parts) - 1) + [True]
