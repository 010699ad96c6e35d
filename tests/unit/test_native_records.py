"""The C CSV reader (csvio._native.read_records) against the reference, csvio/exact.py (PostgreSQL's
rules in Python): on any block, it either declines (None) or gives exactly the reference's
values, record lines and line count; and it declines every block the reference finds a problem
in (the loader then reads that block the reference's way, which names the line and the reason)."""

from __future__ import annotations

import random
import struct

import pytest

from aria_tui.csvio import cutter, exact, native
from aria_tui.csvio.header import Header

c = pytest.importorskip(
    "aria_tui.csvio._native", reason="the C extension was not built (no compiler at install)"
)

PIECES = [
    "a", "bc", "", " ", "1", "-2.5", "é", "日本", "😀", ",", '"', '""', "\n", "\r\n", "\r",
    "[1,2,3]", '"[1,2,3]"', '"x""y"', 'a"b', '"a"b', '"a,b"c', "\x00", "\\N", "\ufeff",
]
BAD_BYTES = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf"]


def random_block(rng: random.Random, ncols: int, eol: bytes) -> bytes:
    records = []
    for _ in range(rng.randrange(1, 8)):
        nfields = ncols if rng.random() < 0.85 else rng.choice([ncols - 1, ncols + 1, 1])
        fields = []
        for _ in range(max(nfields, 1)):
            kind = rng.random()
            if kind < 0.5:
                value = "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 4)))
                raw = value.encode("utf-8")
            elif kind < 0.8:  # properly quoted, as PostgreSQL writes it
                value = "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 4)))
                raw = b'"' + value.encode("utf-8").replace(b'"', b'""') + b'"'
            elif kind < 0.9:
                raw = rng.choice(BAD_BYTES)
            else:
                raw = b""
            fields.append(raw.replace(b"\n", eol) if eol == b"\r\n" and rng.random() < 0.5 else raw)
        records.append(b",".join(fields))
    data = eol.join(records)
    return data if rng.random() < 0.3 else data + eol


def reference(data: bytes, ncols: int, eol: bytes):
    """What the exact parser reads, if it reads the whole block without a problem."""
    columns = tuple(f"c{i}" for i in range(ncols))
    res = exact.parse_exact(data, eol=eol, columns=columns, first_line=0, want_values=True)
    return None if res.problem is not None else res


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"])
def test_it_reads_what_postgresql_reads_or_declines(eol: bytes) -> None:
    rng = random.Random(1122 + len(eol))
    read = declined = 0
    for _ in range(6000):
        ncols = rng.choice([1, 2, 3, 5])
        data = random_block(rng, ncols, eol)
        ref = reference(data, ncols, eol)
        got = c.read_records(data, ncols, eol == b"\r\n", (native.ColumnKind.STR,) * ncols, True)
        if got is None:
            declined += 1
            continue
        assert ref is not None, f"read a block PostgreSQL refuses: {data!r}"
        rows, spans, columns, deferred, starts = got
        assert rows == ref.records, data
        assert spans == ref.end_line, data
        assert starts == ref.lines, data
        assert columns == ref.values, data
        assert deferred == [None] * ncols
        read += 1
    # both outcomes are common in this corpus: the comparison above ran many times
    assert read > 500 and declined > 500


def test_it_declines_what_the_reference_refuses() -> None:
    for data, ncols in [
        (b"a,b\nc\n", 2),  # too few fields
        (b"a,b\nc,d,e\n", 2),  # too many
        (b"a,b\n\n", 2),  # an empty line
        (b'a,"b\n', 2),  # an open quote at the end
        (b"a,b\rc,d\n", 2),  # an unquoted \r in a \n file
        (b"a,\xff\n", 2),  # invalid UTF-8
        (b"a,\x00\n", 2),  # NUL
    ]:
        assert reference(data, ncols, b"\n") is None
        assert c.read_records(data, ncols, False, (native.ColumnKind.STR,) * ncols, False) is None
    assert c.read_records(b"a,b\nc,d\r\n", 2, True, (native.ColumnKind.STR,) * 2, False) is None


