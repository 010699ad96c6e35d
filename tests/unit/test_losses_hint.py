"""The byte hints of the silent-loss rules (scan/losses.py): a file in which a rule's hint occurs
nowhere holds no value the rule flags, so the load's own scan may skip parsing its values. A hint
that missed a value its rule flags would let that value load silently changed: every rule's hint
is checked against its polars test over many values, and `ruled_out` against real files."""

from __future__ import annotations

import gzip
import random
import re
from pathlib import Path

import polars as pl
import pytest

from aria_tui.csvio import native
from aria_tui.pg.catalog import Column
from aria_tui.scan.losses import Hint, losses_of, ruled_out

# format_type() spellings -> pg_type.typname, as the catalog reads them
TYPES = {
    "timestamp with time zone": "timestamptz",
    "timestamp(3) with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "timestamp(0) without time zone": "timestamp",
    "time without time zone": "time",
    "time with time zone": "timetz",
    "numeric(10,6)": "numeric",
    "numeric(5,2)": "numeric",
    "numeric(4,0)": "numeric",
    "numeric(2,-1)": "numeric",
}


def column(typ: str) -> Column:
    return Column(
        name="v", type=typ, base_type=TYPES.get(typ, typ), type_oid=0, not_null=False,
        default=None, identity=None, generated=False, sequence=None, position=1,
    )  # fmt: skip


def values(n: int) -> list[str]:
    """Hand-picked edges, then random strings over the characters the rules look at."""
    out = [
        "2024-01-01 10:00:00.1234567+00", "2024-01-01 10:00:00.123456", "10:00:00.5",
        "2024-01-01T10:00:00.0000001Z", "2024-01-01 10:00:00.1230000", "1.005", "1.500",
        "-0.1234567", " 12.0000001 ", "1.5e-7", "00:00:00.", ":00.1", "1:00:00.000000000001",
        "1.00_5", "1_000.123_4", "1.005e0", ".5e-7", "-2E-3", "1e3", "15e-1", "1.2e+1",
    ]  # fmt: skip
    rnd = random.Random(17)
    alphabet = "0123456789:.-+ TZe_E"
    for _ in range(n):
        out.append("".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 30))))
    return out


@pytest.mark.parametrize("typ", [t for t in TYPES if ",-" not in t])  # a negative scale: no hint
def test_every_value_a_rule_flags_contains_its_hint(typ):
    rules = [r for r in losses_of(column(typ)) if r.hint is not None]
    assert rules, f"{typ}: no hinted rule (the test would check nothing)"
    frame = pl.DataFrame({"v": values(20_000)})
    for rule in rules:
        flagged = frame.filter(rule.test("v"))["v"].to_list()
        assert flagged, f"{typ}: no value flagged (the test would check nothing)"
        missed = [
            v for v in flagged if not any(re.search(p, v.encode()) for p in rule.hint.patterns)
        ]
        assert not missed, (typ, rule.what, missed[:5])
        missed = [v for v in flagged if not rule.hint.found(v.encode(), len(v.encode()))]
        assert not missed, (typ, rule.what, missed[:5])


@pytest.mark.skipif(native.module() is None, reason="the C extension was not built")
@pytest.mark.parametrize(("clock", "exponent"), [(False, False), (True, False), (False, True)])
def test_the_c_search_finds_what_the_patterns_find(clock, exponent):
    """csvio's finer_fraction and number_with_exponent (no GIL) against the hint's regular
    expressions, on random bytes over the characters they look at (digits, points, colons,
    underscores, exponents, signs, field starts and other bytes), every `digits`, and at every
    end of the searched part."""
    rnd = random.Random(5)
    pieces = [b"0", b"0", b"00", b"1", b"9", b":", b".", b":59.", b"5:0", b" ", b",", b"x",
              b"\n", b"_", b"e", b"E", b"-", b"+", b'"', b"a", b"\t"]  # fmt: skip
    checked = {True: 0, False: 0}
    for _ in range(8000):
        data = b"".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 30)))
        hint = Hint(rnd.randint(0, 7), clock, exponent)
        end = rnd.randint(0, len(data))
        want = any(re.compile(p).search(data, 0, end) is not None for p in hint.patterns)
        assert hint.found(data, end) == want, (data, end, hint)
        checked[want] += 1
    assert min(checked.values()) > 50  # both answers were really asked for


