"""Reading a PostgreSQL CSV export exactly as `COPY ... (FORMAT csv, HEADER true)` reads it.

Fast where the file is what PostgreSQL writes (polars, record-aligned blocks, flat memory) and
exact everywhere (a byte-level reader of PostgreSQL's rules takes over where polars could differ).
"""

from aria_tui.csvio.batches import Batch, BlockProblem, iter_batches, record_lines
from aria_tui.csvio.cutter import tune_malloc
from aria_tui.csvio.exact import BadRecord, has_marker, wrong_encoding
from aria_tui.csvio.files import ExportFile, discover, open_bytes
from aria_tui.csvio.header import Header, read_header
from aria_tui.csvio.problems import CsvProblem
from aria_tui.csvio.readers import BlockRead, Declined, read_block
from aria_tui.csvio.records import LARGE_BYTES, Survey, check_structure, count_records
from aria_tui.csvio.structure import Structure, read_structure
from aria_tui.csvio.vector_binary import NULL_FIELD, vector_binary_payloads
from aria_tui.csvio.vectors import (
    VectorFields,
    VectorParse,
    complete_fields,
    parse_vectors,
    vector_copy_fields,
)

__all__ = [
    "BadRecord",
    "has_marker",
    "wrong_encoding",
    "LARGE_BYTES",
    "NULL_FIELD",
    "Batch",
    "BlockProblem",
    "BlockRead",
    "CsvProblem",
    "Declined",
    "ExportFile",
    "Header",
    "Structure",
    "Survey",
    "VectorFields",
    "VectorParse",
    "check_structure",
    "complete_fields",
    "count_records",
    "discover",
    "iter_batches",
    "open_bytes",
    "parse_vectors",
    "read_block",
    "read_header",
    "read_structure",
    "record_lines",
    "tune_malloc",
    "vector_binary_payloads",
    "vector_copy_fields",
]
