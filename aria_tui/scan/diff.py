"""Schema diff of one CSV file against its live target table.

Four steps, so the CSV work of many files can run in threads and the target is asked once:

- `align()` lines the header up with the table by name, and proposes renames.
- `sample_file()` streams the file (which is also its structure check): a bounded sample of the
  values of every loaded column (the first records plus a spread), NULLs in NOT NULL columns and
  vector dimensions on every row, and for columns the target lacks, whether any value at all is
  non-empty (dropping them then loses nothing).
- `check_samples()` asks the target whether the sampled values cast (`pg_input_is_valid`), in one
  statement for the whole export; vectors were checked on the client while streaming (pgvector's
  input raises instead of returning false).
- `judge()` keeps the likely renames whose values fit as proposals (only profile renames and exact
  case folds are applied by themselves: a similar name is a guess the operator must accept) and
  gives the verdict.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import psycopg
from psycopg import sql

from aria_tui import csvio
from aria_tui.csvio import CsvProblem, Header
from aria_tui.errors import AriaError, first_line
from aria_tui.pg.catalog import Column, Table
from aria_tui.scan.model import (
    BLOCKED,
    BY_DEFAULT,
    BY_NONE,
    BY_NULL,
    DRIFT,
    MATCH,
    Diff,
    ExtraColumn,
    MissingColumn,
    Rename,
    TypeIssue,
)
from aria_tui.status import Blocker, BlockerKind, sentence_of

HEAD_ROWS = 2000  # every record of the head of the file is sampled
SPREAD_ROWS = 2000  # then about this many more, evenly spaced over the rest of the file
BATCH_ROWS = 100_000  # iter_batches cuts at its ~8 MB blocks anyway; fewer batches, less overhead
MAX_VALUE_BYTES = 8 * 1024 * 1024  # per column, distinct values sent to the server at most
ISSUES_PER_COLUMN = 3  # shown per column; the count of all bad sampled values is kept apart
VALUE_WIDTH = 80
VECTOR_SAMPLE = 256  # vectors fully parsed per column; their dimension is checked on every row
LINE = "\x00line"  # the line-number column added to batches: no CSV header can name it
RENAME_RATIO = 0.8

# A value that carries no information: dropping a column made only of these loses nothing
# (seed 000 §7.1: goals.category / goals.metadata hold only NULL and {}).
EMPTY_TEXTS = ("", "{}", "[]", "null")

# Types whose input function accepts any text: nothing to ask the server about.
ANY_TEXT_TYPES = frozenset({"text", "character varying", "citext", "name"})
VECTOR_TYPES = frozenset({"vector", "halfvec"})
UNCHECKED_TYPES = frozenset({"sparsevec"})  # input raises, and its text form is not a dense list


@dataclass(frozen=True)
class Alignment:
    """How the header lines up with the table, before any value is read."""

    mapping: dict[str, str | None]  # CSV column -> target column (None: no target column yet)
    matched: tuple[str, ...]
    renames: tuple[Rename, ...]  # from the profile: trusted
    candidates: tuple[Rename, ...]  # from name similarity: kept only if the values fit
    extras: tuple[str, ...]  # CSV columns with no target column (candidate sources included)
    generated: tuple[str, ...]  # CSV columns the target computes itself (GENERATED ALWAYS)


@dataclass
class ColumnSample:
    """What the scan learnt about one CSV column that loads into `target`."""

    target: Column
    # distinct non-NULL sampled values with the line each was first seen on (for the server)
    values: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    null_line: int | None = None  # first NULL anywhere in the file, when the target is NOT NULL
    zoneless: tuple[int, str] | None = None  # (line, value): a timestamptz value without a zone
    bad: list[_Bad] = field(default_factory=list)  # found on the client (vectors)

    @property
    def kind(self) -> str:
        return _kind(self.target)


@dataclass
class _Bad:
    line: int
    value: str
    reason: str


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


def align(header: Iterable[str], table: Table, renames: dict[str, str] | None = None) -> Alignment:
    """Match CSV columns to target columns by name (never by position), then by the profile's
    renames, and propose renames by name similarity for what is left on both sides."""
    cols = list(header)
    present = set(cols)
    target_names = set(table.column_names)
    mapping: dict[str, str | None] = {}
    matched: list[str] = []
    generated: list[str] = []
    used: set[str] = set()
    for name in cols:
        col = table.column(name)
        if col is None:
            continue
        if col.generated:
            generated.append(name)
            mapping[name] = None
        else:
            matched.append(name)
            mapping[name] = name
        used.add(name)

    profile_renames: list[Rename] = []
    for source, target in (renames or {}).items():
        col = table.column(target)
        # a rename only applies when the old name is in the file and the new one is not
        if source in present and source not in mapping and target not in present and col:
            if target in used or col.generated:
                continue
            profile_renames.append(Rename(source, target, "profile"))
            mapping[source] = target
            used.add(target)

    extras = [c for c in cols if c not in mapping]
    missing = [c for c in table.columns if c.name not in used and not c.generated]
    candidates = _similar(extras, [c.name for c in missing], target_names - used)
    return Alignment(
        # header order: the loader reads the file's fields in this order
        mapping={name: mapping.get(name) for name in cols},
        matched=tuple(matched),
        renames=tuple(profile_renames),
        candidates=tuple(candidates),
        extras=tuple(extras),
        generated=tuple(generated),
    )


def _similar(extras: list[str], missing: list[str], free: set[str]) -> list[Rename]:
    """Pair extra CSV columns with missing target columns whose names look like the same thing."""
    scored: list[tuple[float, str, str, str]] = []
    for source in extras:
        for target in missing:
            if target not in free:
                continue
            a, b = source.lower(), target.lower()
            if a == b:
                scored.append((1.0, source, target, "case"))
            elif a.removesuffix("_id") == b or b.removesuffix("_id") == a:
                scored.append((0.95, source, target, "same name without _id"))
            else:
                ratio = difflib.SequenceMatcher(None, a, b).ratio()
                if ratio >= RENAME_RATIO:
                    scored.append((ratio, source, target, "similar name"))
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    taken_s: set[str] = set()
    taken_t: set[str] = set()
    out: list[Rename] = []
    for _, source, target, why in scored:
        if source in taken_s or target in taken_t:
            continue
        taken_s.add(source)
        taken_t.add(target)
        out.append(Rename(source, target, why))
    return out


def _is_empty(col: str) -> pl.Expr:
    return pl.col(col).is_null() | pl.col(col).str.strip_chars().is_in(list(EMPTY_TEXTS))


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
    wanted = list(dict.fromkeys(server + vectors + not_null + pending)) or [header.columns[0]]

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
        for batch in source:
            if stopped is not None and stopped():
                return result  # the scan was abandoned: nobody will read this sample
            seen += batch.frame.height + len(batch.bad)
            if batch.bad:
                undecodable += [b.raw[:256] for b in batch.bad if b.kind == "encoding"]
                result.bad_records += len(batch.bad)
                result.bad_first += [b.sentence() for b in batch.bad[: 3 - len(result.bad_first)]]
            frame = batch.frame.with_columns(batch.lines.alias(LINE))
            record = batch.start_record
            picked = _pick_rows(frame, record, frame.height, stride)
            if picked is not None and picked.height:
                result.sampled_rows += picked.height
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
                        columns[c].zoneless = (int(hit[LINE][0]), _short(hit[c][0]))
            nulls = [c for c in not_null if columns[c].null_line is None]
            if nulls or pending:
                # one pass over the batch for all columns: the index of the first NULL of each
                # NOT NULL column and of the first non-empty value of each extra column
                firsts = frame.select(
                    *(pl.col(c).is_null().arg_true().first().alias(f"n{i}") for i, c in enumerate(nulls)),
                    *((~_is_empty(c)).arg_true().first().alias(f"e{i}") for i, c in enumerate(pending)),
                ).row(0)
                for c, at in zip(nulls, firsts[: len(nulls)], strict=True):
                    if at is not None:
                        columns[c].null_line = int(frame[LINE][at])
                for c, at in zip(list(pending), firsts[len(nulls) :], strict=True):
                    if at is not None:
                        result.extra_values[c] = (int(frame[LINE][at]), _short(frame[c][at]))
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


# a zone at the end of a timestamp: an offset, Z, or a name (UTC, Europe/Paris, EST...)
_ZONE_AT_END = r"(?i)([+-]\d{1,2}(:?\d{2}){0,2}|z|\s[a-z][a-z0-9/_+-]*)$"


def _zoneless(col: str) -> pl.Expr:
    """A date-time written without a zone (what the session's TimeZone decides the instant of)."""
    v = pl.col(col)
    return v.str.contains(r"^\d{4}-\d{2}-\d{2}[ T]\d") & ~v.str.contains(_ZONE_AT_END)


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
        surely = _surely_valid(col, out.target)
        if surely is not None:
            q = q.filter(~surely)
        q = q.unique(subset=col, keep="first", maintain_order=True)
        # a few huge documents must not turn one scan into a long upload
        queries.append(q.filter(pl.col(col).str.len_bytes().cum_sum() <= MAX_VALUE_BYTES))
    for out, frame in zip(columns.values(), pl.collect_all(queries), strict=True):
        out.values = frame.get_column(frame.columns[0]).to_list()
        out.lines = frame.get_column(LINE).to_list()


_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_INT_DIGITS = {"smallint": 4, "integer": 9, "bigint": 18}  # fewer digits than the type's limit
# at most 15 digits each side and an exponent below 100: far inside float8's range either way
# (float4's is too narrow, and it refuses underflow, so real is left to the server)
_FLOAT = r"^[+-]?(\d{1,15}\.?\d{0,15}|\.\d{1,15})([eE][+-]?\d{1,2})?$"
_TIMESTAMP = (
    r"^(\d{4})-(\d{2})-(\d{2})[ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?"
    r"([+-]([01]\d|2[0-3])(:?[0-5]\d)?|Z)?$"
)


def _surely_valid(col: str, target: Column) -> pl.Expr | None:
    """Values in the canonical form PostgreSQL itself writes for the type, which its input
    function certainly accepts: they need not travel to the server. Anything else (and every
    type not listed here) is still asked of the target; this only makes the question shorter
    (uuids, timestamps and integers are most of an export's sampled values)."""
    v = pl.col(col)
    typ = target.type
    if typ == "uuid":
        return v.str.contains(_UUID)
    if typ in _INT_DIGITS:
        return v.str.contains(rf"^[+-]?\d{{1,{_INT_DIGITS[typ]}}}$")
    if typ == "double precision":
        return v.str.contains(_FLOAT)
    sized = re.fullmatch(r"(?:character varying|character)\((\d+)\)", typ)  # not an array
    if sized:
        return v.str.len_chars() <= int(sized.group(1))
    scaled = re.fullmatch(r"numeric\((\d+),(\d+)\)", typ)
    if scaled:
        precision, scale = int(scaled.group(1)), int(scaled.group(2))
        whole = v.str.extract(r"^[+-]?(\d*)\.?(\d*)$", 1)
        frac = v.str.extract(r"^[+-]?(\d*)\.?(\d*)$", 2)
        return (
            v.str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)$")
            & (whole.str.len_chars() <= precision - scale)
            & (frac.str.len_chars() <= scale)
        ).fill_null(False)
    if typ in ("timestamp with time zone", "timestamp without time zone", "date"):
        date = v.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        form = v.str.contains(_TIMESTAMP) if typ != "date" else v.str.contains(r"^\d{4}-\d{2}-\d{2}$")
        return (form & date.is_not_null() & (v.str.slice(0, 4) != "0000")).fill_null(False)
    return None


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
        out.bad.append(_Bad(int(line), _short(value), f"expected {dim} dimensions, got {got}"))


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
            out.bad.append(_Bad(line, _short(values[index]), reason))


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


