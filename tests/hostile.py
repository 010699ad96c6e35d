"""The hostile corpus of issue 8: small export folders that break CSV loaders, generated on demand.

Nothing here is a kept file: every case writes its folder (into a test's tmp_path) from the bytes
spelled out below, so the hostile part of each file is readable in this module. Each case is:

- the DDL of its target tables (run on a fresh, empty database: `empty_db`),
- the files of its export folder (the case's file `t.csv` and a clean companion `ok.csv`, so
  every case also shows that one bad file never stops the others),
- the behaviour a careful operator wants, as exact numbers: the scan's record count and verdict,
  the load's inserted / duplicates / rejected with each reject's ORIGINAL physical line and
  reason, and SQL whose answer must be exactly the values the file holds.

Two kinds of trouble, two behaviours:

- structural records (one COPY would refuse: invalid UTF-8, a NUL, ragged rows, a quote left
  open to the end of the file): each rejected alone with its physical line(s), the reason and
  its raw bytes; the rest loads (issue 16).
- structural files (no usable header: a duplicate header name, a 0-byte file): the file is
  refused whole, with one sentence naming file, line and column; nothing of it is written; the
  other files load.
- values (a bad uuid / json / timestamp, an integer overflow, a wrong-dimension or malformed
  vector, a NULL in a NOT NULL column, a foreign key to a missing row): the good rows load, each bad
  one goes to the reject file with its line and the reason, and csv = inserted + duplicates +
  rejected.

`scripts/kill9_trials.py` and tests/db/test_faults.py reuse `write_export` (the kill -9 export) for
their files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# -- the target -----------------------------------------------------------------------------------

T_DDL = (
    "CREATE TABLE public.t (id uuid PRIMARY KEY, n int, doc jsonb, at timestamptz, "
    "emb vector(3), body text NOT NULL, note text)"
)
OK_DDL = "CREATE TABLE public.ok (id int PRIMARY KEY)"
HEADER = "id,n,doc,at,emb,body,note"
COLUMNS = tuple(HEADER.split(","))
OK_CSV = b"id\n1\n2\n"
BIG_FIELD_BYTES = 5 * 1024 * 1024
BIG_ROWS = 200_000


def U(i: int) -> str:
    """A valid uuid whose last digits are `i`: easy to read in a failing assertion."""
    return f"00000000-0000-4000-8000-{i:012d}"


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


# -- what a case expects -------------------------------------------------------------------------


@dataclass(frozen=True)
class Blocked:
    """The scan's problem for a structurally broken file (exact)."""

    line: int | None
    column: str | None
    reason: str


@dataclass(frozen=True)
class Reject:
    """One row of the reject file: physical line of the record, a fragment of the reason, and the
    record's first field as the file holds it."""

    line: int
    reason: str
    key: str


@dataclass(frozen=True)
class Case:
    name: str
    files: Callable[[], dict[str, bytes]]  # file name -> bytes, generated when the case runs
    ddl: tuple[str, ...] = (T_DDL, OK_DDL)
    file: str = "t.csv"
    target: str = "public.t"
    rows: int | None = 0  # records in `file` as COPY counts them (None: not asserted)
    scan_status: str = "match"
    issues: frozenset[tuple[str, int]] = frozenset()  # scan type issues: (column, line)
    blocked: Blocked | None = None
    inserted: int = 0
    duplicates: int = 0
    # records sharing a key with an earlier one but not its content: the target holds one of
    # them, so the other is export data it lacks and validate fails (issue 14)
    conflicting: int = 0
    rejects: tuple[Reject, ...] = ()
    # conflicts rejected under the default policy (in the reject file, counted as conflicts)
    conflicts: tuple[Reject, ...] = ()
    # SQL on the target -> its exact answer (values compared in SQL: NULL vs '' is exact)
    checks: tuple[tuple[str, list[tuple]], ...] = ()
    others: dict[str, int] = field(default_factory=lambda: {"public.ok": 2})  # target -> rows
    note: str = ""  # the behaviour chosen, in a few words (for the report table)
    # validate reads the file with the server's own COPY; where that refuses the file's
    # structure, the records are split as the loader splits them and the broken ones counted as
    # not loadable (issue 14): such a table is `incomplete`, never green and never unchecked.
    # False: a case the validator cannot check at all (none today)
    validates: bool = True

    @property
    def rejected(self) -> int:
        return len(self.rejects)

    @property
    def load_exit(self) -> int:
        return 1 if (self.blocked or self.rejects or self.conflicts) else 0

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.files().items():
            (folder / name).write_bytes(data)
        return folder


