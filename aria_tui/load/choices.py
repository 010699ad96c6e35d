"""The operator's decisions of one cutover, however they were given: one value, one way to apply.

The plan file, the CLI's `--decide` / `--on-conflict` / `--accept-rejects` and the wizard's keys
all end up as a `Choices`; `Session.plan(..., choices=)` applies it the same way for each, so the
wizard's plan, the saved plan file and `load --plan` cannot drift apart.

    choices = Choices.of_cutover(cp).merged(Choices(decisions=(...), default_policy="take-export"))
    plan = session.plan(selection, inventory, choices)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from aria_tui.errors import AriaError

if TYPE_CHECKING:
    from aria_tui.load import decisions as dec
    from aria_tui.load.cutover import CutoverPlan
    from aria_tui.load.model import LoadPlan, TablePlan
    from aria_tui.scan.model import Inventory


@dataclass(frozen=True)
class Choices:
    decisions: tuple[dec.Decision, ...] = ()
    # per 'schema.table'; `default_policy` (the CLI's --on-conflict) overrides them all
    policies: Mapping[str, str] = field(default_factory=dict)
    default_policy: str | None = None
    accept_rejects: frozenset[str] = frozenset()
    # 'schema.table' loaded with their user triggers switched off (load/triggers.py)
    triggers_off: frozenset[str] = frozenset()
    jobs: int | None = None  # tables side by side, as the wizard last chose (None: not said)

    @classmethod
    def of_cutover(cls, cp: CutoverPlan) -> Choices:
        return cls(
            decisions=tuple(cp.decisions),
            policies={t.target: t.on_conflict for t in cp.tables},
            accept_rejects=frozenset(t.target for t in cp.tables if t.accept_rejects),
            triggers_off=frozenset(t.target for t in cp.tables if t.triggers_off),
            jobs=cp.jobs,
        )

    def merged(self, other: Choices) -> Choices:
        """`other` on top of these (the command line on top of the plan file)."""
        return Choices(
            decisions=self.decisions + other.decisions,
            policies={**self.policies, **other.policies},
            default_policy=other.default_policy or self.default_policy,
            accept_rejects=self.accept_rejects | other.accept_rejects,
            triggers_off=self.triggers_off | other.triggers_off,
            jobs=other.jobs if other.jobs is not None else self.jobs,
        )

    # -- the wizard edits them one key at a time ----------------------------------------------

    def decision(self, table: str, column: str) -> dec.Decision | None:
        return next((d for d in self.decisions if (d.table, d.column) == (table, column)), None)

    def with_decision(self, decision: dec.Decision) -> Choices:
        """One decision per (table, column): a new one replaces the old."""
        kept = tuple(
            d for d in self.decisions if (d.table, d.column) != (decision.table, decision.column)
        )
        return replace(self, decisions=(*kept, decision))

    def without_decision(self, table: str, column: str) -> Choices:
        return replace(
            self,
            decisions=tuple(d for d in self.decisions if (d.table, d.column) != (table, column)),
        )

    def for_table(self, table: str) -> list[dec.Decision]:
        return [d for d in self.decisions if d.table == table]

    def with_policy(self, table: str, policy: str) -> Choices:
        return replace(self, policies={**self.policies, table: policy})

    def with_triggers_off(self, table: str, off: bool) -> Choices:
        """`table` loaded with its user triggers switched off (or not)."""
        rest = self.triggers_off - {table}
        return replace(self, triggers_off=rest | {table} if off else rest)

    # -- applied --------------------------------------------------------------------------------

    def decided(self, inventory: Inventory) -> tuple[Inventory, dict[str, dec.Applied]]:
        """The inventory as the decisions make it, and their DDL and notes per table."""
        if not self.decisions:
            return inventory, {}  # decide()'s answer, without importing it (issue 17's budget)
        from aria_tui.load import decisions

        return decisions.decide(inventory, list(self.decisions))

    def finish(self, plan: LoadPlan, applied: Mapping[str, dec.Applied]) -> LoadPlan:
        """`plan` with the decisions' DDL, the conflict policies, the accepted rejects and the
        tables whose triggers are switched off."""
        from aria_tui.load.plan import with_policy

        if applied:
            from aria_tui.load import decisions

            plan = decisions.finish(plan, dict(applied))
        plan = with_policy(plan, dict(self.policies))
        plan = with_policy(plan, self.default_policy)
        plan = _flagged(
            plan, self.accept_rejects, "--accept-rejects", lambda tp: replace(tp, accept_rejects=True)
        )
        return _flagged(
            plan, self.triggers_off, "--triggers-off", lambda tp: replace(tp, triggers_off=True)
        )


def _flagged(
    plan: LoadPlan, targets: frozenset[str], option: str, mark: Callable[[TablePlan], TablePlan]
) -> LoadPlan:
    """`plan` with a table-level decision (`mark`) on the tables `targets` names; a name the
    plan does not load is refused in one sentence."""
    unknown = targets - {tp.target for tp in plan.tables}
    if unknown:
        raise AriaError(f"{option} names {', '.join(sorted(unknown))}, which this load does not load.")
    if not targets:
        return plan
    return replace(
        plan,
        tables=tuple(
            mark(tp) if tp.target in targets else tp for tp in plan.tables
        ),
    )


def of_args(
    decide: Iterable[str] | None,
    on_conflict: str | None,
    accept_rejects: Iterable[str] | None,
    triggers_off: Iterable[str] | None = None,
) -> Choices:
    """The command line's `--decide`, `--on-conflict`, `--accept-rejects` and `--triggers-off`."""
    parsed: tuple[dec.Decision, ...] = ()
    if decide:
        from aria_tui.load import decisions

        parsed = tuple(decisions.parse(d) for d in decide)
    return Choices(
        decisions=parsed,
        default_policy=on_conflict,
        accept_rejects=frozenset(accept_rejects or ()),
        triggers_off=frozenset(triggers_off or ()),
    )
