"""A CSV file read in blocks and encoded as binary COPY tuples, in threads (for binary.py).

A producer thread cuts the file into record-aligned blocks (csvio, constant memory); worker
threads read each block as PostgreSQL's COPY would (csvio.read_block: the C reader, or polars
where its reading is proven identical, the exact parser where it is not), parse and check the
vectors (bad ones become rejects with their line and never reach the server) and encode each
field for its destination (`Encoding`: the target table's own types, or the stage's text and
vector(n)); `batches()` hands them over in file order with their record and line numbers.
"""

from __future__ import annotations

import struct
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import Path
from typing import TYPE_CHECKING

from aria_tui import csvio
from aria_tui.csvio import NULL_FIELD, Header, cutter, native
from aria_tui.lazy import lazy
from aria_tui.load import encoders
from aria_tui.load.chunks import Hasher, blocks
from aria_tui.load.encoders import Encoder, encoder_for
from aria_tui.load.model import TablePlan
from aria_tui.load.staging import Stage

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")  # imported where first used: see aria_tui.lazy

# CSV per batch. A block read by polars costs ~7x its size in flight (the text, polars' frame,
# the vector elements' views, floats, fields, payload), one read by the C reader ~1.5x: 3 MB
# blocks kept `aria-tui load` of a 1.1 GB vector file at 180-200 MB peak RSS on the polars path
# (4 MB: 200-215), and of a 4 GB one at 153-167 MB on the C path with READ_AHEAD blocks ahead.
# 8 MB blocks were ~10% faster in wall time on a noisy machine but +40 MB peak RSS on a 368 MB file
# (over 200 MB on the 4 GB one); 1 MB no faster (benchmarks/README.md).
BLOCK_BYTES = 3 << 20

_int8 = struct.Struct(">iq").pack
_len = struct.Struct(">i").pack


@dataclass
class Batch:
    rows: int
    columns: list[list[bytes]]  # encoded fields, one list per COPY column (rec, line not included)
    tuple_head: bytes
    with_rec: bool
    sent: int
    bytes_in: int  # CSV bytes of the block
    raw_done: int | None  # compressed bytes read once this block was (.gz only)
    spans: int  # physical lines the block spans
    lines: pl.Series | None  # each record's line minus the block's first (when computed)
    with_line: bool = False  # the stage wants each record's line (whole-file staging)
    bad: dict[int, str] = field(default_factory=dict)  # row index -> reason
    bad_fields: dict[int, tuple] = field(default_factory=dict)  # row index -> raw CSV fields
    # records COPY would refuse, by row index (lines counted from the block's first)
    structural: dict[int, csvio.BadRecord] = field(default_factory=dict)
    # known once batches are in file order:
    start_rec: int = 0  # record number of the first row (1-based)
    first_line: int = 0  # physical line the block starts on
    bytes_done: int = 0  # on-disk bytes consumed once this block is done
    ready: bytes | None = None  # the payload, once built

    def payload(self) -> bytes:
        """The binary COPY tuples of the rows that go to the server."""
        n = self.rows
        columns = self.columns
        if not self.with_rec:  # nothing depends on the file order: done by the worker
            if self.ready is None:
                self.ready = _tuples(self.tuple_head, n, columns, self.bad)
                self.columns = []  # a payload's worth of small bytes objects, freed now
            return self.ready
        if self.with_line:
            assert self.lines is not None
            lines = (self.lines + self.first_line).to_list()
            columns = [[_int8(8, line) for line in lines], *columns]
        if self.with_rec:
            columns = [[_int8(8, r) for r in range(self.start_rec, self.start_rec + n)], *columns]
        return _tuples(self.tuple_head, n, columns, self.bad)

    def line_of(self, index: int) -> int:
        assert self.lines is not None
        return self.first_line + int(self.lines[index])


def _tuples(head: bytes, n: int, columns: list[list[bytes]], bad: dict[int, str]) -> bytes:
    rows: Iterable[tuple[bytes, ...]] = zip(repeat(head, n), *columns, strict=True)
    if bad:
        rows = (row for i, row in enumerate(rows) if i not in bad)
    return b"".join(chain.from_iterable(rows))


