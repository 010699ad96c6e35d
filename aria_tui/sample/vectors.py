"""pgvector text for sample embeddings, fast enough for 218,714 rows of 1536 dimensions.

Formatting floats is the hot spot of the Archon benchmark export (336 M values at full scale), so
each vector is glued from two pre-formatted halves: two pools of 64 halves give 4,096 distinct
vectors for the price of formatting 128, and the CSV field is built once per pair lookup.
"""

from __future__ import annotations

from aria_tui.sample.pgtext import Verbatim
from aria_tui.sample.rand import Gen

POOL = 64


def _component(g: Gen, sigma: float) -> str:
    x = g.gauss(0.0, sigma)
    # six significant digits round-trip through float4 exactly, so this text is what pgvector
    # prints back; keep |x| >= 1e-4 so that it never switches to exponent notation
    if abs(x) < 1e-4:
        x = 1e-4 if x >= 0 else -1e-4
    return f"{x:.6g}"


class VectorPool:
    """Quoted CSV fields `"[v1,v2,...]"` of a fixed dimension, chosen by an integer."""

    def __init__(self, seed: int, dim: int, label: str = "vectors") -> None:
        if dim < 2:
            raise ValueError("vector dimension must be at least 2")
        g = Gen(seed, f"{label}:{dim}")
        sigma = dim**-0.5  # unit-length-ish vectors, like real embedding models produce
        first, second = dim // 2, dim - dim // 2
        self.dim = dim
        self.heads = [
            '"[' + ",".join(_component(g, sigma) for _ in range(first)) for _ in range(POOL)
        ]
        self.tails = [
            ",".join(_component(g, sigma) for _ in range(second)) + ']"' for _ in range(POOL)
        ]

    def field(self, k: int) -> Verbatim:
        """Vector number k (any integer) as a finished CSV field."""
        return Verbatim(self.heads[k % POOL] + "," + self.tails[(k // POOL) % POOL])

    def pick(self, g: Gen) -> Verbatim:
        return self.field(g.randrange(POOL * POOL))
