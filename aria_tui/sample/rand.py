"""Deterministic randomness: the same seed gives byte-identical files, on any machine, any day.

No wall clock, no uuid4(): every value comes from a `random.Random` seeded by (seed, table), and a
row's primary key is a pure function of (seed, table, row number), so a child table can point at
its parent's rows without either of them being held in memory.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

from aria_tui.sample.pgtext import timestamptz


def stable_uuid(seed: int, table: str, index: int) -> str:
    """The id of row `index` of `table`: a version-4-shaped UUID derived from the seed."""
    h = bytearray(hashlib.blake2b(f"{seed}:{table}:{index}".encode(), digest_size=16).digest())
    h[6] = (h[6] & 0x0F) | 0x40
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def stable_int(seed: int, label: str, index: int) -> int:
    """A 64-bit number fixed by (seed, label, index): a choice two tables must agree on."""
    return int.from_bytes(
        hashlib.blake2b(f"{seed}:{label}:{index}".encode(), digest_size=8).digest(), "big"
    )


class Gen(random.Random):
    """`random.Random` with the helpers the table generators share."""

    def __init__(self, seed: int, table: str) -> None:
        # a str seed is hashed with sha512, stable across Python versions and runs
        super().__init__(f"aria-tui-sample:{seed}:{table}")

    def uuid(self) -> str:
        h = bytearray(self.randbytes(16))
        h[6] = (h[6] & 0x0F) | 0x40
        h[8] = (h[8] & 0x3F) | 0x80
        x = h.hex()
        return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"

    def hexstr(self, chars: int) -> str:
        return self.randbytes((chars + 1) // 2).hex()[:chars]

    def maybe(self, p: float, value: object) -> object:
        """`value` with probability p, else None (a NULL)."""
        return value if self.random() < p else None

    def when(self, start: datetime, end: datetime) -> datetime:
        """A moment between start and end, with microseconds (PG prints them trimmed)."""
        span = int((end - start).total_seconds() * 1_000_000)
        return start + timedelta(microseconds=self.randrange(max(span, 1)))

    def ts(self, start: datetime, end: datetime) -> str:
        return timestamptz(self.when(start, end))

    def spread(self, i: int, n: int, start: datetime, end: datetime) -> datetime:
        """Row i of n spread evenly over [start, end) with jitter, so files read in time order."""
        span = (end - start).total_seconds()
        base = start + timedelta(seconds=span * i / max(n, 1))
        return base + timedelta(microseconds=self.randrange(max(int(span / max(n, 1) * 1e6), 1)))

    def after(self, moment: datetime, max_seconds: float) -> datetime:
        return moment + timedelta(microseconds=self.randrange(max(int(max_seconds * 1e6), 1)))

    def unit(self, digits: int = 3) -> float:
        """A float in [0, 1] rounded so that both PG float8 and jsonb numeric print it alike."""
        return round(self.random(), digits)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