def _t(body: str, *, bom: bool = False, header: str = HEADER) -> Callable[[], dict[str, bytes]]:
    """Files of a case whose t.csv is `header` + `body` (the records, UTF-8)."""

    def files() -> dict[str, bytes]:
        data = (header + "\n" + body).encode("utf-8")
        return {"t.csv": (b"\xef\xbb\xbf" if bom else b"") + data, "ok.csv": OK_CSV}

    return files


def _raw(data: bytes) -> Callable[[], dict[str, bytes]]:
    return lambda: {"t.csv": data, "ok.csv": OK_CSV}


def _h(*records: bytes) -> bytes:
    return (HEADER + "\n").encode() + b"".join(records)


# -- the cases -------------------------------------------------------------------------------------

TS = "2024-01-02 03:04:05+00"
GOOD = f'{TS},"[1,2,3]"'  # a valid at, emb pair

MULTILINE = (
    f'{U(1)},1,"{{""k"": ""v, w""}}",{GOOD},"line one\nline ""two"", with, commas\nline three",\n'
    f'{U(2)},2,,,,"""","a,b"\n'
    f'{U(3)},3,,,,"\n",""\n'
    f'{U(4)},4,"[1,\n ""x, y""]",,,"a ""quoted"" word","\n\n"\n'  # JSON spread over 2 lines
)
MULTILINE_CHECK = (
    "SELECT n, body, note, doc::text FROM t ORDER BY n",
    [
        (1, 'line one\nline "two", with, commas\nline three', None, '{"k": "v, w"}'),
        (2, '"', "a,b", None),
        (3, "\n", "", None),
        (4, 'a "quoted" word', "\n\n", '[1, "x, y"]'),
    ],
)

# every line ends with \r\n; the quoted \r\n inside the first body stays part of the value
CRLF = (
    HEADER + f'\r\n{U(1)},1,,{GOOD},"x\r\ny",\r\n{U(2)},2,,,,plain,""\r\n{U(3)},3,,,,"a,b",note\r\n'
).encode()

REORDERED_HEADER = "note,body,emb,at,doc,n,id"
REORDERED = (
    f'first,b1,"[1,2,3]",{TS},"{{""a"": 1}}",1,{U(1)}\n'
    f",b2,,,,2,{U(2)}\n"
    f'"",b3,"[0.5,-1,2e-3]",2024-06-30 23:59:59.5+02,[],3,{U(3)}\n'
)


# the 5 MB value: quotes, commas and newlines throughout, so every parser path meets them
_BIG_CHUNK = "x" * 1000 + '"q",\n'
_BIG_REPEAT = BIG_FIELD_BYTES // len(_BIG_CHUNK) + 1


def _big_field() -> dict[str, bytes]:
    raw = _BIG_CHUNK.replace('"', '""') * _BIG_REPEAT
    body = f'{U(1)},1,,,,"{raw}",\n{U(2)},2,,,,small,\n'
    return {"t.csv": (HEADER + "\n" + body).encode(), "ok.csv": OK_CSV}


def big_field_expected() -> tuple[int, str]:
    value = _BIG_CHUNK * _BIG_REPEAT
    return len(value), md5(value)


