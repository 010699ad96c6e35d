"""Vector values for binary COPY: parsed by `aria_tui.csvio.vectors`, encoded by
`aria_tui.csvio.vector_binary`.

There is one vector reader in aria-tui (pgvector's rules, vectorised with polars, the reasons a
bad vector is refused): csvio's, which the scan uses on its sample and the loader on every row
(`csvio.vector_copy_fields`, see binary.py). This module keeps the loader's name for a NULL
binary COPY field, which the other encoders (encoders.py) import from here.
"""

from aria_tui.csvio.vector_binary import NULL_FIELD

__all__ = ["NULL_FIELD"]
