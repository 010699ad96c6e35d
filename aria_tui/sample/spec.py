"""The shape every table generator shares: a column list, and rows made from a context."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from aria_tui.errors import AriaError
from aria_tui.sample.rand import Gen, stable_uuid
from aria_tui.sample.vectors import VectorPool

# a row is a mapping column -> value, a sequence in column order, or a finished CSV line (hot paths)
Row = Mapping[str, object] | Sequence[object] | str


@dataclass
class Ctx:
    """What a generator may know: the seed, and how many rows every file of this run gets."""

    seed: int
    counts: dict[str, int]
    _pools: dict[tuple[str, int], VectorPool] = field(default_factory=dict)

    def gen(self, file: str) -> Gen:
        return Gen(self.seed, file)

    def id(self, file: str, index: int) -> str:
        """The primary key of row `index` of `file`, known to child tables without storing it."""
        return stable_uuid(self.seed, file, index)

    def count(self, file: str) -> int:
        return self.counts.get(file, 0)

    def parent(self, child: str, file: str) -> int:
        """Rows of a parent that a NOT NULL foreign key of `child` must point at."""
        n = self.count(file)
        if n <= 0:
            raise AriaError(
                f"The sample table {child} needs rows in {file}, which is set to 0 rows."
            )
        return n

    def vectors(self, dim: int, label: str = "vectors") -> VectorPool:
        key = (label, dim)
        if key not in self._pools:
            self._pools[key] = VectorPool(self.seed, dim, label)
        return self._pools[key]


Generate = Callable[[Ctx, int], Iterable[Row]]


@dataclass(frozen=True)
class TableSpec:
    file: str
    columns: tuple[str, ...]
    generate: Generate


class Registry:
    """Table generators of one profile, by file stem."""

    def __init__(self) -> None:
        self.specs: dict[str, TableSpec] = {}

    def table(self, file: str, columns: str) -> Callable[[Generate], Generate]:
        """Decorator: `@reg.table("memories", "id key value ...")` registers a generator."""

        def wrap(fn: Generate) -> Generate:
            self.specs[file] = TableSpec(file, tuple(columns.split()), fn)
            return fn

        return wrap
