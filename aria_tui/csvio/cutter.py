"""Record-aligned blocks of a CSV body, each read by polars when polars provably reads it right.

A file is read as a stream of blocks of about BLOCK_BYTES that always end on a record boundary.
Because PostgreSQL toggles "inside quotes" at every quote character, a line terminator is a
record boundary exactly when an even number of quotes precede it, so cutting needs nothing but
quote counts (C-speed `bytes.count`), and memory stays flat whatever the file size.

Each block is parsed by `polars.read_csv` (up to 1.5 GB/s here) and then *verified* against
counts of its raw bytes (see `_verify`): its size, its quotes, its carriage returns and its
doubled quotes must be exactly what PostgreSQL's own CSV writer would produce for the values
polars returned. Polars reads some input differently from PostgreSQL without complaint, and
each of those moves a count:

- a row with too few fields (polars pads it with nulls; the missing commas are missing bytes),
- an empty line in a multi-column file (polars: a row of nulls; PostgreSQL: an error),
- a quote in the middle of a field (polars keeps it; PostgreSQL opens a quoted part there),
- an unquoted \\r before a comma or the terminator (polars drops it; PostgreSQL: an error),
- a byte-order mark at the start of a block (polars strips it; PostgreSQL keeps the character),
- quoting a value that needs none (what non-PostgreSQL writers do; harmless, but not modelled).

Polars refuses outright (an exception) too many fields, invalid UTF-8 and an unterminated quote.
NUL bytes, which polars accepts and PostgreSQL does not, are looked for directly. A block that
fails any of this is re-read by the exact parser (`exact`), which gives the values PostgreSQL
would read, or the first problem with its physical line: slower, never wrong. Files written by
COPY never need it.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, BinaryIO, TypedDict, TypeVar

from aria_tui.csvio import exact, native
from aria_tui.csvio.files import raw_position
from aria_tui.lazy import lazy

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")  # imported where first used: see aria_tui.lazy

# Peak memory grows with about ten times the block size (the block, the one read ahead, polars'
# parse buffers and what its allocator keeps for reuse): 4 MB blocks kept a 1.5 GB file of
# 1536-d embeddings at 130 MB peak RSS (90 MB anonymous, the rest shared libraries); 8 MB blocks
# cost ~40 MB more for ~10% less CPU. Per-block overhead is about a millisecond.
BLOCK_BYTES = 4 * 1024 * 1024
_LONE_CR = re.compile(rb"\r(?!\n)")
_LONE_QUOTE = re.compile(rb'[^,\n\r"](?:"")*"[^,\n\r"]')
T = TypeVar("T")


@dataclass
class Block:
    data: bytes  # whole records (the last block of a file may lack its final terminator)
    quotes: int  # quote characters in data
    final: bool  # the file ends with this block
    raw_done: int | None  # on-disk bytes consumed once this block was read (compressed for .gz)
    # Counted ahead by the reading thread (see `reading`), else on demand by _verify:
    pairs: int | None = None  # non-overlapping "" in data
    crs: tuple[int, bool] | None = None  # (\\r in data, one of them not followed by \\n)


_END = object()


@contextmanager
def run_ahead(
    produce: Callable[[], Iterator[T]], name: str, depth: int = 1
) -> Iterator[Iterator[T]]:
    """The items of `produce()`, made in a thread at most `depth` items ahead of the consumer.

    An exception in the thread is raised to the consumer, in order. Leaving the `with` (the
    consumer is done, failed or gave up) stops the thread and closes its generator, so what
    the producer holds (a stream, a thread pool) is released before the caller goes on.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def worker() -> None:
        items = produce()
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, which raises it
            put(exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def consume() -> Iterator[T]:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    thread = threading.Thread(target=worker, name=name, daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        thread.join()


@contextmanager
def reading(
    stream: BinaryIO, eol: bytes, block_bytes: int | None = None
) -> Iterator[Iterator[Block]]:
    """iter_blocks run ahead in a thread, which also does the blocks' byte counts.

    Those counts are C loops that hold the GIL while polars, parsing the previous block, does
    not: on two cores the two overlap. At most one block waits in the queue. Leaving the `with`
    stops the thread before the caller closes the stream.
    """

    def produce() -> Iterator[Block]:
        blocks = (
            iter_blocks(stream, eol)
            if block_bytes is None
            else iter_blocks(stream, eol, block_bytes)
        )
        for block in blocks:
            precount(block, eol)
            yield block

    with run_ahead(produce, "csvio-blocks") as blocks:
        yield blocks


def precount(block: Block, eol: bytes) -> None:
    """The byte counts _verify needs, done where it suits the caller (a reading thread)."""
    block.pairs = block.data.count(b'""') if block.quotes else 0
    if eol == b"\r\n" or b"\r" in block.data:
        block.crs = _carriage_returns(block.data, eol)


_malloc_tuned = False


def tune_malloc() -> None:
    """Keep glibc from giving every reading thread a malloc arena of its own. Once a process.

    By default each thread that allocates may get an arena (up to 8 a core), and each arena
    keeps the high-water mark of its thread: the reading, encoding and sending threads of a
    load, each handling multi-megabyte blocks, then hold several blocks' worth between them.
    Called before the threads that read are started (the scan, the load), and on the first
    block read by anyone else. (Raising M_MMAP_THRESHOLD, which spares page faults, made peak
    RSS 40-50 MB higher here, heaps keeping what mmap would have returned: not done.)
    """
    global _malloc_tuned
    if _malloc_tuned:
        return
    _malloc_tuned = True
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass


def iter_blocks(stream: BinaryIO, eol: bytes, block_bytes: int = BLOCK_BYTES) -> Iterator[Block]:
    """Cut the rest of `stream` (positioned at a record boundary) into record-aligned blocks."""
    tune_malloc()
    term = exact.line_char(eol)
    leftover = b""  # a record begun but not ended by the previous read
    left_quotes = 0
    while True:
        # A record longer than a block (a 50 MB field) grows the read geometrically, so
        # finding its end costs linear time, not quadratic.
        chunk = stream.read(max(block_bytes, len(leftover)))
        if not chunk:
            if leftover:
                yield Block(leftover, left_quotes, True, raw_position(stream))
            return
        # The boundary lies in the new chunk (leftover holds none); quotes already seen in
        # leftover set the parity the chunk starts with.
        cut, quotes = last_boundary(chunk, term, left_quotes % 2)
        if cut < 0:
            leftover += chunk
            left_quotes += quotes
            continue
        if leftover:
            data = b"".join((leftover, memoryview(chunk)[:cut]))  # one copy, not two
        else:
            data = chunk if cut == len(chunk) else chunk[:cut]
        yield Block(data, left_quotes + quotes, False, raw_position(stream))
        leftover = chunk[cut:]
        left_quotes = leftover.count(b'"')


def split(block: Block, eol: bytes, size: int) -> Iterator[Block]:
    """A block as record-aligned blocks of about `size` bytes (a record longer than that whole)."""
    data, quotes = block.data, block.quotes
    term = exact.line_char(eol)
    while len(data) > size:
        cut, before = last_boundary(data[:size], term, 0)
        if cut <= 0:
            break  # one record longer than `size`: the rest goes as one block
        yield Block(data[:cut], before, False, block.raw_done)
        data, quotes = data[cut:], quotes - before
    yield Block(data, quotes, block.final, block.raw_done)


# What every polars read of a block here shares: no header, every field text, nothing skipped
# as a comment, no error for an empty block, no file globbing.
class _CsvOptions(TypedDict):
    has_header: bool
    infer_schema: bool
    comment_prefix: str | None
    raise_if_empty: bool
    glob: bool


_CSV: _CsvOptions = dict(
    has_header=False, infer_schema=False, comment_prefix=None, raise_if_empty=False, glob=False
)


def polars_records(data: bytes) -> int:
    """polars' count of the CSV records in a block (as it counts a file), fields unparsed,
    outside the GIL; a last record without a terminator counts too."""
    frame = pl.scan_csv(data, quote_char='"', low_memory=True, **_CSV)
    return int(frame.select(pl.len()).collect().item())


def last_boundary(chunk: bytes, term: bytes, parity: int) -> tuple[int, int]:
    """(offset just past the last record boundary in chunk, quotes before it), or (-1, quotes in
    chunk) when it holds none. `parity` is the count of quotes before the chunk, modulo 2."""
    c = native.module()
    if c is not None:  # one pass, without the GIL the encoding threads need
        return c.last_boundary(chunk, term[0], parity)
    total = chunk.count(b'"')
    p = chunk.rfind(term)
    if p < 0:
        return -1, total
    after = chunk.count(b'"', p)
    while True:
        if (parity + total - after) % 2 == 0:
            return p + 1, total - after
        prev = chunk.rfind(term, 0, p)
        if prev < 0:
            return -1, total
        after += chunk.count(b'"', prev, p)
        p = prev


def count_records(data: bytes, term: bytes) -> tuple[int, int]:
    """(records, physical lines) of a block that starts on a record boundary: the terminators
    outside quotes, plus an unterminated last record; and every terminator. What a chunked load
    numbers its chunks' records with, and checks the server's count of each chunk against."""
    c = native.module()
    if c is not None:
        return c.count_records(data, term[0])
    # outside quotes = the even pieces between quote characters
    records = sum(piece.count(term) for piece in data.split(b'"')[::2])
    if data and data[-1:] != term:
        records += 1
    return records, data.count(term)


def names(ncols: int) -> list[str]:
    # Positional names keep polars away from the header's own (possibly odd) spellings.
    return [f"c{i}" for i in range(ncols)]


def fast_frame(
    block: Block, ncols: int, eol: bytes, per_record: bool = True
) -> tuple[pl.DataFrame, pl.Series] | None:
    """The block read by polars, with each record's count of embedded newlines (per_record) or
    just their total, or None when polars' reading cannot be proven identical to PostgreSQL's
    (then the exact parser must read the block)."""
    got = proven_frame(block, ncols, eol, per_record)
    return None if isinstance(got, str) else got


REFUSED = "polars refuses it, or is known to read it otherwise (a NUL, a lone-\\r file, a \\. line)"
NOT_PROVEN = "polars' reading is not proven PostgreSQL's (the block's byte counts differ)"


def proven_frame(
    block: Block, ncols: int, eol: bytes, per_record: bool = True
) -> tuple[pl.DataFrame, pl.Series] | str:
    """fast_frame, or why not (REFUSED, NOT_PROVEN)."""
    df = polars_frame(block, ncols, eol)
    if df is None:
        return REFUSED
    if block.final and not block.data.endswith(eol):
        # polars reads a last record without its terminator its own way where quotes are
        # unbalanced, and the byte counts allow for the missing terminator: the exact parser
        # reads the file's last block then
        return NOT_PROVEN
    if _LONE_QUOTE.search(block.data):
        # an odd run of quotes between two value bytes: never PostgreSQL's writer (inside
        # quotes they come in pairs; one opens or closes a field only beside a comma or a line
        # end). PostgreSQL opens or closes a quoted part there, polars keeps the quotes, and
        # the counts of some such blocks agree all the same
        return NOT_PROVEN
    newlines = _verify(df, block, ncols, eol, per_record)
    if newlines is None:
        return NOT_PROVEN
    return df, newlines


def polars_frame(block: Block, ncols: int, eol: bytes) -> pl.DataFrame | None:
    """The block as polars reads it, unverified (see _verify), or None when polars refuses it."""
    if eol == b"\r" or b"\x00" in block.data:
        return None
    if ncols == 1 and exact.has_marker(block.data):
        return None  # a line holding only \. is a value to polars, the end of data to COPY
    try:
        # infer_schema=False reads every column as String, an unquoted empty field as null and
        # a quoted "" as "" (as PostgreSQL does); measured faster than schema= with
        # empty_string_is_null=True, which gives the same frame
        df = pl.read_csv(
            block.data,
            separator=",",
            quote_char='"',
            eol_char="\n",
            null_values=None,
            ignore_errors=False,
            truncate_ragged_lines=False,
            try_parse_dates=False,
            encoding="utf8",
            **_CSV,
        )
    except Exception:  # any refusal (ragged row, bad UTF-8, open quote) goes to the exact parser
        return None
    if df.width != ncols:
        return None
    df.columns = names(ncols)  # renaming after the read: new_columns= costs a third more
    return df


@lru_cache(maxsize=8)
def _verify_exprs(with_cr: bool) -> tuple[list[pl.Expr], pl.Expr, pl.Expr]:
    """(sums over every value, each value's newlines, their total), for a frame of one column
    "v" holding all the values of a block, column after column: a handful of expressions over
    one long column cost half what five per column do (polars' per-expression overhead
    dominates on the few hundred rows of a block of embeddings)."""
    v = pl.col("v")
    length = v.str.len_bytes().cast(pl.Int64)
    inner = v.str.count_matches('"', literal=True).cast(pl.Int64)
    # fields any writer must quote; others may be quoted too (PostgreSQL's writer does not,
    # a quote-everything writer does), which the raw quote count accounts for
    quoted = ((length == 0) | v.str.contains(r'[",\r\n]')).cast(pl.Int64)
    sums = [
        length.sum().alias("length"),
        quoted.sum().alias("quoted"),
        inner.sum().alias("inner"),
        # "" pairs a written field adds beyond its inner quotes: 1 for '' or '"' * k
        v.str.contains(r'\A"*\z').cast(pl.Int64).sum().alias("all_quotes"),
    ]
    if with_cr:
        sums.append(v.str.count_matches("\r", literal=True).cast(pl.Int64).sum().alias("cr"))
    nl = v.str.count_matches("\n", literal=True).cast(pl.Int64).fill_null(0)
    return sums, nl.alias("nl"), nl.sum().alias("nl")


def _carriage_returns(data: bytes, eol: bytes) -> tuple[int, bool]:
    """(number of \\r in data, whether one of them is not followed by \\n)."""
    if eol == b"\r\n":  # one per record: counting in C beats a loop per record
        return data.count(b"\r"), _LONE_CR.search(data) is not None
    count, lone = 0, False
    i = data.find(b"\r")  # memchr: ten times faster than bytes.count when \r is rare
    while i >= 0:
        count += 1
        if data[i + 1 : i + 2] != b"\n":
            lone = True
        i = data.find(b"\r", i + 1)
    return count, lone


def _verify(
    df: pl.DataFrame, block: Block, ncols: int, eol: bytes, per_record: bool = True
) -> pl.Series | None:
    """Embedded newlines of each record (or, with per_record False, their total as a one-item
    series) if the block is exactly what PostgreSQL's CSV writer would produce for these values
    (see the module docstring), else None.

    Counts of the raw block must match the values: bytes, quotes, carriage returns, doubled
    quotes; and a lone \\r (not part of \\r\\n) is not accepted here at all. Each way polars can
    read differently moves one of them: a quote polars kept literally (PostgreSQL would have
    opened a quoted part there) leaves fewer doubled quotes than its value implies; a \\r it
    dropped shows in the CR count, one it kept unquoted is a lone \\r; what is left (a missing
    field, an empty line, a byte-order mark polars strips at the start of a block) can only make
    the block shorter than its values say, so nothing can cancel it out in the size. Quoting
    that is not needed (a quote-everything writer) changes none of these: it is read the same
    way by both and accounted for through the raw quote count.
    """
    n = df.height
    if n == 0:
        return pl.Series("nl", [], dtype=pl.Int64) if not block.data else None
    data = block.data
    with_cr = eol == b"\r\n" or b"\r" in data
    sums, per_value_nl, total_nl = _verify_exprs(with_cr)
    # every value in one column, column after column (views: no string is copied)
    values = pl.concat([s.rename("v") for s in df.get_columns()]).to_frame()
    if per_record:
        out = values.select(*sums, per_value_nl)
        nl = out.get_column("nl")
        # value k of column j is nl[j * n + k]: a record's newlines are the sum of its columns'
        columns = pl.DataFrame([nl.slice(j * n, n).alias(f"n{j}") for j in range(ncols)])
        newlines = columns.select(pl.sum_horizontal(pl.all()).alias("nl")).to_series()
        agg = out.row(0, named=True)
    else:
        agg = values.select(*sums, total_nl).row(0, named=True)
        newlines = pl.Series("nl", [agg["nl"]], dtype=pl.Int64)
    lengths, must_quote, inner, all_quotes = (
        agg["length"] or 0,
        agg["quoted"] or 0,
        agg["inner"] or 0,
        agg["all_quotes"] or 0,
    )
    terminators = n - (1 if block.final and not data.endswith(eol) else 0)
    # Quotes not inside values: two around each quoted field (whether the writer had to or not)
    around = block.quotes - 2 * inner
    if around < 2 * must_quote or around % 2:
        return None
    # bytes: values, one extra byte per quote inside a value, the quotes around fields, the
    # commas, the terminators
    size = lengths + inner + around + n * (ncols - 1) + terminators * len(eol)
    if size != len(data):
        return None
    if with_cr:
        cr, lone = block.crs if block.crs is not None else _carriage_returns(data, eol)
        if cr != (agg["cr"] or 0) + (terminators if eol == b"\r\n" else 0):
            return None  # polars dropped a \\r (before a comma or a \\n) that PostgreSQL refuses
        if lone:
            # A lone \\r: fine inside quotes, an error outside, and an unquoted one that polars
            # keeps would pass every count above. Rare: let the exact parser decide.
            return None
    pairs = block.pairs if block.pairs is not None else data.count(b'""') if inner else 0
    if inner and pairs != inner + all_quotes:
        return None
    return newlines


def exact_frame(
    block: Block, columns: tuple[str, ...], eol: bytes, first_line: int, want_values: bool
) -> exact.ExactResult:
    return exact.parse_exact(
        block.data, eol=eol, columns=columns, first_line=first_line, want_values=want_values
    )
