"""Step two of a file's schema diff: stream the file (which is also its structure check) and keep
what the later steps need, without the database: a bounded sample of the values of every loaded
column (the first records plus a spread), NULLs in NOT NULL columns and vector dimensions on every
row, and for columns the target lacks, whether any value at all is non-empty (dropping them then
loses nothing). Vectors are checked here, on the client (pgvector's input raises instead of
returning false); every other typed value is left to `server_check`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aria_tui import csvio
from aria_tui.csvio import BadRecord, CsvProblem, Header
from aria_tui.errors import AriaError
from aria_tui.lazy import lazy
from aria_tui.pg.catalog import Column, Table
from aria_tui.scan.alignment import Alignment
from aria_tui.scan.canonical import surely_valid
from aria_tui.scan.losses import ZONE_AT_END, losses_of

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")  # imported where first used: see aria_tui.lazy

HEAD_ROWS = 2000  # every record of the head of the file is sampled
SPREAD_ROWS = 2000  # then about this many more, evenly spaced over the rest of the file
BATCH_ROWS = 100_000  # iter_batches cuts at its ~8 MB blocks anyway; fewer batches, less overhead
MAX_VALUE_BYTES = 8 * 1024 * 1024  # per column, distinct values sent to the server at most
ISSUES_PER_COLUMN = 3  # shown per column; the count of all bad sampled values is kept apart
VALUE_WIDTH = 80
VECTOR_SAMPLE = 256  # vectors fully parsed per column; their dimension is checked on every row
LINE = "\x00line"  # the line-number column added to batches: no CSV header can name it
N = "\x00n"  # how many sampled records hold a value (_collect_distinct)

# A value that carries no information: dropping a column made only of these (and NULLs) loses
# nothing (seed 000 §7.1: goals.category / goals.metadata hold only NULL and {}). Exactly these:
# the word `null` and white space are values of a text column, which only the operator drops.
EMPTY_TEXTS = ("", "{}", "[]")

# Types whose input function accepts any text: nothing to ask the server about.
ANY_TEXT_TYPES = frozenset({"text", "character varying", "citext", "name"})
VECTOR_TYPES = frozenset({"vector", "halfvec"})
UNCHECKED_TYPES = frozenset({"sparsevec"})  # input raises, and its text form is not a dense list


@dataclass
class ColumnSample:
    """What the scan learnt about one CSV column that loads into `target`."""

    target: Column
    # distinct non-NULL sampled values with the line each was first seen on (for the server),
    # and how many sampled records hold each
    values: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    null_line: int | None = None  # first NULL anywhere in the file, when the target is NOT NULL
    null_sampled: int = 0  # and how many sampled records hold one
    zoneless: tuple[int, str] | None = None  # (line, value): a timestamptz value without a zone
    # (line, value, what the target would do to it): the first value the target's input
    # function would take and silently change (scan/losses.py)
    lost: tuple[int, str, str] | None = None
    bad: list[BadValue] = field(default_factory=list)  # found on the client (vectors)

    @property
    def kind(self) -> str:
        return _kind(self.target)


@dataclass
class BadValue:
    line: int
    value: str
    reason: str
    records: int = 1  # sampled records holding this value


@dataclass
class FileSample:
    """Everything `judge()` needs from the file; built without the database."""

    alignment: Alignment
    columns: dict[str, ColumnSample]  # CSV column (mapped or rename candidate) -> what was seen
    # extra column -> (line, value) of its first non-empty value, or None: all empty
    extra_values: dict[str, tuple[int, str] | None]
    sampled_rows: int = 0
    streamed: bool = False  # every record was read: the file's structure is sound
    problem: CsvProblem | None = None  # the file broke while streaming it
    notes: list[str] = field(default_factory=list)
    records: int | None = None  # the file's records, when the sampling counted them (large)
    estimate: int | None = None  # or their estimate, when it only read the head (count=False)
    bad_records: int = 0  # records COPY would refuse (the load rejects them one by one)
    bad_first: list[str] = field(default_factory=list)  # the first few, with their lines


def _kind(col: Column) -> str:
    if col.base_type in VECTOR_TYPES:
        return "vector"
    if col.base_type in UNCHECKED_TYPES or col.type in ANY_TEXT_TYPES:
        return "text"
    return "server"


def is_empty(col: str) -> pl.Expr:
    """True where a CSV column's value carries no information (EMPTY_TEXTS, or NULL)."""
    return pl.col(col).is_null() | pl.col(col).is_in(list(EMPTY_TEXTS))


SAMPLED_NOTE = "structure sampled: the load checks every record"
HEAD_NOTE = "only the head read, records estimated: the load checks and counts every record"