def test_kinds_copy_text_jsonb_skip_and_vectors() -> None:
    data = b'1,"{""a"": 1}","[1,2]",x\n2,,,"y""z"\n3,"[]","[1,2,3]",\n'
    K = native.ColumnKind
    got = c.read_records(data, 4, False, (K.SKIP, K.JSONB, native.vector(2), K.COPYTEXT), False)
    rows, spans, columns, deferred, starts = got
    assert (rows, spans, starts) == (3, 3, None)
    assert columns[0] is None
    assert columns[1] == [b'\x00\x00\x00\x09\x01{"a": 1}', b"\xff\xff\xff\xff", b"\x00\x00\x00\x03\x01[]"]
    assert columns[2][0] == struct.pack(">ihh2f", 12, 2, 0, 1, 2)
    assert columns[2][1] == b"\xff\xff\xff\xff"  # NULL
    assert deferred[2] == [(2, "[1,2,3]")]  # wrong dimension: the tiers say why
    assert columns[3] == [b"\x00\x00\x00\x01x", b'\x00\x00\x00\x03y"z', b"\xff\xff\xff\xff"]


def test_column_kinds_are_the_c_readers_numbers() -> None:
    """ColumnKind is the one Python home of the kinds; the C side keeps its own enum, so the two
    are compared: a member renumbered on one side only fails here, not as wrong bytes in a load."""
    in_c = {name.removeprefix("KIND_"): getattr(c, name) for name in dir(c) if name.startswith("KIND_")}
    assert in_c == {k.name: int(k) for k in native.ColumnKind}
    assert native.vector(None) == native.vector(0) == 0 and native.vector(768) == 768
    with pytest.raises(ValueError, match="bad column kind"):
        c.read_records(b"a\n", 1, False, (min(native.ColumnKind) - 1,), False)


def test_a_vector_with_quotes_inside_goes_to_the_tiers_unescaped() -> None:
    got = c.read_records(b'"[1,""2"",3]"\n', 1, False, (0,), False)
    assert got[3] == [[(0, '[1,"2",3]')]]


def test_the_last_record_without_terminator_and_a_multiline_field() -> None:
    data = b'1,"a\nb\nc"\n2,d'
    rows, spans, columns, _, starts = c.read_records(data, 2, False, (native.ColumnKind.STR,) * 2, True)
    assert (rows, spans, starts) == (2, 4, [0, 3])
    assert columns == [["1", "2"], ["a\nb\nc", "d"]]


def test_native_read_of_real_blocks_matches_polars(tmp_path) -> None:
    """Through csvio: the sample export's files, cut in blocks, read both ways."""
    from pathlib import Path

    from aria_tui import csvio

    folder = Path(__file__).resolve().parents[2] / "sample_export"
    compared = 0
    for path in sorted(folder.glob("*.csv")):
        header = csvio.read_header(path)
        assert isinstance(header, Header)
        eol = header.eol.encode("ascii")
        with open(path, "rb") as stream:
            stream.seek(header.bytes)
            for block in cutter.iter_blocks(stream, eol, 64 * 1024):
                kinds = (native.ColumnKind.STR,) * len(header.columns)
                got = native.read_records(block.data, header, kinds, True)
                ref = csvio.read_block(block, header, lines=True)
                assert got is not None, path.name
                assert got.rows == ref.frame.height and got.spans == ref.spans
                assert got.lines.to_list() == ref.lines.to_list()
                for j, name in enumerate(ref.frame.columns):
                    assert got.columns[j] == ref.frame.get_column(name).to_list(), (path.name, j)
                compared += 1
    assert compared > 60  # every file of the folder, some in several blocks


def test_last_boundary_is_the_python_one(monkeypatch) -> None:
    rng = random.Random(5)
    cases = []
    for _ in range(3000):
        n = rng.randrange(0, 40)
        chunk = bytes(rng.choice(b'ab"\n\r,') for _ in range(n))
        cases.append((chunk, rng.choice([b"\n", b"\r"]), rng.randrange(2)))
    with_c = [cutter.last_boundary(*case) for case in cases]
    monkeypatch.setattr(native, "_MODULE", None)
    assert with_c == [cutter.last_boundary(*case) for case in cases]


