"""Where the benchmark runs: the repository, its cache, the aria-tui command it times, and its log."""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CACHE = HERE / ".cache"
BIN = Path(sys.executable).parent
ARIA_TUI = (
    [str(BIN / "aria-tui")] if (BIN / "aria-tui").exists() else [sys.executable, "-m", "aria_tui"]
)
MB = 1_000_000  # throughput in decimal megabytes per second


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