def sample_file(
    path: Path,
    header: Header,
    rows: int,
    alignment: Alignment,
    table: Table,
    stopped: Callable[[], bool] | None = None,
    large: bool = False,
    count: bool = True,
) -> FileSample:
    """Read the file once, only the columns that matter, and judge what the diff needs.

    A file up to csvio's LARGE_BYTES is streamed whole: reading every record is also the
    structure check (iter_batches stops at the first broken record), so a file that streams
    cleanly needs no separate pass, and NULLs in NOT NULL columns and the dimension of every
    vector are checked on all rows. A `large` file is surveyed instead (csvio.Survey: every
    record counted, `records` set, but only its head and pieces spread over it read), which
    keeps the scan of a 1 GB file to about a second in flat memory; the loader reads every
    record anyway and stops with the line of the first broken one, and the diff says so in a
    note. Unless the file has columns the target lacks: whether such a column is empty in
    every row (dropping it loses nothing) needs every row, so those files are streamed whole.

    Per batch the work is vectorised: the sample rows (all of the head, then every n-th record,
    or every row of a survey's pieces) are kept for the server check.
    """
    targets = {c: table.column(t) for c, t in alignment.mapping.items() if t is not None}
    for cand in alignment.candidates:
        targets[cand.source] = table.column(cand.target)
    columns = {c: ColumnSample(target=col) for c, col in targets.items() if col is not None}
    result = FileSample(
        alignment=alignment,
        columns=columns,
        extra_values={c: None for c in alignment.extras},
    )
    server = [c for c, smp in columns.items() if smp.kind == "server"]
    vectors = [c for c, smp in columns.items() if smp.kind == "vector"]
    # candidates are judged on values alone: a NULL says nothing about a rename
    candidate_sources = {r.source for r in alignment.candidates}
    not_null = [c for c, smp in columns.items() if smp.target.not_null and c not in candidate_sources]
    pending = list(alignment.extras)  # extra columns with no non-empty value seen yet
    # columns whose type would silently change some values (scan/losses.py), text ones included
    lossy = {c: rules for c, smp in columns.items() if (rules := losses_of(smp.target))}
    wanted = list(dict.fromkeys(server + vectors + not_null + pending + list(lossy))) or [
        header.columns[0]
    ]

    if not count and not (server or vectors or not_null or pending or lossy):
        # the load's scan (count=False) of a file whose values it need not read, large or not:
        # only the head's structure and an estimate, from the C reader, without polars; the
        # load reads, checks and counts every record itself, and no second pass precedes it
        head = _head(path, header)
        if head is not None:
            result.records, result.estimate = head
            if result.records is None:
                result.notes.append(HEAD_NOTE)
            else:
                result.streamed = True
            return result

    survey = None
    if large and not alignment.extras:
        survey = csvio.Survey(path, header, wanted, head_rows=HEAD_ROWS, walk=count)
        source: Iterable[csvio.Batch] = survey
        stride = 1  # the survey's pieces are the spread: every row of them is sampled
    else:
        source = csvio.iter_batches(path, header, BATCH_ROWS, wanted)
        rest = max(rows - HEAD_ROWS, 0)
        stride = max(1, -(-rest // SPREAD_ROWS)) if rest else 0
    chunks: list[pl.DataFrame] = []
    vector_chunks: list[pl.DataFrame] = []
    vector_rows = 0
    zoned = [c for c in server if columns[c].target.base_type == "timestamptz"]
    seen = 0  # records streamed, bad ones included: COPY's count (polars' misses an open quote)
    undecodable: list[bytes] = []  # the first bytes of records that are not UTF-8
    try:
        if survey is None and not (server or vectors or not_null or pending or lossy):
            # no value of the file is looked at, only its structure: counted by the C reader,
            # without polars (what a plain table's load would otherwise import just for this)
            structure = csvio.read_structure(path, header, stopped)
            if structure is not None:
                if stopped is not None and stopped():
                    return result
                source = ()
                seen = structure.records
                _take_bad(result, structure.bad, undecodable)
                result.sampled_rows = _picked_count(seen - len(structure.bad), stride)
        for batch in source:
            if stopped is not None and stopped():
                return result  # the scan was abandoned: nobody will read this sample
            seen += batch.frame.height + len(batch.bad)
            _take_bad(result, batch.bad, undecodable)
            frame = batch.frame.with_columns(batch.lines.alias(LINE))
            record = batch.start_record
            picked = _pick_rows(frame, record, frame.height, stride)
            if picked is not None and picked.height:
                result.sampled_rows += picked.height
                if not_null:
                    counted = picked.select(pl.col(c).is_null().sum() for c in not_null).row(0)
                    for c, n in zip(not_null, counted, strict=True):
                        columns[c].null_sampled += int(n or 0)
                if server:
                    keep = picked.select(*server, LINE)
                    if record:
                        # a few rows picked out of a later batch must not keep that batch's
                        # string buffers alive: copying them keeps memory flat in the file size
                        keep = pl.DataFrame(keep.to_dict(as_series=False), schema=keep.schema)
                    chunks.append(keep)
                if vectors and vector_rows < VECTOR_SAMPLE:
                    vector_chunks.append(picked.select(*vectors, LINE).head(VECTOR_SAMPLE - vector_rows))
                    vector_rows += vector_chunks[-1].height
            for c in vectors:
                _check_dimensions(frame, c, columns[c])
            for c in zoned:
                if columns[c].zoneless is None:
                    hit = frame.filter(_zoneless(c)).select(c, LINE).head(1)
                    if hit.height:
                        columns[c].zoneless = (int(hit[LINE][0]), short(hit[c][0]))
            for c, rules in lossy.items():
                for loss in rules:
                    if columns[c].lost is not None:
                        break
                    hit = frame.filter(loss.test(c)).select(c, LINE).head(1)
                    if hit.height:
                        columns[c].lost = (int(hit[LINE][0]), short(hit[c][0]), loss.what)
            nulls = [c for c in not_null if columns[c].null_line is None]
            if nulls or pending:
                # one pass over the batch for all columns: the index of the first NULL of each
                # NOT NULL column and of the first non-empty value of each extra column
                firsts = frame.select(
                    *(pl.col(c).is_null().arg_true().first().alias(f"n{i}") for i, c in enumerate(nulls)),
                    *((~is_empty(c)).arg_true().first().alias(f"e{i}") for i, c in enumerate(pending)),
                ).row(0)
                for c, at in zip(nulls, firsts[: len(nulls)], strict=True):
                    if at is not None:
                        columns[c].null_line = int(frame[LINE][at])
                for c, at in zip(list(pending), firsts[len(nulls) :], strict=True):
                    if at is not None:
                        result.extra_values[c] = (int(frame[LINE][at]), short(frame[c][at]))
                        pending.remove(c)
        verdict = csvio.wrong_encoding(len(undecodable), seen, undecodable)
        if verdict:  # not UTF-8 throughout: the load refuses it whole, and says so
            result.problem = CsvProblem(path.name, None, None, verdict.rstrip("."))
            return result
        if result.bad_records:
            where = "" if survey is None else " in the records sampled"
            result.notes.append(
                f"{result.bad_records} records{where} cannot be read as CSV records by COPY "
                f"(first: {'; '.join(result.bad_first)}): the load rejects each alone, with its "
                "lines and raw bytes, and loads the rest"
            )
        if survey is None:
            result.streamed = True
            result.records = seen
        else:
            result.records = survey.records
            result.estimate = survey.estimate
            result.notes.append(SAMPLED_NOTE if count else HEAD_NOTE)
    except AriaError as exc:
        result.problem = _structure_problem(path, header, exc)
        return result

    if chunks:
        _collect_distinct(pl.concat(chunks), {c: columns[c] for c in server})
    if vector_chunks:
        sample = pl.concat(vector_chunks)
        for c in vectors:
            _check_vector_sample(sample, c, columns[c])
    return result


# what _head reads of a large file: the survey's head (csvio.Survey), HEAD_ROWS records or
# HEAD_BYTES, whichever ends first, in blocks of HEAD_BLOCK
HEAD_BYTES = 8 << 20
HEAD_BLOCK = 1 << 20


def _head(path: Path, header: Header) -> tuple[int | None, int | None] | None:
    """(records, None) of a file the head holds whole, or (None, estimate): its head's records
    read by the C reader, as the polars survey of the head would judge them, scaled to the
    file's size. None when the C reader does not vouch for the head (the survey then reads it
    and names what is wrong), or for a compressed file (its size is not its bytes)."""
    if csvio.files.is_gzip(path) or csvio.native.module() is None:
        return None
    kinds = (csvio.native.ColumnKind.SKIP,) * len(header.columns)
    records = read = 0
    try:
        with csvio.open_bytes(path) as stream:
            csvio.files.skip(stream, header.bytes)
            size = path.stat().st_size - header.bytes
            eol = header.eol.encode("ascii")
            for block in csvio.cutter.iter_blocks(stream, eol, HEAD_BLOCK):
                got = csvio.native.read_records(block.data, header, kinds, lines=False)
                if got is None:
                    return None
                records += got.rows
                read += len(block.data)
                if records >= HEAD_ROWS or read >= HEAD_BYTES:
                    break
    except (OSError, EOFError, AriaError):
        return None
    if read >= size:  # the head is the whole file
        return records, None
    return None, round(records * size / read)


# a zone at the end of a timestamp: an offset, Z, or a name (UTC, Europe/Paris, EST...)


def _zoneless(col: str) -> pl.Expr:
    """A date-time written without a zone (what the session's TimeZone decides the instant of)."""
    v = pl.col(col)
    return v.str.contains(r"^\d{4}-\d{2}-\d{2}[ T]\d") & ~v.str.contains(ZONE_AT_END)


def _take_bad(result: FileSample, bad: Sequence[BadRecord], undecodable: list[bytes]) -> None:
    """Records COPY would refuse: counted, the first three named, the undecodable kept apart."""
    if bad:
        undecodable += [b.raw[:256] for b in bad if b.kind == "encoding"]
        result.bad_records += len(bad)
        result.bad_first += [b.sentence() for b in bad[: 3 - len(result.bad_first)]]


def _picked_count(records: int, stride: int) -> int:
    """How many of `records` (the readable ones) _pick_rows picks over the whole file."""
    head = min(records, HEAD_ROWS)
    if not stride or records <= HEAD_ROWS:
        return head
    return head + -(-(records - HEAD_ROWS) // stride)


def _pick_rows(frame: pl.DataFrame, start: int, n: int, stride: int) -> pl.DataFrame | None:
    """Rows of this batch in the sample: all of the head, then every `stride`-th record."""
    head = max(0, min(n, HEAD_ROWS - start))
    parts = []
    if head:
        parts.append(frame.slice(0, head))
    if stride and n > head:
        # global record numbers r with r >= HEAD_ROWS and (r - HEAD_ROWS) % stride == 0
        first = start + head
        offset = (-(first - HEAD_ROWS)) % stride
        if head + offset < n:
            parts.append(frame.slice(head + offset).gather_every(stride))
    if not parts:
        return None
    return pl.concat(parts) if len(parts) > 1 else parts[0]


def _collect_distinct(sample: pl.DataFrame, columns: dict[str, ColumnSample]) -> None:
    """The distinct sampled values of each column that the server has to judge, with the line
    each was first seen on: one lazy query per column, run together."""
    queries = []
    for col, out in columns.items():
        q = sample.lazy().select(col, LINE).filter(pl.col(col).is_not_null())
        surely = surely_valid(col, out.target)
        if surely is not None:
            q = q.filter(~surely)
        q = q.group_by(col, maintain_order=True).agg(pl.col(LINE).first(), pl.len().alias(N))
        # a few huge documents must not turn one scan into a long upload
        queries.append(q.filter(pl.col(col).str.len_bytes().cum_sum() <= MAX_VALUE_BYTES))
    for out, frame in zip(columns.values(), pl.collect_all(queries), strict=True):
        out.values = frame.get_column(frame.columns[0]).to_list()
        out.lines = frame.get_column(LINE).to_list()
        out.counts = frame.get_column(N).to_list()


def _check_dimensions(frame: pl.DataFrame, col: str, out: ColumnSample) -> None:
    """Every row's vector dimension, counted from its commas (cheap enough for all rows)."""
    dim = out.target.dimension
    if dim is None or len(out.bad) >= ISSUES_PER_COLUMN * 4:
        return
    counts = pl.col(col).str.count_matches(",", literal=True) + 1
    wrong = frame.filter(pl.col(col).is_not_null() & (counts != dim)).select(col, LINE, counts.alias("n"))
    for value, line, got in wrong.head(ISSUES_PER_COLUMN * 4).iter_rows():
        if value.strip() in ("[]", ""):
            continue  # no elements at all: parse_vectors words that better (sample or loader)
        out.bad.append(BadValue(int(line), short(value), f"expected {dim} dimensions, got {got}"))


def _check_vector_sample(sample: pl.DataFrame, col: str, out: ColumnSample) -> None:
    """Parse the first vectors exactly as pgvector would (numbers, brackets, NaN, range)."""
    rows = sample.select(col, LINE).filter(pl.col(col).is_not_null())
    if not rows.height:
        return
    parsed = csvio.parse_vectors(rows[col], out.target.dimension)
    seen = {b.line for b in out.bad}
    lines = rows[LINE]
    values = rows[col]
    for index, reason in parsed.bad.items():
        line = int(lines[index])
        if line not in seen:
            out.bad.append(BadValue(line, short(values[index]), reason))


def _structure_problem(path: Path, header: Header, exc: AriaError) -> CsvProblem:
    """The first broken record, as check_structure words it (it only runs on this failure path)."""
    try:
        problem = csvio.check_structure(path, header)
    except AriaError:
        problem = None
    return problem or _as_problem(exc, path)


def _as_problem(exc: AriaError, path: Path) -> CsvProblem:
    problem = getattr(exc, "problem", None)
    if isinstance(problem, CsvProblem):
        return problem
    return CsvProblem(file=path.name, line=None, column=None, reason=str(exc).rstrip("."))


def short(value: str) -> str:
    return value if len(value) <= VALUE_WIDTH else value[: VALUE_WIDTH - 1] + "…"
