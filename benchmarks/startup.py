"""Start-up of a single-table `aria-tui load`: seconds from starting the process to its first COPY
byte (issue 17: under 0.3 s), from the loader's own timestamped log (ARIA_TUI_TIMELOG).

    python benchmarks/startup.py EXPORT_DIR DSN PROFILE TABLE [--repeats N] [--truncate]

Each run starts a fresh `python -m aria_tui load EXPORT_DIR --dsn DSN --profile PROFILE --tables
TABLE --yes --json`, after `TRUNCATE` of the table (so every run takes the same path), and prints
the steps of its log relative to the moment the process was started. Prints the median.

aria_tui is byte-compiled first (compileall, into its __pycache__ folders, which git ignores):
an installed aria-tui has its .pyc files, while a checkout run with PYTHONDONTWRITEBYTECODE=1
(as the sessions here are) compiles every module from source at each start, about a tenth of
a second that no user pays.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one(argv: list[str], env: dict[str, str]) -> list[tuple[float, float, str]]:
    with tempfile.NamedTemporaryFile("r", suffix=".log", delete=False) as fh:
        log = Path(fh.name)
    env = {**env, "ARIA_TUI_TIMELOG": str(log)}
    t0 = time.time()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        sys.exit(done.stderr[-2000:])
    steps = []
    for line in log.read_text().splitlines():
        stamp, cpu, _pid, label = line.split(" ", 3)
        steps.append((float(stamp) - t0, float(cpu), label))
    log.unlink()
    return steps


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("export")
    ap.add_argument("dsn")
    ap.add_argument("profile")
    ap.add_argument("table", help="the file's stem, e.g. activity_log")
    ap.add_argument("--target", help="the target table to TRUNCATE before each run")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    argv = [sys.executable, "-m", "aria_tui", "load", args.export, "--dsn", args.dsn,
            "--profile", args.profile, "--tables", args.table, "--yes", "--json"]  # fmt: skip
    env = dict(os.environ)
    import aria_tui

    compileall.compile_dir(Path(aria_tui.__file__).parent, quiet=1)
    firsts = []
    with tempfile.TemporaryDirectory(prefix="aria-startup-") as state:  # the runs' state, removed
        for _ in range(args.repeats):
            if args.target:
                import psycopg

                with psycopg.connect(args.dsn, autocommit=True) as conn:
                    conn.execute(f"TRUNCATE {args.target} CASCADE")  # noqa: S608 - operator's own
            env["ARIA_TUI_STATE_DIR"] = tempfile.mkdtemp(dir=state)
            steps = one(argv, env)
            print("  ".join(f"{label} {t:.3f}s (cpu {c:.3f})" for t, c, label in steps))
            firsts += [(t, c) for t, c, label in steps if label == "first COPY byte"]
    if firsts:
        wall = [t for t, _ in firsts]
        cpu = [c for _, c in firsts]
        print(
            f"first COPY byte: wall median {statistics.median(wall):.3f} s (min {min(wall):.3f}), "
            f"process CPU median {statistics.median(cpu):.3f} s (min {min(cpu):.3f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