def _random_timestamp(rng: random.Random, zone: bool) -> str:
    y = rng.choice([1, 99, 1900, 1970, 1999, 2000, 2024, 2026, 9999, rng.randrange(1, 10000)])
    text = (
        f"{y:04d}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 32):02d} "
        f"{rng.randrange(0, 25):02d}:{rng.randrange(0, 60):02d}:{rng.randrange(0, 61):02d}"
    )
    if rng.random() < 0.6:
        text += "." + "".join(rng.choice("0123456789") for _ in range(rng.randrange(0, 8)))
    if zone or rng.random() < 0.1:
        sign = rng.choice("+-")
        text += rng.choice(
            [f"{sign}{rng.randrange(0, 16):02d}", f"{sign}{rng.randrange(0, 15):02d}:{rng.choice(['00', '30', '45'])}",
             "+00:53:28", "Z", "", " BC"]
        )
    return text


def _random_uuid(rng: random.Random) -> str:
    import uuid

    text = str(uuid.UUID(int=rng.getrandbits(128)))
    return rng.choice(
        [text, text.upper(), "{" + text + "}", text.replace("-", ""), "0000000g" + text[8:]]
    )


def _random_int(rng: random.Random) -> str:
    bound = rng.choice([10, 1 << 15, 1 << 31, 1 << 63, 10**20])
    n = rng.randrange(-bound - 2, bound + 2)
    text = rng.choice([str(n), f"+{n}" if n >= 0 else str(n), f"{n:05d}"])
    return rng.choice([text, text, text, f" {text}", f"{text} ", "0x1A", "1_000", "", "-", "+", "1.0", "1e3"])


def _random_float(rng: random.Random) -> str:
    x = rng.choice([rng.uniform(-1, 1), rng.uniform(-1e6, 1e6), rng.random() * 10.0 ** rng.randrange(-300, 300)])
    text = rng.choice([repr(x), f"{x:.17g}", f"{x:.6e}", f"{x:.3f}", f"{x:E}", str(rng.randrange(-99, 99))])
    return rng.choice(
        [text] * 6
        + ["NaN", "Infinity", "-Infinity", "nan", "inf", "-inf", "1e400", "-1e-400", "4.9e-324",
           "5.", ".5", ".", "e5", "1e", "1e+", " 1", "1 ", "0x1p3", "1_0", "--1", "+.5e-3", "-0", "0.0"]
    )  # fmt: skip


def _random_bool(rng: random.Random) -> str:
    return rng.choice(["t", "f", "true", "false", "TRUE", "False", "tRuE", "yes", "no", "1", "0", "on", " t", "tr", ""])


@pytest.mark.parametrize(
    ("kind", "encoder_name", "make"),
    [
        (native.ColumnKind.TIMESTAMPTZ, "timestamptz_field", lambda rng: _random_timestamp(rng, True)),
        (native.ColumnKind.TIMESTAMP, "timestamp_field", lambda rng: _random_timestamp(rng, False)),
        (native.ColumnKind.UUID, "uuid_field", lambda rng: _random_uuid(rng)),
        (native.ColumnKind.INT2, "int2_field", _random_int),
        (native.ColumnKind.INT4, "int4_field", _random_int),
        (native.ColumnKind.INT8, "int8_field", _random_int),
        (native.ColumnKind.FLOAT8, "float8_field", _random_float),
        (native.ColumnKind.BOOL, "bool_field", _random_bool),
    ],
)
def test_fixed_size_kinds_are_the_polars_encoders_bytes(kind, encoder_name, make) -> None:
    """What the C reader encodes itself, the polars encoder encodes the same, byte for byte; and
    where the polars encoder refuses a value, the C reader declines the block."""
    import polars as pl

    from aria_tui.load import encoders

    encoder = getattr(encoders, encoder_name)
    rng = random.Random(kind)
    agreed = 0
    for _ in range(3000):
        value = make(rng)
        got = c.read_records(f'"{value}"\n\n'.encode()[:-1], 1, False, (kind,), False)
        try:
            want = encoder(pl.Series([value], dtype=pl.String))
        except encoders.Unencodable:
            want = None
        if got is None:
            continue
        assert want is not None, f"C encoded {value!r}, which the encoder refuses"
        assert got[2][0] == want, value
        agreed += 1
    assert agreed > 300


