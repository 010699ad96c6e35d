"""csvio.discover / open_bytes / read_header: finding export files and reading their headers."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from aria_tui.csvio import CsvProblem, ExportFile, Header, discover, open_bytes, read_header
from aria_tui.errors import ExportError


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------- discover


def test_discover_lists_csv_and_gz_sorted_by_stem(tmp_path: Path) -> None:
    write(tmp_path / "memories.csv", b"id\n1\n")
    write(tmp_path / "aria_data.agents.csv", b"id\n")
    (tmp_path / "logs.csv.gz").write_bytes(gzip.compress(b"id\n1\n2\n"))
    write(tmp_path / "notes.txt", b"not an export file")
    write(tmp_path / "README.md", b"# hi")
    (tmp_path / "nested.csv").mkdir()  # a directory is not a file
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "deep.csv", b"id\n")  # not recursive

    files = discover(tmp_path)

    assert [f.stem for f in files] == ["aria_data.agents", "logs", "memories"]
    agents, logs, memories = files
    assert agents == ExportFile(
        path=tmp_path / "aria_data.agents.csv",
        stem="aria_data.agents",
        schema="aria_data",
        table="agents",
        compressed=False,
        bytes=3,
    )
    assert agents.name == "aria_data.agents.csv"
    assert (logs.schema, logs.table, logs.compressed) == (None, "logs", True)
    assert logs.bytes == (tmp_path / "logs.csv.gz").stat().st_size
    assert (memories.schema, memories.table, memories.bytes) == (None, "memories", 5)


def test_discover_missing_folder_is_one_sentence_exit_2(tmp_path: Path) -> None:
    with pytest.raises(ExportError) as err:
        discover(tmp_path / "nope")
    assert err.value.exit_code == 2
    assert str(err.value) == f"Export folder {tmp_path / 'nope'} does not exist."


def test_discover_file_instead_of_folder(tmp_path: Path) -> None:
    f = write(tmp_path / "x.csv", b"a\n")
    with pytest.raises(ExportError, match="is not a directory"):
        discover(f)


def test_discover_folder_without_csv(tmp_path: Path) -> None:
    write(tmp_path / "notes.txt", b"x")
    with pytest.raises(ExportError) as err:
        discover(tmp_path)
    assert str(err.value) == f"Export folder {tmp_path} holds no .csv or .csv.gz files."
    assert err.value.exit_code == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_discover_unreadable_folder(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    write(locked / "a.csv", b"a\n")
    locked.chmod(0)
    try:
        with pytest.raises(ExportError, match="cannot be read"):
            discover(locked)
    finally:
        locked.chmod(0o755)


def test_open_bytes_gunzips_transparently(tmp_path: Path) -> None:
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(b"a,b\n1,2\n"))
    with open_bytes(tmp_path / "t.csv.gz") as f:
        assert f.read() == b"a,b\n1,2\n"
    with open_bytes(write(tmp_path / "p.csv", b"x\n")) as f:
        assert f.read() == b"x\n"
    with pytest.raises(ExportError, match="missing.csv cannot be opened"):
        open_bytes(tmp_path / "missing.csv")


# ---------------------------------------------------------------------------------- header


def test_header_plain(tmp_path: Path) -> None:
    h = read_header(write(tmp_path / "t.csv", b"id,name,embedding\n1,a,\n"))
    assert h == Header(("id", "name", "embedding"), has_bom=False, crlf=False, lines=1, bytes=18)
    assert h.eol == "\n"


def test_header_bom_crlf(tmp_path: Path) -> None:
    h = read_header(write(tmp_path / "t.csv", b"\xef\xbb\xbfid,name\r\n1,a\r\n"))
    assert isinstance(h, Header)
    assert (h.columns, h.has_bom, h.crlf, h.lines, h.bytes, h.eol) == (
        ("id", "name"),
        True,
        True,
        1,
        3 + 9,
        "\r\n",
    )


def test_header_quoted_names_and_multiline(tmp_path: Path) -> None:
    data = b'"a,b","C""D","multi\nline",plain\n1,2,3,4\n'
    h = read_header(write(tmp_path / "t.csv", data))
    assert isinstance(h, Header)
    assert h.columns == ("a,b", 'C"D', "multi\nline", "plain")
    assert h.lines == 2
    assert h.bytes == data.index(b"1,2")


def test_header_only_without_newline(tmp_path: Path) -> None:
    h = read_header(write(tmp_path / "t.csv", b"a,b"))
    assert isinstance(h, Header)
    assert (h.columns, h.bytes, h.lines) == (("a", "b"), 3, 1)


def test_header_of_gz(tmp_path: Path) -> None:
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(b"x,y\n1,2\n"))
    h = read_header(tmp_path / "t.csv.gz")
    assert isinstance(h, Header)
    assert h.columns == ("x", "y")


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"", None, "empty file (0 bytes): no header"),
        (b"\n1\n", 1, "header line is empty"),
        (b"id,name,id\n", 1, "duplicate column name 'id' in header"),
        (b"id,,name\n", 1, "empty column name in header (column 2)"),
        (b'id,""\n', 1, "empty column name in header (column 2)"),
        (b"id,na\xffme\n", 1, "invalid UTF-8 byte 0xff in header"),
        (b"id,na\x00me\n", 1, "NUL byte (0x00) in header"),
        (b'id,"name\n1,2\n', 1, "unterminated quoted field in header"),
    ],
)
def test_header_problems(tmp_path: Path, data: bytes, line: int | None, reason: str) -> None:
    p = read_header(write(tmp_path / "bad.csv", data))
    assert p == CsvProblem(file="bad.csv", line=line, column=None, reason=reason)


def test_problem_sentence() -> None:
    assert (
        CsvProblem("memories.csv", 12, None, "unterminated quoted field").sentence()
        == "memories.csv line 12: unterminated quoted field."
    )
    assert (
        CsvProblem("m.csv", 3, "content", "invalid UTF-8 byte 0xff").sentence()
        == "m.csv line 3, column content: invalid UTF-8 byte 0xff."
    )
    assert CsvProblem("m.csv", None, None, "empty file.").sentence() == "m.csv: empty file."


def test_damaged_gz_header_is_a_problem(tmp_path: Path) -> None:
    full = gzip.compress(b"a,b\n" + b"1,2\n" * 1000)
    (tmp_path / "cut.csv.gz").write_bytes(full[:20])
    p = read_header(tmp_path / "cut.csv.gz")
    assert isinstance(p, CsvProblem)
    assert p.reason.startswith("cannot be read")
