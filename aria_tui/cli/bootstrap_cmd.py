"""`aria-tui bootstrap`: create a profile's schema on the target (idempotent)."""

from __future__ import annotations

import argparse

from aria_tui import profiles
from aria_tui.cli.common import add_target_args, emit_json
from aria_tui.errors import AriaError
from aria_tui.pg.bootstrap import bootstrap
from aria_tui.pg.connect import resolve


def configure(parser: argparse.ArgumentParser) -> None:
    add_target_args(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(profile_default="aria_v4")


def run(args: argparse.Namespace) -> int:
    name = args.profile or "aria_v4"
    if name == profiles.NONE:
        raise AriaError("bootstrap needs a profile (aria_v4 or archon), not 'none'.")
    profile = profiles.load(name)
    target = resolve(args.dsn)
    with target.connect() as conn:
        result = bootstrap(conn, profile)
    if args.json:
        emit_json(
            {
                "ok": True,
                "profile": result.profile,
                "target": target.display,
                "created": list(result.created),
                "existing": list(result.existing),
            }
        )
    else:
        print(
            f"{profile.name}: {len(result.created)} tables created, "
            f"{len(result.existing)} already present on {target.display}."
        )
    return 0
