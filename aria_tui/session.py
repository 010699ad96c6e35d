"""One cutover session: the export folder, the target and the profile, opened once.

    session = Session(export_dir, "embedded", profile=None)   # folder checked, profile resolved
    inventory = session.scan()                                 # the wizard's Inventory step
    plan = session.plan(Selection.of(["memories"]))            # which files, in FK order
    result = session.load(plan)                                # RunResult
    validation = session.validate(Selection())                 # Validation (+ report files)

The `scan`, `load` and `validate` subcommands, the wizard's workers and benchmarks/phases.py all
go through this object, so the stages are composed in one place: the same profile for every
stage, the same target, one Selection rule (aria_tui.selection), one sentence when the target
fails mid-way. No Textual here, and nothing heavy is imported until a stage runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aria_tui.errors import AriaError, first_line
from aria_tui.selection import Selection

if TYPE_CHECKING:
    import threading

    import psycopg

    from aria_tui.csvio.files import ExportFile
    from aria_tui.load.choices import Choices
    from aria_tui.load.decisions import Decision
    from aria_tui.load.model import LoadPlan, RunResult
    from aria_tui.pg.connect import Target
    from aria_tui.profiles import Profile
    from aria_tui.scan.model import Inventory
    from aria_tui.validate.model import Decided, Validation


class Session:
    """`Session(export_dir, target, profile)`.

    `target`: a `Target`, or a DSN string / None (resolved on first use, so a bad folder or
    profile fails at once, before an embedded server starts). `profile`: a name, a Profile,
    'none' for generic mode, or None to detect it from the file names. Raises ExportError for an
    unusable folder and AriaError for an unknown profile.
    """

    def __init__(
        self,
        export_dir: Path | str,
        target: Target | str | None = None,
        profile: str | Profile | None = None,
    ) -> None:
        from aria_tui import profiles
        from aria_tui.csvio.files import discover

        self.export_dir = Path(export_dir)
        self.files: list[ExportFile] = discover(self.export_dir)
        if profile is None or isinstance(profile, str):
            self.profile: Profile | None = profiles.resolve(profile, [f.stem for f in self.files])
        else:
            self.profile = profile
        # detection from the files failed: the target decides, once it is reached. Not for an
        # export with a manifest: it says itself what was exported (`export --tables` of a few)
        # and its missing files fail by its own list
        from aria_tui.manifest.format import MANIFEST_NAME

        self._ask_target = (
            profile is None
            and self.profile is None
            and not (self.export_dir / MANIFEST_NAME).exists()
        )
        self._target: Target | None = None
        self._dsn: str | None = None
        if target is None or isinstance(target, str):
            self._dsn = target
        else:
            self._target = target
        self.inventory: Inventory | None = None  # the last scan

    # -- what was opened ----------------------------------------------------------------------

    @property
    def target(self) -> Target:
        if self._target is None:
            from aria_tui.pg.connect import resolve

            self._target = resolve(self._dsn)
        return self._target

    @property
    def profile_name(self) -> str:
        """The profile's name, or 'none' in generic mode (what scan() takes)."""
        from aria_tui import profiles

        return self.profile.name if self.profile is not None else profiles.NONE

    @property
    def generic(self) -> bool:
        return self.profile is None

    # -- the stages ---------------------------------------------------------------------------

    def needs_bootstrap(self) -> bool:
        if self.profile is None:
            return False
        from aria_tui.pg.bootstrap import needs_bootstrap

        with self._connection("while reading its schema") as conn:
            return needs_bootstrap(conn, self.profile)

    def bootstrap(self) -> Any:
        """Create the profile's schema in the target when it is missing; None when nothing was
        done (generic mode, or already there). Returns the BootstrapResult otherwise."""
        if self.profile is None:
            return None
        from aria_tui.pg.bootstrap import bootstrap, needs_bootstrap

        with self._connection("while bootstrapping the schema") as conn:
            if not needs_bootstrap(conn, self.profile):
                return None
            return bootstrap(conn, self.profile)

    def scan(
        self,
        progress: Callable[[Any], None] | None = None,
        *,
        for_load: Selection | None = None,
        sample_values: bool = False,
    ) -> Inventory:
        """Inventory and schema diff of the folder against the target.

        `for_load`: the scan a load runs before it plans (aria_tui.load.prescan): only the files
        this selection may take are read, large files only by their head, no value sample
        unless `sample_values` (what `plan` asks: its file is reviewed before any load).
        """
        doing = "while reading the export plan" if for_load is not None else "during the scan"
        with self._connection(doing) as conn:
            self._settle_profile(conn)
            if for_load is not None:
                from aria_tui.load.prescan import scan_for_load

                inventory = scan_for_load(
                    self.export_dir,
                    conn,
                    self.profile,
                    target_display=self.target.display,
                    selection=for_load,
                    sample_values=sample_values,
                )
            else:
                from aria_tui.scan import scan

                inventory = scan(
                    self.export_dir,
                    conn,
                    self.profile or self.profile_name,
                    progress=progress,
                    target_display=self.target.display,
                )
            conn.rollback()
        self.inventory = inventory
        return inventory

    def plan(
        self,
        selection: Selection | None = None,
        inventory: Inventory | None = None,
        choices: Choices | None = None,
    ) -> LoadPlan:
        """The load plan of `selection` (default: the default selection) over `inventory` (default:
        a fresh scan for this selection), with the operator's `choices` (drift decisions and their
        DDL, conflict policies, accepted rejects) applied to the scan as it was read. AriaError
        for a name that is no file of the export, or a decision that names nothing."""
        from aria_tui.load.plan import plan_selection

        selection = selection or Selection()
        if inventory is None:
            inventory = self.scan(for_load=selection)
        if choices is None:
            return plan_selection(selection.resolve(inventory))
        decided, applied = choices.decided(inventory)
        self.check_values(inventory, choices.decisions)
        return choices.finish(plan_selection(selection.resolve(decided)), applied)

    def check_values(self, inventory: Inventory, decisions: Iterable[Decision]) -> None:
        """AriaError, one sentence, for a `fill:VALUE` decision whose VALUE the column's type
        does not take (the target's own input function says so); no connection without one."""
        fills = [d for d in decisions if d.action == "fill"]
        if not fills:
            return
        from aria_tui.load.decisions import check_values

        with self._connection("while checking the values to fill") as conn:
            check_values(conn, inventory, fills)
            conn.rollback()

    def load(
        self,
        plan: LoadPlan,
        *,
        dry_run: bool = False,
        on_event: Callable[[Any], None] | None = None,
        cancel: threading.Event | None = None,
        force_staging: bool = False,
        lock_timeout: str = "10s",
        jobs: int = 1,
    ) -> RunResult:
        from aria_tui.load import run_plan

        return run_plan(
            self.target,
            plan,
            dry_run=dry_run,
            on_event=on_event,
            cancel=cancel,
            force_staging=force_staging,
            lock_timeout=lock_timeout,
            jobs=jobs,
        )

    def validate(
        self,
        selection: Selection | None = None,
        *,
        report_dir: Path | None = None,
        on_event: Callable[[Any], None] | None = None,
        cancel: Any = None,
        lock_timeout: str | None = None,
        exact: bool = False,
        time_zone: str | None = None,
        choices: Choices | None = None,
    ) -> Validation:
        """`choices`: the operator's decisions (a plan file, `--accept-rejects`, the wizard's
        keys), judged as the load applied them: the scan seen through the drift decisions, the
        rejects accepted on purpose listed as decided away."""
        import psycopg

        from aria_tui.pg.session import DEFAULT_TIME_ZONE
        from aria_tui.validate.runner import DEFAULT_LOCK_TIMEOUT, validate

        target = self.target
        self.settle_profile()
        adjust = None
        if choices is not None and choices.decisions:
            decided = choices

            def adjust(inventory: Inventory) -> Inventory:
                return decided.decided(inventory)[0]

        try:
            return validate(
                self.export_dir,
                target,
                profile=self.profile_name,
                selection=selection or Selection(),
                report_dir=report_dir,
                on_event=on_event,
                cancel=cancel,
                lock_timeout=lock_timeout or DEFAULT_LOCK_TIMEOUT,
                exact=exact,
                adjust=adjust,
                time_zone=time_zone or DEFAULT_TIME_ZONE,
                decided=_decided(choices),
            )
        except psycopg.Error as exc:
            raise AriaError(
                target.redact(
                    f"The target failed during validation: {first_line(exc).rstrip('.')}."
                )
            ) from None

    def settle_profile(self) -> Profile | None:
        """The profile, asking the target when the export's files did not say which system it
        is (seed 004: the files that would have said so may be the ones that went missing)."""
        if self._ask_target:
            with self._connection("while reading the target's tables") as conn:
                self._settle_profile(conn)
                conn.rollback()
        return self.profile

    def _settle_profile(self, conn: Any) -> None:
        if not self._ask_target:
            return
        from aria_tui import profiles

        self._ask_target = False
        rows = conn.execute(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')"
        ).fetchall()
        self.profile = profiles.detect_in_target({r[0] for r in rows})

    # -- plumbing -----------------------------------------------------------------------------

    def _connection(self, doing: str) -> _Connected:
        return _Connected(self.target, doing)


def _decided(choices: Choices | None) -> Decided:
    """The operator's choices as validation reads them (it does not import the loader)."""
    from aria_tui.validate.model import NOTHING_DECIDED, Decided

    if choices is None:
        return NOTHING_DECIDED
    from aria_tui.status import KEEP_TARGET

    return Decided(
        accept_rejects=choices.accept_rejects,
        keep_target=frozenset(t for t, p in choices.policies.items() if p == KEEP_TARGET),
        keep_target_everywhere=choices.default_policy == KEEP_TARGET,
    )


class _Connected:
    """`with session._connection('during the scan') as conn`: a psycopg error from the target
    becomes one sentence (password-free) instead of a traceback."""

    def __init__(self, target: Target, doing: str) -> None:
        self.target = target
        self.doing = doing
        self.conn: psycopg.Connection | None = None

    def __enter__(self) -> psycopg.Connection:
        self.conn = self.target.connect()
        return self.conn

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        import psycopg

        assert self.conn is not None
        try:
            self.conn.close()
        except Exception:
            pass
        if isinstance(exc, psycopg.Error):
            raise AriaError(
                self.target.redact(
                    f"The target failed {self.doing}: {first_line(exc).rstrip('.')}."
                )
            ) from None
