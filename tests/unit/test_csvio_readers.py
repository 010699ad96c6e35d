"""csvio's three readers held to one another (csvio/readers.py): over a corpus of blocks, every
reader that does not decline a block reads exactly what the exact reader (PostgreSQL's rules in
Python) reads: the same values (NULL and "" apart), the same record lines, the same line count,
and no record COPY would refuse (a reader other than the exact one must decline such a block).

The corpus: the hostile cases of tests/hostile.py, the sample export (what PostgreSQL writes),
and generated files mixing what breaks CSV readers: quoted newlines, doubled quotes, CRLF and
lone-CR files, a byte-order mark (at the file's start and at a block's), NULL against "", ragged
and empty rows, NUL, invalid UTF-8, quotes in the middle of a field, unquoted carriage returns,
a quote left open at the end, `\\.` lines, quote-everything writers. Every file is cut into
blocks of several sizes (as the loader and the scan cut them), with and without the byte counts
the reading thread does ahead.

A test that cannot fail is a defect: the last tests run two wrong readers over the same corpus
(polars without its proof, and a reader that takes "" for NULL) and require the comparison to
catch them, and the counts require each reader to both read and decline a share of the corpus.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from hostile import CASES

from aria_tui.csvio import cutter, native
from aria_tui.csvio.header import Header, scan_header
from aria_tui.csvio.readers import (
    EXACT,
    NATIVE,
    POLARS,
    BlockRead,
    Declined,
    Reader,
    declining,
    read_block,
)

SAMPLE = Path(__file__).resolve().parents[2] / "sample_export"
MAX_FILE = 256 * 1024  # hostile files above this (5 MB fields, 200k rows) add time, not cases


@dataclass(frozen=True)
class Source:
    name: str
    header: Header
    body: bytes  # the file after its header


# -- the corpus ---------------------------------------------------------------------------------

PIECES = [
    "a", "bc", " ", "1", "-2.5", "é", "日本", "😀", ",", "\n", "\r\n", "\r", "[1,2,3]",
    "\\N", "\\.", "\ufeff", "x y", "NULL", "\t",
]
HOSTILE_RAW = [  # raw bytes standing as a whole field, unquoted
    b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b'a"b', b'"a"b',
    b'"a,b"c', b"a\rb", b"\xef\xbb\xbfz", b"\\.",
]


def _field(rng: random.Random, eol: bytes, quote_all: bool) -> bytes:
    roll = rng.random()
    if roll < 0.12:
        return b""  # NULL
    if roll < 0.2:
        return b'""'  # the empty string
    if roll < 0.26:
        return rng.choice(HOSTILE_RAW)
    value = "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 4)))
    raw = value.encode("utf-8")
    if rng.random() < 0.3:
        raw += b'"'  # a quote inside the value
    # PostgreSQL's writer quotes what needs it; a quote-everything writer quotes all
    must = any(c in raw for c in (b",", b'"', b"\r", b"\n")) or raw == b"\\."
    if quote_all or must or rng.random() < 0.05:
        if eol == b"\r\n" and rng.random() < 0.5:
            raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        return b'"' + raw.replace(b'"', b'""') + b'"'
    return raw if rng.random() < 0.9 else raw.replace(b"\n", b"").replace(b"\r", b"")


def generated(rng: random.Random, k: int) -> Source:
    ncols = rng.choice([1, 1, 2, 3, 5])
    eol = rng.choice([b"\n", b"\n", b"\r\n", b"\r"])
    quote_all = rng.random() < 0.2
    hostile = rng.random() < 0.5  # else clean: what PostgreSQL (or a careful writer) writes
    records = []
    for _ in range(rng.randrange(1, 30)):
        nfields = ncols
        if hostile and rng.random() < 0.08:
            nfields = rng.choice([0, ncols - 1, ncols + 1])  # ragged, or an empty line
        if hostile:
            fields = [_field(rng, eol, quote_all) for _ in range(nfields)]
        else:
            fields = [
                b'"' + v.replace(b'"', b'""') + b'"'
                if quote_all or v == b"" or any(c in v for c in (b",", b'"', b"\r", b"\n"))
                else v
                for v in (
                    "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 3))).encode()
                    for _ in range(nfields)
                )
            ]
            fields = [b"" if rng.random() < 0.1 else f for f in fields]
        records.append(b",".join(fields))
    body = eol.join(records)
    if rng.random() < 0.8:
        body += eol
    elif hostile and rng.random() < 0.3:
        body += b'"open'  # a quote left open to the end of the file
    if hostile and rng.random() < 0.1:
        body = b"\xef\xbb\xbf" + body  # a byte-order mark where polars strips it: a block's start
    columns = tuple(f"c{i}" for i in range(ncols))
    head = ",".join(columns).encode() + eol
    header = Header(columns, False, eol == b"\r\n", 1, len(head), eol.decode("ascii"))
    return Source(f"generated-{k}", header, body)


def from_file(path: Path) -> Source | None:
    header, _ = scan_header(path)  # a header with bad names still has its layout
    if header is None:
        return None
    return Source(path.name, header, path.read_bytes()[header.bytes :])


def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Source]:
    sources: list[Source] = []
    folder = tmp_path_factory.mktemp("hostile")
    for case in CASES:
        for name, data in case.files().items():
            if len(data) > MAX_FILE or name.endswith(".gz"):
                continue
            path = folder / f"{case.name}-{name}"
            path.write_bytes(data)
            source = from_file(path)
            if source is not None:
                sources.append(source)
    sources += [s for p in sorted(SAMPLE.glob("*.csv")) if (s := from_file(p)) is not None]
    rng = random.Random(20261202)
    sources += [generated(rng, k) for k in range(700)]
    return sources


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Source]:
    return corpus(tmp_path_factory)


def blocks(source: Source, rng: random.Random) -> Iterator[cutter.Block]:
    """The source's body cut as the loader cuts it, at a block size drawn for the file."""
    eol = source.header.eol.encode("ascii")
    size = rng.choice([8, 40, 200, 4096, 1 << 22])
    for block in cutter.iter_blocks(io.BytesIO(source.body), eol, size):
        if rng.random() < 0.5:
            cutter.precount(block, eol)  # the counts the reading thread makes ahead
        yield block


