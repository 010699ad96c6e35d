"""`ARIA_TUI_TIMELOG=FILE`: a timestamped log of the steps before a load's first COPY byte.

Each line is `epoch-seconds cpu-seconds pid label` (cpu: this process's user + system time, less
sensitive than wall time to other work on the machine). Off (one dictionary lookup at import) unless the variable
is set; `benchmarks/startup.py` sets it and subtracts the moment it started the process, which is
how issue 17's start-up budget (< 0.3 s to the first COPY byte) is measured.
"""

from __future__ import annotations

import os
import time

_PATH = os.environ.get("ARIA_TUI_TIMELOG")
_seen: set[str] = set()


def mark(label: str, once: bool = False) -> None:
    if not _PATH or (once and label in _seen):
        return
    _seen.add(label)
    with open(_PATH, "a", encoding="utf-8") as fh:
        fh.write(f"{time.time():.6f} {time.process_time():.4f} {os.getpid()} {label}\n")
