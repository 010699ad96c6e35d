"""Timing one child process: wall seconds, CPU seconds and peak memory (RSS, anon and mapped)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path


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