def _big_rows() -> dict[str, bytes]:
    """200,000 records, every 1000th with a quoted multi-line body, so lines != records."""
    out = [HEADER]
    for i in range(1, BIG_ROWS + 1):
        if i % 1000 == 0:
            out.append(f'{U(i)},{i},,,"[{i},1,0]","two\nlines {i}",')
        else:
            out.append(f"{U(i)},{i},,,,b{i},")
    return {"t.csv": ("\n".join(out) + "\n").encode(), "ok.csv": OK_CSV}


def big_rows_expected() -> list[tuple]:
    n = BIG_ROWS
    body_len = sum(
        len(f"two\nlines {i}") if i % 1000 == 0 else len(f"b{i}") for i in range(1, n + 1)
    )
    return [(n, n, n * (n + 1) // 2, body_len, n // 1000)]


FK_DDL = (
    "CREATE TABLE public.parent (id int PRIMARY KEY, name text)",
    "CREATE TABLE public.child (id int PRIMARY KEY, parent_id int REFERENCES public.parent (id), "
    "body text)",
    OK_DDL,
)
SELF_DDL = (
    "CREATE TABLE public.posts (id int PRIMARY KEY, reply_to int REFERENCES public.posts (id), "
    "body text NOT NULL)",
    OK_DDL,
)


def _case_list() -> list[Case]:
    big_len, big_md5 = big_field_expected()
    return [
        # ---- clean files that break naive parsers: exact values ----------------------------
        Case(
            "multiline_quotes_commas",
            _t(MULTILINE),
            rows=4,
            inserted=4,
            checks=(MULTILINE_CHECK,),
            note="loaded; quoted newlines, doubled quotes and commas kept exactly; "
            "unquoted empty = NULL, quoted \"\" = ''",
        ),
        Case(
            "crlf",
            _raw(CRLF),
            rows=3,
            inserted=3,
            checks=(
                (
                    "SELECT n, body, note, emb::text FROM t ORDER BY n",
                    [
                        (1, "x\r\ny", None, "[1,2,3]"),
                        (2, "plain", "", None),
                        (3, "a,b", "note", None),
                    ],
                ),
            ),
            note="loaded; \\r\\n terminators dropped, a quoted \\r\\n kept in the value",
        ),
        Case(
            "utf8_bom",
            _t(f"{U(1)},1,,,,é ü 日本,\n{U(2)},2,,,,b,\n", bom=True),
            rows=2,
            inserted=2,
            checks=(
                (
                    "SELECT id::text, n, body FROM t ORDER BY n",
                    [(U(1), 1, "é ü 日本"), (U(2), 2, "b")],
                ),
            ),
            note="loaded; the BOM is not part of the first column name (id matched by name)",
        ),
        Case(
            "header_reordered",
            _t(REORDERED, header=REORDERED_HEADER),
            rows=3,
            scan_status="drift",  # the diff says "columns reordered"; loadable
            inserted=3,
            checks=(
                (
                    "SELECT id::text, n, doc::text, at AT TIME ZONE 'UTC', emb::text, body, note "
                    "FROM t ORDER BY n",
                    [
                        (U(1), 1, '{"a": 1}', _dt("2024-01-02 03:04:05"), "[1,2,3]", "b1", "first"),
                        (U(2), 2, None, None, None, "b2", None),
                        (U(3), 3, "[]", _dt("2024-06-30 21:59:59.5"), "[0.5,-1,0.002]", "b3", ""),
                    ],
                ),
            ),
            note="loaded by header name, not position",
        ),
        Case(
            "header_only",
            _t(""),
            rows=0,
            inserted=0,
            checks=(("SELECT count(*) FROM t", [(0,)]),),
            note="loaded: 0 rows, exit 0",
        ),
        Case(
            "field_5mb",
            _big_field,
            rows=2,
            inserted=2,
            checks=(
                (
                    "SELECT n, length(body), md5(body) FROM t ORDER BY n",
                    [(1, big_len, big_md5), (2, 5, md5("small"))],
                ),
            ),
            note="loaded intact (length and md5 of the 5 MB value)",
        ),
        Case(
            "rows_200k",
            _big_rows,
            rows=BIG_ROWS,
            inserted=BIG_ROWS,
            checks=(
                (
                    "SELECT count(*), count(DISTINCT id), sum(n), sum(length(body)), count(emb) FROM t",
                    big_rows_expected(),
                ),
            ),
            note="all loaded, counts exact (records != lines: 200 multi-line bodies)",
        ),
        Case(
            "same_key_twice",
            _t(f"{U(1)},1,,,,first,\n{U(2)},2,,,,b,\n{U(1)},3,,,,second,\n"),
            rows=3,
            inserted=2,
            conflicting=1,
            conflicts=(Reject(4, "conflict on t_pkey (id)=", U(1)),),
            checks=(
                (
                    "SELECT id::text, n, body FROM t ORDER BY n",
                    [(U(1), 1, "first"), (U(2), 2, "b")],
                ),
            ),
            note="1 conflict (same key, other content): the first record loads, the second is "
            "rejected naming record 1",
        ),
        Case(
            "replies_before_parents",
            lambda: {
                "posts.csv": b"id,reply_to,body\n3,2,re re\n2,1,re\n1,,root\n5,4,orphan? no\n4,,root 2\n",
                "ok.csv": OK_CSV,
            },
            ddl=SELF_DDL,
            file="posts.csv",
            target="public.posts",
            rows=5,
            inserted=5,
            checks=(
                (
                    "SELECT id, reply_to FROM posts ORDER BY id",
                    [(1, None), (2, 1), (3, 2), (4, None), (5, 4)],
                ),
            ),
            note="all loaded whatever the row order (self-reference)",
        ),
        # ---- bad values: good rows load, bad rows rejected with line and reason -------------
        Case(
            "bad_uuid",
            _t(f"{U(1)},1,,,,a,\nnot-a-uuid,2,,,,b,\n{U(3)},3,,,,c,\n"),
            rows=3,
            scan_status="drift",
            issues=frozenset({("id", 3)}),
            inserted=2,
            rejects=(Reject(3, "invalid input syntax for type uuid", "not-a-uuid"),),
            checks=(("SELECT n FROM t ORDER BY n", [(1,), (3,)]),),
        ),
        Case(
            "bad_json",
            # the bad record follows a multi-line one: its line is 4, its record number 3
            _t(f'{U(1)},1,,,,"a\nb",\n{U(2)},2,"{{""a"": 1",,,b,\n{U(3)},3,"{{}}",,,c,\n'),
            rows=3,
            scan_status="drift",
            issues=frozenset({("doc", 4)}),
            inserted=2,
            rejects=(Reject(4, "invalid input syntax for type json", U(2)),),
            checks=(("SELECT n, doc::text FROM t ORDER BY n", [(1, None), (3, "{}")]),),
        ),
        Case(
            "bad_timestamp",
            _t(
                f"{U(1)},1,,{TS},,a,\n{U(2)},2,,2024-02-30 10:00:00+00,,b,\n{U(3)},3,,yesterday-ish,,c,\n"
            ),
            rows=3,
            scan_status="drift",
            issues=frozenset({("at", 3), ("at", 4)}),
            inserted=1,
            rejects=(
                Reject(3, "date/time field value out of range", U(2)),
                Reject(4, "invalid input syntax for type timestamp with time zone", U(3)),
            ),
            checks=(("SELECT n FROM t ORDER BY n", [(1,)]),),
        ),
        Case(
            "int_overflow",
            _t(f"{U(1)},2147483647,,,,a,\n{U(2)},2147483648,,,,b,\n{U(3)},-2147483649,,,,c,\n"),
            rows=3,
            scan_status="drift",
            issues=frozenset({("n", 3), ("n", 4)}),
            inserted=1,
            rejects=(
                Reject(3, "out of range for type integer", U(2)),
                Reject(4, "out of range for type integer", U(3)),
            ),
            checks=(("SELECT n FROM t", [(2147483647,)]),),
        ),
        Case(
            "vector_dim_and_malformed",
            _t(
                f'{U(1)},1,,,"[1,2,3]",a,\n'
                f'{U(2)},2,,,"[1,2]",b,\n'
                f'{U(3)},3,,,"[1,x,3]",c,\n'
                f'{U(4)},4,,,"[4,5,6]",d,\n'
                f'{U(5)},5,,,"[1,2,3,4]",e,\n'
            ),
            rows=5,
            scan_status="drift",
            issues=frozenset({("emb", 3), ("emb", 4), ("emb", 6)}),
            inserted=2,
            rejects=(
                Reject(3, "expected 3 dimensions", U(2)),
                Reject(4, "not a number", U(3)),
                Reject(6, "expected 3 dimensions", U(5)),
            ),
            checks=(("SELECT n, emb::text FROM t ORDER BY n", [(1, "[1,2,3]"), (4, "[4,5,6]")]),),
        ),
        Case(
            "null_in_not_null",
            _t(f'{U(1)},1,,,,a,\n{U(2)},2,,,,,x\n{U(3)},3,,,,"",y\n'),
            rows=3,
            scan_status="drift",
            issues=frozenset({("body", 3)}),
            inserted=2,
            rejects=(Reject(3, "NOT NULL", U(2)),),
            checks=(("SELECT n, body FROM t ORDER BY n", [(1, "a"), (3, "")]),),
            note="unquoted empty = NULL, refused by NOT NULL; quoted \"\" = '' loads",
        ),
        Case(
            "fk_to_missing_row",
            lambda: {
                "parent.csv": b"id,name\n1,one\n2,two\n",
                "child.csv": b'id,parent_id,body\n10,1,a\n11,3,"b\nb"\n12,2,c\n13,,d\n14,99,e\n',
                "ok.csv": OK_CSV,
            },
            ddl=FK_DDL,
            file="child.csv",
            target="public.child",
            rows=5,
            inserted=3,
            rejects=(
                Reject(3, "no row in public.parent", "11"),
                Reject(7, "no row in public.parent", "14"),
            ),
            checks=(
                ("SELECT id, parent_id FROM child ORDER BY id", [(10, 1), (12, 2), (13, None)]),
            ),
            others={"public.ok": 2, "public.parent": 2},
        ),
        # ---- records COPY would refuse: each rejected alone, with its line and raw bytes ------
        Case(
            "invalid_utf8",
            _raw(
                _h(f'{U(1)},1,,,,"a\nb",\n'.encode(), f"{U(2)},2,,,,caf\xe9,\n".encode("latin-1"))
            ),
            rows=2,
            inserted=1,
            rejects=(Reject(4, "invalid UTF-8 byte 0xe9", f"{U(2)},2,,,,caf\\xe9,"),),
            note="the record rejected alone (raw bytes, \\xNN for what is not UTF-8)",
        ),
        Case(
            "nul_byte",
            _raw(_h(f"{U(1)},1,,,,a,\n".encode(), f"{U(2)},2,,,,a\x00b,\n".encode())),
            rows=2,
            inserted=1,
            rejects=(Reject(3, "NUL byte (0x00)", f"{U(2)},2,,,,a\\x00b,"),),
            note="the record rejected alone",
        ),
        Case(
            "unterminated_quote_at_eof",
            _raw(_h(f"{U(1)},1,,,,a,\n".encode(), f'{U(2)},2,,,,"never\nclosed,\n'.encode())),
            # the open quote makes the rest of the file one record: the complete records before
            # it load, that partial one is rejected (lines 3-4)
            rows=2,
            inserted=1,
            rejects=(
                Reject(3, "unterminated quoted field", f'{U(2)},2,,,,"never\nclosed,\n'),
            ),
            note="records before it load; the partial record (to the end of the file) rejected",
        ),
        Case(
            "too_many_fields",
            _raw(_h(f'{U(1)},1,,,,"a\nb",\n'.encode(), f"{U(2)},2,,,,b,,extra\n".encode())),
            rows=2,
            inserted=1,
            rejects=(Reject(4, "row has 8 fields, header has 7", f"{U(2)},2,,,,b,,extra"),),
            note="the record rejected alone",
        ),
        Case(
            "too_few_fields",
            _raw(
                _h(
                    f"{U(1)},1,,,,a,\n".encode(),
                    f"{U(2)},2,,,\n".encode(),
                    f"{U(3)},3,,,,c,\n".encode(),
                )
            ),
            rows=3,
            inserted=2,
            rejects=(Reject(3, "row has 5 fields, header has 7", f"{U(2)},2,,,"),),
            note="the record rejected alone",
        ),
        Case(
            "duplicate_header_name",
            _raw(b"id,n,n,body\n" + f"{U(1)},1,2,a\n".encode()),
            rows=None,  # the header is unusable; the scan reports no count (see the report)
            scan_status="blocked",
            blocked=Blocked(1, None, "duplicate column name 'n' in header"),
        ),
        Case(
            "empty_file",
            _raw(b""),
            rows=0,
            scan_status="blocked",
            blocked=Blocked(None, None, "empty file (0 bytes): no header"),
        ),
    ]


def _dt(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


CASES: list[Case] = _case_list()


def case(name: str) -> Case:
    for c in CASES:
        if c.name == name:
            return c
    raise KeyError(name)


# -- the export of the kill -9 trials (tests/db/test_faults.py, scripts/kill9_trials.py) -------------

KILL_DDL = (
    "CREATE TABLE public.parent (id int PRIMARY KEY, name text NOT NULL, body text)",
    "CREATE TABLE public.child (id bigint PRIMARY KEY, parent_id int REFERENCES public.parent (id), "
    "emb vector(8), note text)",
)


def write_kill_export(folder: Path, rows: int) -> dict[str, int]:
    """Two tables of `rows` records each: `parent` (plain, some multi-line quoted bodies: the raw
    COPY path) and `child` (vector(8), FK to parent: the binary path). Returns {target: rows}."""
    folder.mkdir(parents=True, exist_ok=True)
    parent = ["id,name,body"]
    parent += [
        f'{i},n{i},"body {i}\nwith ""quotes"", and commas"' if i % 50 == 0 else f"{i},n{i},b{i}"
        for i in range(1, rows + 1)
    ]
    (folder / "parent.csv").write_text("\n".join(parent) + "\n", encoding="utf-8")
    child = ["id,parent_id,emb,note"]
    child += [
        f'{i},{(i * 7) % rows + 1},"[{i % 97},{i % 89},{i % 83},{i % 79},0.5,-1,{i % 7},2]",c{i}'
        for i in range(1, rows + 1)
    ]
    (folder / "child.csv").write_text("\n".join(child) + "\n", encoding="utf-8")
    return {"public.parent": rows, "public.child": rows}


# An order-independent fingerprint of a table: its count and an md5 over its rows in key order.
FINGERPRINT = (
    "SELECT count(*), md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x.id), '')) FROM {} x"
)


# a third table whose key the file does not supply (bigserial): only the target's commit record
# can tell a re-run that it is loaded. Its ids depend on the sequence (a killed run's nextval is
# never given back), so its rows are compared without them.
EVENTS_DDL = (
    "CREATE TABLE public.events (id bigserial PRIMARY KEY, "
    "parent_id int REFERENCES public.parent (id), body text)"
)
EVENTS_FINGERPRINT = (
    "SELECT count(*), md5(coalesce(string_agg(row(parent_id, body)::text, E'\\n' "
    "ORDER BY parent_id, body), '')) FROM {} x"
)
ALL_DDL = (*KILL_DDL, EVENTS_DDL)


def write_export(folder: Path, rows: int) -> dict[str, int]:
    """parent, child (write_kill_export) and events: {target: rows}."""
    expected = write_kill_export(folder, rows)
    lines = ["parent_id,body"] + [f"{i % rows + 1},event {i}" for i in range(rows)]
    (folder / "events.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {**expected, "public.events": rows}
