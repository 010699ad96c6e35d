"""The sides a case is loaded by (psql's `\\copy`, `aria-tui load`, `aria-tui load --force-staging`),
each run into a fresh database, timed, and checked before its time counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cases import Case
from env import ARIA_TUI, HERE, log
from server import Server
from timing import timed

PSQL = "psql"
ARIA = "aria-tui"
STAGING = "aria-tui --force-staging"
PLAIN = "plain client"  # Python + psycopg, COPY only (plain_client.py): a reference, no target


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
    jobs: int | None = None  # the load's `jobs`: connections that loaded side by side
    chunks: int = 0  # chunks of the run's files loaded over several connections (all tables)


class Harness:
    def __init__(self, server: Server, state: Path) -> None:
        self.server = server
        self.state = state
        self.verified: dict[Path, int] = {}  # file -> count(*) after a psql \copy of it alone
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
        cmd = [
            *ARIA_TUI, "load", str(case.dataset.folder), "--dsn", self.server.uri(db),
            "--profile", case.dataset.profile, "--tables", names, "--yes", "--json",
        ]  # fmt: skip
        if staging:
            cmd.append("--force-staging")
        return cmd

    def aria(self, case: Case, db: str, staging: bool) -> Run:
        p = timed(self.aria_cmd(case, db, staging), self.env())
        side = STAGING if staging else ARIA
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
            jobs=report.get("jobs"), chunks=sum(int(t.get("chunks") or 0) for t in report["tables"]),
        )  # fmt: skip

    # ---- the plain client (a reference: what copying alone costs from Python) -----------------
    def plain(self, case: Case, db: str) -> Run:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump([[t.target, str(t.path), list(t.columns)] for t in case.tables], fh)
        try:
            cmd = [sys.executable, str(HERE / "plain_client.py"), self.server.uri(db), fh.name]
            p = timed(cmd, self.env())
        finally:
            os.unlink(fh.name)
        if p.code != 0:
            raise RuntimeError(f"plain_client.py failed (exit {p.code}): {p.err.strip()[-2000:]}")
        return Run(PLAIN, p.seconds, p.rss_kb, p.anon_kb, p.file_kb, p.cpu)

    def phases(self, case: Case, side: str) -> dict | None:
        """One extra, untimed run through the Python API (benchmarks/phases.py), phase by phase."""
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
        elif side == PLAIN:
            run = self.plain(case, db)
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
