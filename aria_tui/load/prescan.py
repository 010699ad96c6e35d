"""The scan `aria-tui load` runs before it plans: what the plan needs, and nothing the load itself
will do again (it reads, checks and counts every record of what it loads).

So a huge file has only its head read (records estimated), no sampled value is sent to the
server for the type warnings (the wizard's business), and a file the selection cannot take is
not read beyond its header.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from aria_tui import profiles
from aria_tui.profiles import Profile
from aria_tui.scan import scan
from aria_tui.scan.model import Inventory
from aria_tui.selection import Selection


def scan_for_load(
    folder: Path,
    conn: psycopg.Connection,
    profile: Profile | None,
    *,
    target_display: str,
    selection: Selection,
    sample_values: bool = False,
) -> Inventory:
    """`sample_values`: for `plan`, whose file the operator reviews before any load: the values
    the target refuses are counted in a sample and written into the plan, as the wizard shows
    them."""
    return scan(
        folder,
        conn,
        profile or profiles.NONE,
        target_display=target_display,
        count_large=False,
        sample_values=sample_values,
        needed=selection.needs(generic=profile is None),
    )