def _short(value: str) -> str:
    return value if len(value) <= VALUE_WIDTH else value[: VALUE_WIDTH - 1] + "…"


def judge(sample: FileSample, table: Table) -> Diff:
    """The verdict for one file, once `check_samples` has asked the target about its values."""
    al = sample.alignment
    bad = _bad_values(sample)

    # a similar name is proposed only if every sampled value fits the target column's type, and
    # applied by itself only when it is the same name up to case: `duration_ms` -> `duration_s`
    # or `is_active` -> `is_inactive` look alike and mean other things
    fitting = [c for c in al.candidates if not bad.get(c.source)]
    accepted = [c for c in fitting if c.why == "case"]
    proposals = [c for c in fitting if c.why != "case"]
    proposed = {p.source: p for p in proposals}
    renames = list(al.renames) + accepted
    mapping = dict(al.mapping)
    for r in accepted:
        mapping[r.source] = r.target
    used = {t for t in mapping.values() if t is not None}

    extras: list[ExtraColumn] = []
    for name in al.extras:
        if mapping.get(name) is not None:
            continue
        first = sample.extra_values.get(name)
        extras.append(
            ExtraColumn(
                name=name,
                all_empty=first is None,
                first_value_line=first[0] if first else None,
                first_value=first[1] if first else None,
            )
        )

    missing = [
        MissingColumn(c.name, _filled_by(c))
        for c in table.columns
        if c.name not in used and not c.generated
    ]

    issues: list[TypeIssue] = []
    counts: dict[str, int] = {}
    for source, target in mapping.items():
        if target is None:
            continue
        col_bad = bad.get(source, [])
        smp = sample.columns.get(source)
        if smp is not None and smp.target.not_null and smp.null_line is not None:
            col_bad = [
                _Bad(smp.null_line, "", f"empty field (NULL) but {table.qualified}.{target} is NOT NULL"),
                *col_bad,
            ]
        if col_bad:
            col_bad.sort(key=lambda b: b.line)
            counts[source] = len(col_bad)
            issues += [TypeIssue(source, b.line, b.value, b.reason) for b in col_bad[:ISSUES_PER_COLUMN]]
    issues.sort(key=lambda i: (i.line, i.column))

    loaded = [t for t in (mapping[c] for c in mapping) if t is not None]
    positions = [c.position for t in loaded if (c := table.column(t)) is not None]
    reordered = positions != sorted(positions)

    blockers: list[Blocker] = []
    if sample.problem is not None:
        blockers.append(Blocker(BlockerKind.CSV, sample.problem.sentence()))
    for e in extras:
        if not e.all_empty:
            guess = proposed.get(e.name)
            hint = (
                f" (it may be {guess.target}: accept with --decide "
                f"{table.qualified}.{e.name}=rename:{guess.target})"
                if guess
                else f" (decide: --decide {table.qualified}.{e.name}=add or =drop)"
            )
            blockers.append(
                Blocker(
                    BlockerKind.SCHEMA,
                    f"Column {e.name} is not in {table.qualified} and holds data (line "
                    f"{e.first_value_line}: {e.first_value!r}), which loading would lose{hint}",
                )
            )
    for m in missing:
        if m.filled_by == BY_NONE:
            blockers.append(
                Blocker(
                    BlockerKind.SCHEMA,
                    f"Target column {table.qualified}.{m.name} is NOT NULL without a default and "
                    "the file has no such column",
                )
            )
    if not loaded:
        blockers.append(
            Blocker(BlockerKind.SCHEMA, f"No column of the file matches a column of {table.qualified}")
        )

    # the columns' own verdict, whatever blocks the file: an operator's decision that lifts a
    # blocker (the manifest override) loads it by this verdict
    drift = extras or renames or missing or reordered or issues or al.generated
    verdict = DRIFT if drift else MATCH
    status = BLOCKED if blockers else verdict
    reason = sentence_of(blockers)

    notes = list(sample.notes) + [
        f"{table.qualified}.{name} is computed by the target; the file's values are not loaded"
        for name in al.generated
    ]
    for csv_name, smp in sample.columns.items():
        if smp.zoneless is not None:
            line, value = smp.zoneless
            notes.append(
                f"Column {csv_name} holds timestamps without a time zone (line {line}: "
                f"{value!r}) for {table.qualified}.{smp.target.name} (timestamptz): the load reads "
                "them in UTC, whatever the shell's PGTZ says (--time-zone to choose another)"
            )

    return Diff(
        status=status,
        matched=al.matched,
        extra_columns=tuple(extras),
        missing_columns=tuple(missing),
        renames=tuple(renames),
        type_issues=tuple(issues),
        reason=reason,
        mapping=tuple(mapping.items()),
        reordered=reordered,
        sampled_rows=sample.sampled_rows,
        type_issue_counts=counts,
        notes=tuple(notes),
        proposals=tuple(proposals),
        blockers=tuple(blockers),
        verdict=verdict,
    )


