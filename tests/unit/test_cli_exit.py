"""The command line as a whole process ends without the interpreter's last garbage collection
over everything the command made (gc.freeze: issue 17's fixed costs, about a tenth of a second
after a load); a caller that runs `main([...])` in its own process keeps its collector as it was."""

from __future__ import annotations

import gc
import subprocess
import sys

from aria_tui.cli import main

PROGRAM = """
import atexit, gc, sys
atexit.register(lambda: print("frozen", gc.get_freeze_count()))
sys.argv = ["aria-tui", *sys.argv[1:]]
from aria_tui.cli import main
raise SystemExit(main())
"""


def test_the_program_freezes_what_it_made_before_it_exits(tmp_path):
    missing = tmp_path / "no-such-export"
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, "load", str(missing), "--dsn", "postgresql:///x"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "no-such-export" in done.stderr  # the command did run
    frozen = int(done.stdout.split()[-1])
    assert frozen > 1000, done.stdout


def test_an_in_process_caller_keeps_its_collector(tmp_path):
    before = gc.get_freeze_count()
    code = main(["load", str(tmp_path / "no-such-export"), "--dsn", "postgresql:///x"])
    assert code != 0
    assert gc.get_freeze_count() == before