@pytest.mark.parametrize(
    ("kind", "value", "field"),
    [
        (native.ColumnKind.INT2, "-32768", struct.pack(">ih", 2, -32768)),
        (native.ColumnKind.INT2, "32767", struct.pack(">ih", 2, 32767)),
        (native.ColumnKind.INT2, "32768", None),
        (native.ColumnKind.INT2, "-32769", None),
        (native.ColumnKind.INT4, "-2147483648", struct.pack(">ii", 4, -(1 << 31))),
        (native.ColumnKind.INT4, "2147483648", None),
        (native.ColumnKind.INT8, "-9223372036854775808", struct.pack(">iq", 8, -(1 << 63))),
        (native.ColumnKind.INT8, "9223372036854775807", struct.pack(">iq", 8, (1 << 63) - 1)),
        (native.ColumnKind.INT8, "9223372036854775808", None),
        (native.ColumnKind.INT8, "99999999999999999999", None),
        (native.ColumnKind.INT4, "007", struct.pack(">ii", 4, 7)),
        (native.ColumnKind.INT4, "-0", struct.pack(">ii", 4, 0)),
        (native.ColumnKind.FLOAT8, "-0", struct.pack(">id", 8, -0.0)),
        (native.ColumnKind.FLOAT8, "0.1", struct.pack(">id", 8, 0.1)),
        (native.ColumnKind.FLOAT8, "4.9e-324", struct.pack(">id", 8, 5e-324)),  # denormal: read
        (native.ColumnKind.FLOAT8, "1e-400", None),  # float8in: out of range
        (native.ColumnKind.FLOAT8, "1e400", None),
        (native.ColumnKind.FLOAT8, "0x1p3", None),  # strtod reads hex floats; not offered it
        (native.ColumnKind.FLOAT8, "NaN", b"\x00\x00\x00\x08\x7f\xf8" + bytes(6)),
        (native.ColumnKind.FLOAT8, "-Infinity", struct.pack(">id", 8, float("-inf"))),
        (native.ColumnKind.BOOL, "TRUE", b"\x00\x00\x00\x01\x01"),
        (native.ColumnKind.BOOL, "f", b"\x00\x00\x00\x01\x00"),
        (native.ColumnKind.BOOL, "yes", None),  # boolin reads it; the polars encoder does not
    ],
)
def test_fixed_size_kinds_at_their_edges(kind, value, field) -> None:
    got = c.read_records(f"{value}\n".encode(), 1, False, (kind,), False)
    assert (got[2][0][0] if got is not None else None) == field


@pytest.mark.parametrize(
    ("encoder_name", "value"),
    [
        ("timestamp_field", "0000-01-01 00:00:00"),
        ("timestamptz_field", "0000-06-01 00:00:00+00"),
        ("timestamptz_field", "2026-01-10 12:00:00+16"),
        ("timestamptz_field", "2026-01-10 12:00:00-16:30"),
        ("date_field", "0000-01-01"),
    ],
)
def test_encoders_refuse_what_postgresql_refuses(encoder_name, value) -> None:
    """Year 0 and a zone 16 hours away: PostgreSQL refuses them, so the binary path must not
    encode them (the staging path then gives the server's reason)."""
    import polars as pl

    from aria_tui.load import encoders

    encoder = getattr(encoders, encoder_name, None) or encoders._ENCODERS["date"]
    with pytest.raises(encoders.Unencodable):
        encoder(pl.Series([value], dtype=pl.String))
