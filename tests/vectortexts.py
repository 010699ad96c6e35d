"""pgvector element texts for the vector parser's property tests (a module of cases, not tests):
the spellings exports use and the awkward ones around them, shaped after what each of the C
readers (native_c/decimal.c) takes: the 16-byte one (at most 16 digits and one point, no
exponent), the 8-digit one (exponents, up to 23 digits), the careful one, and what they defer.
unit/test_native_vectors.py checks them against strtof, db/test_vector_input.py against the
server's own vector input."""

from __future__ import annotations

import random
import struct
from decimal import Decimal

# pads a one-element row so that the element has the room the fast readers want after it
PAD = ",0" * 24


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def windowed(rng: random.Random) -> str:
    """[sign] n digits with the point at any place (or none): 1 to 18 digits, so the 16-byte
    window's every width and point position, and the widths just past it."""
    n = rng.randrange(1, 19)
    body = digits(rng, n)
    where = rng.randrange(-1, n + 1)  # -1: no point
    if where >= 0:
        body = body[:where] + "." + body[where:]
    return rng.choice(["", "", "-", "+"]) + body


def midpoint(rng: random.Random) -> str:
    """The exact decimal of a float32 midpoint (strtof must round it to even), or a hair off it."""
    f = struct.unpack("f", struct.pack("I", rng.randrange(0x00800000, 0x7F000000)))[0]
    g = struct.unpack("f", struct.pack("I", struct.unpack("I", struct.pack("f", f))[0] + 1))[0]
    mid = (Decimal(f) + Decimal(g)) / 2
    text = format(mid, "f") if rng.random() < 0.5 else format(mid, "e")
    nudge = rng.choice(["", "", "1", "0001"])
    if nudge and "e" not in text:
        text += nudge
    return text


def edge(rng: random.Random) -> str:
    return rng.choice(
        [
            "0",
            "-0",
            "+0",
            "-0.0",
            "0.000",
            "00.5",
            "5.",
            ".5",
            "-.5",
            "007",
            "1.e3",
            "0e999",
            "1e-45",
            "1.4e-45",
            "7e-46",
            "1e-39",
            "1.17549435e-38",
            "1.1754942e-38",
            "3.4028235e38",
            "3.40282347e+38",
            "3.4028236e38",
            "1e39",
            "-1e39",
            "1e-50",
            "nan",
            "NaN",
            "inf",
            "-Infinity",
            "0x1p3",
            "1_0",
            "1e",
            "1e+",
            "--1",
            "",
            ".",
            " 1",
            "1 ",
            "\t1",
            "1\n",
            " -0.5 ",
            "1..2",
            "1.2.3",
            "1,5",
            "e5",
            "1E5",
            "1e+05",
            "9007199254740993",
            "9007199254740992",
            "0.30000001192092896",
            "16777217",
            "1234567890123456",
            "12345678901234567",
            "0.0000000000000001",
            "99999999999999999e-17",
        ]
    )


def element(rng: random.Random) -> str:
    kind = rng.randrange(10)
    if kind == 0:  # PostgreSQL's float4 output, or Python's repr of the float32
        f = struct.unpack("f", struct.pack("I", rng.randrange(0x00800000, 0x7F000000)))[0]
        return f"{f:.9g}".replace("e+", "e") if rng.random() < 0.5 else repr(f)
    if kind == 1:  # embedding-like values, shortest float4 text or float64 repr
        x = rng.gauss(0, 0.05)
        return f"{x:.6g}" if rng.random() < 0.5 else repr(x)
    if kind in (2, 3, 4):
        return windowed(rng)
    if kind == 5:  # many digits
        return "0." + digits(rng, rng.randrange(10, 40))
    if kind == 6:  # exponents near and past every reader's range
        return f"{digits(rng, rng.randrange(1, 12)) or '1'}e{rng.randrange(-60, 60)}"
    if kind == 7:
        return midpoint(rng)
    if kind == 8:  # subnormals and the edges of float32
        bits = rng.choice([rng.randrange(1, 0x00800000), rng.randrange(0x7F000000, 0x7F800000)])
        f = struct.unpack("f", struct.pack("I", bits))[0]
        return rng.choice([f"{f:.9g}", repr(f), f"{f:.20e}"])
    return edge(rng)