@pytest.mark.parametrize(
    ("typ", "lossy", "kept"),
    [
        (
            "numeric(5,2)",
            ["1.005", "1.00_5", "1.005e0", "15e-3", " 1.001 "],
            ["1.5", "1.500", "1e2", "1_0.5_0"],
        ),
        ("numeric(10,6)", ["1.5e-7", ".5e-7", "0.0000001", "1.5e-6"], ["1.5e-5", "1e-2", "123.456"]),
        ("numeric(2,-1)", ["15", "1.5", "1.2e+1", "0x1F"], ["20", "2e1", "-30", "0"]),
        ("numeric(4,0)", ["1.5", "15e-1"], ["15", "1.0", "1e2"]),
    ],
)
def test_the_numeric_rule_reads_every_spelling_numeric_in_takes(typ, lossy, kept):
    """Exponents, underscores (PostgreSQL 16+) and a negative scale (15+) move the places a
    value has past the point: each value numeric_in would round is flagged, none it keeps."""
    (rule,) = losses_of(column(typ))
    frame = pl.DataFrame({"v": lossy + kept})
    flagged = frame.filter(rule.test("v"))["v"].to_list()
    assert flagged == lossy, (typ, flagged)
    if rule.hint is None:  # a negative scale: no bytes say where, the values are read
        assert typ == "numeric(2,-1)"
        return
    for v in lossy:
        assert rule.hint.found(v.encode(), len(v.encode())), (typ, v)


def test_timestamptz_and_numeric_rules_all_carry_hints():
    # the rules of the columns nearly every export has: without hints nothing is gained
    for typ in ("timestamp with time zone", "numeric(10,6)", "timestamp(3) with time zone"):
        assert all(r.hint is not None for r in losses_of(column(typ))), typ


def _csv(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("id,v\n" + "".join(f"{i},{v}\n" for i, v in enumerate(rows)), encoding="utf-8")
    return path


def test_ruled_out_reads_the_whole_file(tmp_path):
    rules = losses_of(column("timestamp with time zone"))
    fine = ["2024-01-01 10:00:00.123456+00"] * 5000
    assert ruled_out(_csv(tmp_path, "fine.csv", fine), rules)
    late = [*fine, "2024-01-01 10:00:00.1234567+00"]  # past any head a sample would read
    assert not ruled_out(_csv(tmp_path, "late.csv", late), rules)
    # the hint looks at every column: a match elsewhere only means the values are read
    other = tmp_path / "other.csv"
    other.write_text("id,v,note\n1,2024-01-01 10:00:00+00,at 10:00:00.0000009\n", encoding="utf-8")
    assert not ruled_out(other, rules)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert ruled_out(empty, rules)


def test_ruled_out_never_vouches_for_what_it_cannot_search(tmp_path):
    rules = losses_of(column("timestamp with time zone"))
    gz = tmp_path / "fine.csv.gz"
    gz.write_bytes(gzip.compress(b"id,v\n1,2024-01-01 10:00:00+00\n"))
    assert not ruled_out(gz, rules)  # compressed: its bytes are not the values' bytes
    assert not ruled_out(tmp_path / "absent.csv", rules)
    unhinted = losses_of(column("timestamp without time zone"))  # the zone rule has no byte hint
    assert any(r.hint is None for r in unhinted)
    assert not ruled_out(_csv(tmp_path, "ts.csv", ["2024-01-01 10:00:00"]), unhinted)
