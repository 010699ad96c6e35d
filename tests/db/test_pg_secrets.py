"""Secrets (issue 8): a password given in the DSN is never written -- not to stdout or stderr, not
to the journal, reports or reject files, not to an exported folder -- and never left readable in the
process title. Every file the tool writes is mode 0600.

The embedded server trusts local connections, so the password is accepted and unused; it is
still in the DSN every command gets, which is all this test needs.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from aria_tui.pg.connect import Target

PASSWORD = "s3cr3t-XYZ"


def secret_dsn(db: Target, role: str, database: str | None = None) -> str:
    parts = conninfo_to_dict(db.conninfo)
    name = database or parts["dbname"]
    return f"postgresql://{role}:{PASSWORD}@/{name}?host={quote(parts['host'], safe='')}"


def _files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots if root.exists() for p in root.rglob("*") if p.is_file())


@pytest.fixture
def secret_db(empty_db):
    """empty_db owned by a role with a password, holding a table with a vector column."""
    role = f"u_{os.getpid()}"
    with psycopg.connect(empty_db.conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if not exists:
            conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
        db = conninfo_to_dict(empty_db.conninfo)["dbname"]
        conn.execute(f'ALTER DATABASE "{db}" OWNER TO {role}')  # owns schema public too (PG15+)
        conn.execute(f"SET ROLE {role}")
        conn.execute(
            "CREATE TABLE public.t (id int PRIMARY KEY, body text NOT NULL, emb vector(3))"
        )
        conn.execute("CREATE TABLE public.s (id serial PRIMARY KEY, name text)")
    return empty_db, role


def test_password_is_never_written_or_shown(secret_db, cli, tmp_path, monkeypatch):
    db, role = secret_db
    state, data, reports = tmp_path / "state", tmp_path / "data", tmp_path / "reports"
    monkeypatch.setenv("ARIA_TUI_STATE_DIR", str(state))
    monkeypatch.setenv("ARIA_TUI_DATA_DIR", str(data))
    export = tmp_path / "export"
    export.mkdir()
    # a bad row in each file, so the load writes reject files (the raw record is in them)
    (export / "t.csv").write_text('id,body,emb\n1,a,"[1,2,3]"\n2,,"[1,2,3]"\n3,c,"[1,2]"\n4,d,\n')
    (export / "s.csv").write_text("id,name\n1,x\nnope,y\n3,z\n")
    dsn = secret_dsn(db, role)
    outputs: list[str] = []

    def run(*argv, expect: int | None = None) -> str:
        code, out, err = cli(*argv)
        outputs.extend([out, err])
        assert "Traceback" not in err
        if expect is not None:
            assert code == expect, (argv[0], code, out, err)
        return out

    run("scan", export, "--dsn", dsn, "--json", expect=0)
    run("scan", export, "--dsn", dsn, expect=0)  # the Rich table for people
    loaded = json.loads(run("load", export, "--dsn", dsn, "--yes", "--json", expect=1))
    rejects = [t["reject_file"] for t in loaded["tables"]]
    assert all(rejects) and loaded["journal"], loaded
    assert {t["target"]: t["rejected"] for t in loaded["tables"]} == {"public.t": 2, "public.s": 1}
    run("load", export, "--dsn", dsn, "--yes", expect=1)  # resumed, human output
    run("load", export, "--dsn", dsn, "--yes", "--dry-run", "--force-staging", "--json")
    # the rejected records are not in the target: validate says so (issue 14)
    run("validate", export, "--dsn", dsn, "--json", expect=1)
    run("validate", export, "--dsn", dsn, "--report-dir", reports, expect=1)
    run("export", "--source", dsn, tmp_path / "out", "--json", expect=0)
    run("export", "--source", dsn, tmp_path / "out-gz", "--gzip", expect=0)
    # errors that talk about the target: a database that does not exist, a role that cannot log in
    run("load", export, "--dsn", secret_dsn(db, role, "no_such_db"), "--yes", "--json", expect=2)
    run("validate", export, "--dsn", secret_dsn(db, "no_such_role"), "--json", expect=2)
    run(
        "scan",
        export,
        "--dsn",
        dsn.replace("host=", "host=%2Fno%2Fsuch%2Fdir&x="),
        "--json",
        expect=2,
    )

    for text in outputs:
        assert PASSWORD not in text
    written = _files(state, data, reports, tmp_path / "out", tmp_path / "out-gz")
    names = {p.name for p in written}
    assert {"public.t.csv", "public.s.csv"} <= names  # reject files
    assert any(p.parent.name == "journals" for p in written)
    assert {p.suffix for p in written if p.parent in (reports, data / "reports")} == {
        ".md",
        ".json",
    }
    assert any(p.parent == reports for p in written) and any(
        p.parent == data / "reports" for p in written
    )
    for p in written:
        raw = p.read_bytes()
        if p.suffix == ".gz":
            import gzip

            raw = gzip.decompress(raw)
        assert PASSWORD.encode() not in raw, p
        assert "s3cr3t" not in raw.decode("utf-8", "replace"), p
    # nobody else may read what the tool wrote under its own directories
    for p in _files(state, data, reports):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, (p, oct(p.stat().st_mode))


def test_exported_files_are_private(secret_db, cli, tmp_path):
    db, role = secret_db
    code, out, err = cli("export", "--source", secret_dsn(db, role), tmp_path / "out", "--json")
    assert code == 0, err
    files = _files(tmp_path / "out")
    assert files
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
    assert set(modes.values()) == {"0o600"}, modes


def test_password_leaves_the_process_title_at_once(secret_db, tmp_path):
    """`ps` and /proc/PID/cmdline show other users the command line: the CLI blanks the password
    in place as its first act. Until then (the interpreter's own start, which no Python code can
    shorten) it is there; after, never again, for the whole run."""
    db, role = secret_db
    export = tmp_path / "export"
    export.mkdir()
    (export / "t.csv").write_text(
        "id,body,emb\n" + "".join(f'{i},b{i},"[1,2,3]"\n' for i in range(1, 20001))
    )
    dsn = secret_dsn(db, role)
    proc = subprocess.Popen(
        [sys.executable, "-m", "aria_tui", "scan", str(export), "--dsn", dsn, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    started = time.monotonic()
    seen: list[tuple[float, bool]] = []  # (seconds since start, password visible)
    last = b""
    cmdline = Path(f"/proc/{proc.pid}/cmdline")
    while proc.poll() is None:
        try:
            raw = cmdline.read_bytes()
        except OSError:
            break
        if raw:
            seen.append((time.monotonic() - started, PASSWORD.encode() in raw))
            last = raw
        time.sleep(0.002)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert PASSWORD.encode() not in out + err
    scrubbed = [i for i, (_, visible) in enumerate(seen) if not visible]
    assert scrubbed, "the process ended before its command line was ever seen without the password"
    first = scrubbed[0]
    assert not any(visible for _, visible in seen[first:]), "the password came back"
    assert len(seen) - first >= 10  # observed, scrubbed, for most of the run
    # blanked in place, same length: `ps` shows stars where the password was, the rest intact
    assert f"postgresql://{role}:{'*' * len(PASSWORD)}@/".encode() in last, last
    print(
        f"password visible for the first {seen[first][0]:.3f} s (interpreter start), "
        f"then blank in {len(seen) - first} reads"
    )