# -- the comparison -----------------------------------------------------------------------------


def differences(ref: BlockRead, got: BlockRead, lines: bool) -> list[str]:
    """How `got` differs from the exact reader's `ref` (empty: identical)."""
    out = []
    if got.frame.columns != ref.frame.columns or got.frame.dtypes != ref.frame.dtypes:
        out.append(f"columns {got.frame.schema} != {ref.frame.schema}")
    elif got.frame.rows() != ref.frame.rows():
        out.append(f"values {got.frame.rows()[:5]} != {ref.frame.rows()[:5]}")
    if got.spans != ref.spans:
        out.append(f"spans {got.spans} != {ref.spans}")
    if lines:
        assert ref.lines is not None
        if got.lines is None or got.lines.to_list() != ref.lines.to_list():
            out.append(f"lines {got.lines} != {ref.lines.to_list()}")
    if sorted(got.bad) != sorted(ref.bad):
        out.append(f"records COPY refuses: {sorted(got.bad)} != {sorted(ref.bad)}")
    return out


@dataclass
class Tally:
    read: int = 0
    declined: int = 0
    wrong: list[str] | None = None


def compare(sources: list[Source], readers: list[Reader], seed: int = 7) -> dict[str, Tally]:
    rng = random.Random(seed)
    tally = {r.name: Tally(wrong=[]) for r in readers}
    for source in sources:
        for block in blocks(source, rng):
            ref = EXACT.read(block, source.header, lines=True)
            for reader in readers:
                lines = rng.random() < 0.7
                got = reader.read(block, source.header, lines)
                t = tally[reader.name]
                if isinstance(got, Declined):
                    assert got.reader == reader.name and got.reason
                    t.declined += 1
                    continue
                t.read += 1
                found = differences(ref, got, lines)
                if found:
                    assert t.wrong is not None
                    t.wrong.append(f"{source.name} {block.data[:120]!r}: {'; '.join(found)}")
    return tally


# -- the tests ----------------------------------------------------------------------------------


def test_every_reader_reads_what_the_exact_reader_reads_or_declines(sources) -> None:
    readers: list[Reader] = [POLARS] + ([NATIVE] if native.module() is not None else [])
    tally = compare(sources, readers)
    for name, t in tally.items():
        assert not t.wrong, f"{name} read {len(t.wrong)} blocks otherwise:\n" + "\n".join(t.wrong[:5])
        # the corpus reaches both sides of each reader: blocks it reads, blocks it must decline
        assert t.read > 1000 and t.declined > 300, (name, t.read, t.declined)


def test_read_block_is_the_first_reader_that_does_not_decline(sources) -> None:
    rng = random.Random(11)
    for source in sources[::3]:
        for block in blocks(source, rng):
            want = next(
                (g for r in declining() if not isinstance(g := r.read(block, source.header, True), Declined)),
                EXACT.read(block, source.header, True),
            )
            got = read_block(block, source.header, lines=True)
            assert not differences(want, got, True), source.name
            assert (got.bad.keys(), [b.reason for b in got.bad.values()]) == (
                want.bad.keys(),
                [b.reason for b in want.bad.values()],
            )


