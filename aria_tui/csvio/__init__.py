"""Reading a PostgreSQL CSV export exactly as `COPY ... (FORMAT csv, HEADER true)` reads it.

Fast where the file is what PostgreSQL writes (polars, record-aligned blocks, flat memory) and
exact everywhere (a byte-level reader of PostgreSQL's rules takes over where polars could differ).
"""

from aria_tui.csvio.batches import Batch, iter_batches
from aria_tui.csvio.files import ExportFile, discover, open_bytes
from aria_tui.csvio.header import Header, read_header
from aria_tui.csvio.problems import CsvProblem
from aria_tui.csvio.records import check_structure, count_records
from aria_tui.csvio.vectors import VectorParse, parse_vectors, vector_binary_payloads

__all__ = [
    "Batch",
    "CsvProblem",
    "ExportFile",
    "Header",
    "VectorParse",
    "check_structure",
    "count_records",
    "discover",
    "iter_batches",
    "open_bytes",
    "parse_vectors",
    "read_header",
    "vector_binary_payloads",
]
