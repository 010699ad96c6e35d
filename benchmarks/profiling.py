"""`--py-spy`: one extra, untimed aria-tui run under py-spy, summarised per thread."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from cases import Case
from env import BIN
from harness import STAGING, Harness


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
