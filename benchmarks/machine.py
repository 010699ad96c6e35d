"""The machine, the versions and the code a run measured, and the copy of aria_tui/ it ran
(so every measurement of one run is of the same code while others edit the repository)."""

from __future__ import annotations

import compileall
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from env import CACHE, REPO
from server import Server

SNAPSHOT: dict[str, str] = {}


def take_snapshot() -> str:
    """Copy aria_tui/ into the cache and put it first on PYTHONPATH for this run and its children.

    Other people may be editing aria_tui/ while a run of many minutes goes on: every measurement
    of one run is then of the same code. Returns a short content hash of the copy.
    """

    dest = CACHE / "snapshot"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(
        REPO / "aria_tui", dest / "aria_tui", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    digest = hashlib.sha256()
    for f in sorted((dest / "aria_tui").rglob("*")):
        if f.is_file():
            digest.update(f.relative_to(dest).as_posix().encode() + b"\0" + f.read_bytes())
    # an installed aria-tui has its bytecode; a session with PYTHONDONTWRITEBYTECODE=1 would
    # otherwise compile every module from source in every timed process
    compileall.compile_dir(dest / "aria_tui", quiet=1)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(dest), os.environ.get("PYTHONPATH", "")) if p
    )
    sys.path.insert(0, str(dest))
    SNAPSHOT["hash"] = digest.hexdigest()[:12]
    SNAPSHOT["at"] = time.strftime("%H:%M:%S")
    return SNAPSHOT["hash"]


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