def _filled_by(col: Column) -> str:
    if col.has_default:
        return BY_DEFAULT
    return BY_NONE if col.not_null else BY_NULL


def _bad_values(sample: FileSample) -> dict[str, list[_Bad]]:
    return {source: list(smp.bad) for source, smp in sample.columns.items() if smp.bad}


# One SELECT per column, glued with UNION ALL into one statement for the whole export: a round
# trip per file costs more than the checking itself. The type is a constant per column so
# pg_input_is_valid parses it once (it caches the parsed type across calls). The values travel as
# one JSON array each: json.dumps is C code, where psycopg's array dumper costs Python work per
# element (0.35 s for the 100,000 values of the full Aria export).
_COLUMN_CHECK = (
    "SELECT {k}, u.i, (pg_input_error_info(u.v, {t})).message "
    "FROM json_array_elements_text({v}::json) WITH ORDINALITY AS u(v, i) "
    "WHERE NOT pg_input_is_valid(u.v, {t})"
)

_Job = tuple[FileSample, str, ColumnSample]  # a file, one of its CSV columns, what was sampled


def check_samples(samples: list[FileSample], conn: psycopg.Connection) -> None:
    """Ask the target which sampled values its input functions refuse; the answers are added to
    each column's `bad` list. One statement for all files; if an input function raises instead
    of reporting (an extension type without soft errors), each column is asked on its own so
    only that one goes unchecked, with a note saying so."""
    jobs: list[_Job] = [
        (sample, source, smp)
        for sample in samples
        for source, smp in sample.columns.items()
        if smp.kind == "server" and smp.values
    ]
    if not jobs:
        return
    try:
        _apply(jobs, _run_check(conn, jobs))
    except psycopg.Error:
        for job in jobs:
            sample, source, smp = job
            try:
                _apply([job], _run_check(conn, [job]))
            except psycopg.Error as exc:
                if conn.broken or conn.closed:
                    raise  # the target is gone, not one type's input function
                first = first_line(exc)
                sample.notes.append(
                    f"values of column {source} were not type-checked: the target's "
                    f"{smp.target.type} input raised ({first})"
                )


def _run_check(conn: psycopg.Connection, jobs: list[_Job]) -> list[tuple[int, int, str]]:
    parts = [
        sql.SQL(_COLUMN_CHECK).format(
            k=sql.Literal(k), t=sql.Literal(smp.target.type), v=sql.Placeholder(f"v{k}")
        )
        for k, (_, _, smp) in enumerate(jobs)
    ]
    params = {f"v{k}": json.dumps(smp.values, ensure_ascii=False) for k, (_, _, smp) in enumerate(jobs)}
    # a savepoint when the caller has a transaction open: a raising input function must not
    # abort the caller's work
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(sql.SQL(" UNION ALL ").join(parts), params)
        return cur.fetchall()


def _apply(jobs: list[_Job], rows: list[tuple[int, int, str]]) -> None:
    for k, i, message in rows:
        _, _, smp = jobs[k]
        smp.bad.append(_Bad(smp.lines[i - 1], _short(smp.values[i - 1]), message))