# what the C reader makes itself (the stage's text fields, and the encoders whose exact work it
# does: same accepted spellings, same bytes); other encoders get the values as str, for polars
_NATIVE_KINDS: dict[object, native.ColumnKind] = {
    "text": native.ColumnKind.COPYTEXT,
    encoders.text_field: native.ColumnKind.COPYTEXT,
    encoders.jsonb_field: native.ColumnKind.JSONB,
    encoders.uuid_field: native.ColumnKind.UUID,
    encoders.timestamptz_field: native.ColumnKind.TIMESTAMPTZ,
    encoders.timestamp_field: native.ColumnKind.TIMESTAMP,
    encoders.int2_field: native.ColumnKind.INT2,
    encoders.int4_field: native.ColumnKind.INT4,
    encoders.int8_field: native.ColumnKind.INT8,
    encoders.float8_field: native.ColumnKind.FLOAT8,
    encoders.bool_field: native.ColumnKind.BOOL,
}


class Encoding:
    """How each CSV column becomes a binary COPY field, for one of the two destinations."""

    def __init__(self, plan: TablePlan, header: Header, stage: Stage | None, lines: bool) -> None:
        self.plan = plan
        self.header = header
        self.lines = lines  # every record's line is wanted (staging: rejects found in SQL)
        self.with_line = stage is not None and stage.with_line
        self.stage = stage
        # (csv index, how): how = ('vector', dim) | encoder | 'text'
        self.fields: list[tuple[int, object]] = []
        if stage is not None:
            for c in stage.columns:
                if c.typed_vector:
                    assert c.target is not None
                    self.fields.append((c.index, ("vector", c.target.dimension)))
                else:
                    self.fields.append((c.index, "text"))
        else:
            mapped = dict(plan.columns)
            for i, name in enumerate(plan.csv_columns):
                target = plan.table.column(mapped[name]) if name in mapped else None
                if target is None:
                    continue
                if target.base_type == "vector":
                    self.fields.append((i, ("vector", target.dimension)))
                else:
                    enc = encoder_for(target)
                    assert enc is not None
                    self.fields.append((i, enc))
        n = len(self.fields) + (0 if stage is None else 1 + (1 if self.with_line else 0))
        self.tuple_head = struct.pack(">h", n)
        # what the C reader makes of each CSV column (csvio.native's kinds)
        kinds: list[native.ColumnKind | int] = [native.ColumnKind.SKIP] * len(header.columns)
        for index, how in self.fields:
            if isinstance(how, tuple):
                kinds[index] = native.vector(how[1])
            else:
                kinds[index] = _NATIVE_KINDS.get(how, native.ColumnKind.STR)
        self.kinds = tuple(kinds)

    @staticmethod
    def direct_possible(plan: TablePlan) -> bool:
        for _, target in plan.columns:
            col = plan.table.column(target)
            # only pgvector's `vector` has the float32 binary form the client makes; a halfvec
            # column goes through the stage (staged as vector(n), cast there)
            if col is None or (col.base_type != "vector" and encoder_for(col) is None):
                return False
        return True

    def encode(self, block: cutter.Block) -> Batch:
        """Read one block the way PostgreSQL would (csvio) and encode its rows; runs in a
        worker thread, several blocks at once."""
        batch = self._encode_native(block)
        return batch if batch is not None else self._encode_polars(block)

    def _encode_native(self, block: cutter.Block) -> Batch | None:
        """The block read by csvio's C reader, vectors parsed in the same pass: a third of the
        CPU of the polars reading. None when it does not vouch for the block, or when a row must
        be rejected (the reject file wants the raw fields and lines the other reading gives)."""
        got = native.read_records(block.data, self.header, self.kinds, self.lines)
        if got is None:
            return None
        columns: list[list[bytes]] = []
        for index, how in self.fields:
            values = got.columns[index]
            assert values is not None
            if isinstance(how, tuple):
                deferred = got.deferred[index]
                if deferred:
                    rows = [r for r, _ in deferred]
                    texts = pl.Series([t for _, t in deferred], dtype=pl.String)
                    parsed = csvio.complete_fields(values, rows, texts, how[1])
                    if parsed.bad:
                        return None
                    values = parsed.fields
                columns.append(values)
            elif how in _NATIVE_KINDS:
                columns.append(values)  # the C reader made the binary fields
            else:
                encoder: Encoder = how  # type: ignore[assignment]
                columns.append(encoder(pl.Series(values, dtype=pl.String)))
        return self._batch(block, got.rows, columns, got.spans, got.lines)

    def _encode_polars(self, block: cutter.Block) -> Batch:
        read = csvio.read_block(block, self.header, lines=self.lines)
        frame = read.frame
        n = frame.height
        # records COPY would refuse (rows of NULLs in the frame): rejected with their raw bytes
        bad: dict[int, str] = {i: b.reject_reason() for i, b in read.bad.items()}
        raw: dict[int, tuple] = {i: (b.raw_text(),) for i, b in read.bad.items()}
        columns: list[list[bytes]] = []
        for index, how in self.fields:
            series = frame.get_column(f"c{index}")
            if how == "text":
                values = series.cast(pl.Binary).to_list()
                columns.append([NULL_FIELD if v is None else _len(len(v)) + v for v in values])
            elif isinstance(how, tuple):
                parsed = csvio.vector_copy_fields(series, how[1])
                name = self.plan.csv_columns[index]
                for i, why in parsed.bad.items():
                    bad.setdefault(i, f'column "{name}": {why}')
                columns.append(parsed.fields)
            else:
                encoder: Encoder = how  # type: ignore[assignment]
                columns.append(encoder(series))
        lines = read.lines
        if bad and lines is None:  # the few records a reject names need their line
            lines = csvio.record_lines(frame, self.header)
        return self._batch(
            block,
            n,
            columns,
            read.spans,
            lines,
            bad,
            {i: raw[i] if i in raw else frame.row(i) for i in bad},
            read.bad,
        )

    def _batch(
        self,
        block: cutter.Block,
        rows: int,
        columns: list[list[bytes]],
        spans: int,
        lines: pl.Series | None,
        bad: dict[int, str] | None = None,
        bad_fields: dict[int, tuple] | None = None,
        structural: dict[int, csvio.BadRecord] | None = None,
    ) -> Batch:
        batch = Batch(
            rows=rows,
            columns=columns,
            tuple_head=self.tuple_head,
            with_rec=self.stage is not None,
            sent=rows - len(bad or ()),
            bytes_in=len(block.data),
            raw_done=block.raw_done,
            spans=spans,
            lines=lines,
            with_line=self.with_line,
            bad=bad or {},
            bad_fields=bad_fields or {},
            structural=structural or {},
        )
        if self.stage is None:
            batch.payload()  # here, in parallel, and the per-field bytes are freed at once
        return batch