def test_the_exact_reader_never_declines_and_numbers_every_record(sources) -> None:
    """Its frame holds a row for every record, a bad one included (a row of NULLs), so record
    numbers and lines stay in step whatever the block holds."""
    rng = random.Random(13)
    bad = 0
    for source in sources:
        for block in blocks(source, rng):
            got = EXACT.read(block, source.header, False)
            assert isinstance(got, BlockRead)
            assert got.lines is not None and len(got.lines) == got.frame.height
            assert got.lines.is_sorted() and all(0 <= i < got.frame.height for i in got.bad)
            for i in got.bad:
                assert got.frame.row(i) == (None,) * got.frame.width
            bad += len(got.bad)
    assert bad > 300  # the corpus holds records COPY refuses, and they are read past


class _Unproven:
    """polars' own reading, without the proof: what the cutter would do if it trusted polars."""

    name = "unproven-polars"

    def read(self, block: cutter.Block, header: Header, lines: bool) -> BlockRead | Declined:
        df = cutter.polars_frame(block, len(header.columns), header.eol.encode("ascii"))
        if df is None:
            return Declined(self.name, "polars refuses it")
        nl = "\r" if header.eol == "\r" else "\n"
        per = df.select(
            pl.sum_horizontal(pl.all().str.count_matches(nl, literal=True).fill_null(0))
        ).to_series()
        starts = (pl.int_range(0, df.height, eager=True) + per.cum_sum() - per).cast(pl.Int64)
        return BlockRead(df, starts, df.height + int(per.sum()))


class _EmptyIsNull:
    """A reader with one wrong rule: a quoted "" read as NULL."""

    name = "empty-is-null"

    def read(self, block: cutter.Block, header: Header, lines: bool) -> BlockRead | Declined:
        got = EXACT.read(block, header, lines)
        frame = got.frame.with_columns(pl.all().replace("", None))
        return BlockRead(frame, got.lines, got.spans, got.bad)


def test_the_comparison_catches_a_reader_that_reads_otherwise(sources) -> None:
    tally = compare(sources, [_Unproven(), _EmptyIsNull()])
    unproven, empty = tally["unproven-polars"].wrong, tally["empty-is-null"].wrong
    assert empty and len(empty) > 100
    # polars' silent misreadings are in the corpus, and each is one the proof declines
    assert unproven and len(unproven) > 50
    texts = "\n".join(unproven)
    assert "values" in texts and "records COPY refuses" in texts


@pytest.mark.parametrize(
    "body, why",
    [
        (b'a"b,c"d\n', "quotes in the middle of fields (PostgreSQL: one field, a ragged row)"),
        (b'ab,c"d"\n', "a quoted part inside a field (PostgreSQL: cd)"),
        (b"\xef\xbb\xbfa,b\n", "a byte-order mark at a block's start (PostgreSQL keeps it)"),
        (b"a,b\nc\n", "a row with too few fields (polars pads it)"),
        (b"a\r,b\n", "an unquoted carriage return (polars drops it)"),
        (b"a,b\n\nc,d\n", "an empty line (polars: a row of NULLs)"),
    ],
)
def test_each_silent_polars_misreading_is_declined(body: bytes, why: str) -> None:
    header = Header(("x", "y"), False, False, 1, 4, "\n")
    block = cutter.Block(body, body.count(b'"'), True, None)
    ref = EXACT.read(block, header, True)
    unproven = _Unproven().read(block, header, True)
    assert isinstance(unproven, BlockRead) and differences(ref, unproven, True), why
    assert isinstance(POLARS.read(block, header, True), Declined), why


@pytest.mark.parametrize(
    "body",
    [b'"a","b"\n', b'"a""",b\n', b'"x\ny",""\n,z\n', b'"x\r\ny",\n'],
)
def test_what_polars_reads_right_the_proof_accepts(body: bytes) -> None:
    """The other side: quote-everything writers, doubled quotes, quoted newlines and carriage
    returns, NULL beside "" are read by polars, not sent to the slow reader."""
    header = Header(("x", "y"), False, False, 1, 4, "\n")
    block = cutter.Block(body, body.count(b'"'), True, None)
    got = POLARS.read(block, header, True)
    assert isinstance(got, BlockRead)
    assert not differences(EXACT.read(block, header, True), got, True)
