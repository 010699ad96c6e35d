"""manifest.json: the format round-trips, and check_folder tells ok / missing / changed / unlisted.

No database here: the folders are made by hand, so each status is provoked on purpose.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest
from loadkit import manifest_of

from aria_tui.errors import ExportError
from aria_tui.manifest import format as m
from aria_tui.manifest.check import check_folder, sha256_file

ROWS = 'id,body\n1,"multi\nline ""quoted"""\n2,plain\n3,\n'


def _entry(folder: Path, name: str, records: int, **extra) -> m.ManifestTable:
    data = (folder / name).read_bytes()
    schema, table = m.stem_of(name).split(".", 1)
    return m.ManifestTable(
        file=name,
        schema=schema,
        table=table,
        records=records,
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        columns=(m.ManifestColumn("id", "integer", True), m.ManifestColumn("body", "text", False)),
        primary_key=("id",),
        **extra,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Three exported files and their manifest, all ok."""
    for name in ("s.a.csv", "s.b.csv", "s.c.csv"):
        (tmp_path / name).write_text(ROWS, encoding="utf-8")
    entries = [_entry(tmp_path, n, 3) for n in ("s.a.csv", "s.b.csv", "s.c.csv")]
    m.write_manifest(tmp_path, manifest_of(*entries))
    return tmp_path


def test_no_manifest_means_no_check(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text(ROWS)
    assert m.read_manifest(tmp_path) is None
    assert check_folder(tmp_path) is None


def test_manifest_round_trips(folder: Path) -> None:
    fk = m.ManifestForeignKey(("a_id",), "s.a", ("id",), "CASCADE")
    entry = _entry(folder, "s.a.csv", 3, unique_keys=(("body",),), foreign_keys=(fk,))
    written = manifest_of(entry)
    m.write_manifest(folder, written)
    assert m.read_manifest(folder) == written
    data = json.loads((folder / m.MANIFEST_NAME).read_text())
    assert data["format"] == m.FORMAT and data["format_version"] == m.FORMAT_VERSION
    assert data["tables"][0]["foreign_keys"] == [
        {"columns": ["a_id"], "ref_table": "s.a", "ref_columns": ["id"], "on_delete": "CASCADE"}
    ]
    assert not list(folder.glob(".*partial"))


def test_untouched_folder_is_ok(folder: Path) -> None:
    check = check_folder(folder)
    assert check is not None and check.ok
    assert [(fc.file, fc.status) for fc in check.files] == [
        ("s.a.csv", "ok"),
        ("s.b.csv", "ok"),
        ("s.c.csv", "ok"),
    ]
    assert check.source_types("s.a") == {"id": "integer", "body": "text"}
    assert check.status_for(folder / "s.b.csv") == "ok"


def test_each_status(folder: Path) -> None:
    # changed: one record line deleted (same as the "delete a line from one file")
    lines = (folder / "s.a.csv").read_text().splitlines(keepends=True)
    (folder / "s.a.csv").write_text("".join(lines[:-1]))
    # changed with the same size: one byte flipped, only the sha256 can tell
    (folder / "s.b.csv").write_text(ROWS.replace("plain", "plaiN"))
    (folder / "s.c.csv").unlink()
    (folder / "s.extra.csv").write_text(ROWS)

    check = check_folder(folder, count_records=lambda p: p.read_text().count("\n") - 2)
    assert check is not None and not check.ok
    status = {fc.file: fc.status for fc in check.files}
    assert status == {
        "s.a.csv": "changed",
        "s.b.csv": "changed",
        "s.c.csv": "missing",
        "s.extra.csv": "unlisted",
    }
    assert "2 records, the export wrote 3" in check.reason_for("s.a")
    assert "sha256" in check.reason_for("s.b.csv")
    assert [fc.file for fc in check.missing] == ["s.c.csv"]
    assert check.missing_paths == (folder / "s.c.csv",)
    assert "s.c.csv is listed in manifest.json" in check.missing[0].reason
    assert check.source_types("s.extra") == {}
    for fc in check.problems:
        assert fc.reason and fc.reason.endswith(".") and "\n" not in fc.reason
    assert json.dumps(check.to_json())  # scan --json embeds it


def test_files_from_discover_decide_what_is_unlisted(folder: Path) -> None:
    class ExportFile:  # the shape of csvio's: something with a .path
        def __init__(self, path: Path) -> None:
            self.path = path

    (folder / "s.extra.csv").write_text(ROWS)
    files = [ExportFile(folder / n) for n in ("s.a.csv", "s.b.csv", "s.c.csv")]
    check = check_folder(folder, files)
    assert check is not None and check.ok
    assert check.status_for(files[0]) == "ok"


def test_gzip_entry_verifies_stored_and_gunzipped_forms(tmp_path: Path) -> None:
    raw = ROWS.encode()
    (tmp_path / "s.a.csv.gz").write_bytes(gzip.compress(raw, mtime=0))
    entry = _entry(
        tmp_path,
        "s.a.csv.gz",
        3,
        csv_bytes=len(raw),
        csv_sha256=hashlib.sha256(raw).hexdigest(),
    )
    m.write_manifest(tmp_path, manifest_of(entry, compression="gzip"))
    assert check_folder(tmp_path).ok
    assert m.stem_of("s.a.csv.gz") == "s.a"

    # the operator gunzipped it on the target host: still the exported data, still ok
    (tmp_path / "s.a.csv").write_bytes(raw)
    (tmp_path / "s.a.csv.gz").unlink()
    check = check_folder(tmp_path)
    assert check.ok and check.status_for("s.a.csv") == "ok"

    (tmp_path / "s.a.csv").write_bytes(raw[:-3] + b"\n")
    assert check_folder(tmp_path).status_for("s.a") == "changed"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "is not valid JSON (line 1"),
        ('{"format": "other"}', "is not an aria-tui export manifest"),
        ('{"format": "aria-tui-export", "format_version": 99, "tables": []}', "upgrade aria-tui"),
        (
            '{"format": "aria-tui-export", "format_version": 1, "tables": [{"file": "x.csv"}]}',
            "lacks or mistypes",
        ),
        (
            '{"format": "aria-tui-export", "format_version": 1, "tables": [{"file": "../etc/x.csv",'
            ' "schema": "s", "table": "t", "records": 1, "bytes": 1, "sha256": "0"}]}',
            "'file'",
        ),
    ],
)
def test_a_damaged_manifest_is_an_error_not_a_pass(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / m.MANIFEST_NAME).write_text(text)
    with pytest.raises(ExportError) as exc:
        check_folder(tmp_path)
    assert words in str(exc.value)
    assert exc.value.exit_code == 2


def test_sha256_file_streams(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    data = b"x" * (3 * (1 << 20) + 17)
    path.write_bytes(data)
    seen: list[int] = []
    digest, size = sha256_file(path, progress=lambda name, done: seen.append(done))
    assert (digest, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert len(seen) == 4 and seen[-1] == len(data)


def test_manifest_is_private_and_atomic(folder: Path) -> None:
    """0600 like every file the tool writes, also when it replaces a world-readable one."""
    import os
    import stat

    path = folder / m.MANIFEST_NAME
    os.chmod(path, 0o644)
    old = os.umask(0)
    try:
        m.write_manifest(folder, m.read_manifest(folder))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert check_folder(folder).ok
    assert not list(folder.glob(".*partial"))