WORKERS = 2  # read and encode two blocks at once: the C reader and polars release the GIL
# Blocks handed to the workers ahead of the sending thread. The server's pace is uneven (WAL
# writes, TOAST), and a deeper queue lets the client run on through its pauses: on a 920 MB
# vector file, 1 ahead loaded in 10.2-10.5 s, 3 in 8.7-9.6 s, 5 in 7.8-8.9 s, for ~4 MB of
# memory each (the block until encoded, then its payload); peak RSS stayed at 162-166 MB.
READ_AHEAD = 4


def encoded(
    encoding: Encoding, cut: Iterable[cutter.Block], workers: int = WORKERS
) -> Iterator[Future]:
    """Each block of `cut` handed to `encoding.encode` in a pool of `workers` threads: the
    futures in file order, for a consumer that reads them in order, ahead of it (batches below,
    and each chunk of a chunked load)."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aria-load-encode")
    try:
        for block in cut:
            yield pool.submit(encoding.encode, block)
    except GeneratorExit:  # the consumer is gone: nobody will read what is not done yet
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        # at the end of the file (or a read error) the futures already handed over must
        # still run: the consumer waits on them, then sees the error in its turn
        pool.shutdown(wait=False)


def batches(
    encoding: Encoding, path: Path, hasher: Hasher | None
) -> Generator[Batch, None, None]:
    """Encoded batches in file order, with their record and line numbers, read ahead in threads.

    One thread cuts the file into blocks (csvio) and hands them to WORKERS encoding threads;
    at most READ_AHEAD batches wait (encoded or being encoded), one is being sent: flat memory.
    A record COPY would refuse is a reject of its batch (see csvio.read_block).
    """
    header = encoding.header
    eol = header.eol.encode("ascii")
    slow = native.module() is None  # else a block only goes to polars when the C reader balks

    def counted(cut: Iterable[cutter.Block]) -> Iterator[cutter.Block]:
        for block in cut:  # the byte counts polars' reading is verified with, done here
            cutter.precount(block, eol)
            yield block

    def produce() -> Iterator[Future]:
        with blocks(path, header, hasher, BLOCK_BYTES) as cut:
            yield from encoded(encoding, counted(cut) if slow else cut)

    rec, line, done = 1, header.lines + 1, header.bytes
    # polars' reading holds ~7x a block in memory where the C reader holds ~1.5x: without the
    # extension, one block ahead keeps the peak under 200 MB
    depth = 1 if slow else READ_AHEAD
    with cutter.run_ahead(produce, "aria-load-read", depth=depth) as futures:
        for future in futures:
            batch = future.result()
            batch.start_rec, batch.first_line = rec, line
            done = batch.raw_done if batch.raw_done is not None else done + batch.bytes_in
            batch.bytes_done = done
            rec += batch.rows
            line += batch.spans
            yield batch
