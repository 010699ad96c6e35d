"""A differential harness (a module of helpers, not tests): third-party CSV files loaded by
PostgreSQL's own `COPY ... FROM STDIN (FORMAT csv, HEADER true)` into one database and by
`aria-tui load --profile none` into another, then compared record by record.

For a file COPY accepts, aria-tui must load the same records with the same values (NULL apart
from ''), count them the same, and `validate` must prove the table. For a file COPY refuses,
aria-tui must reject the bad records (by their physical lines) and load the rest, which COPY
must then accept as they are (the file with those lines cut out), or refuse the file whole in
one sentence; `validate` must then not prove it.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from aria_tui.csvio import Header, exact, read_header

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"


_MADE: dict[tuple[str, int, str], str] = {}  # (database, columns, first type) -> table


def copy_rows(
    conn: psycopg.Connection, data: bytes, ncols: int, header: bool = True, first: str = "text"
):
    """Rows COPY ... (FORMAT csv, HEADER true) reads from `data` into `ncols` text columns (in
    order; the first of type `first`), as text, or 'error: ...'. Each COPY is rolled back, so
    one table per shape serves every file."""
    cols = [sql.Identifier(f"c{i}") for i in range(ncols)]
    key = (conn.info.dbname, ncols, first)
    if key not in _MADE:
        name = f"copy_t{len(_MADE)}"
        types = [first] + ["text"] * (ncols - 1)
        conn.execute(
            sql.SQL("CREATE TABLE {} (n bigserial, {})").format(
                sql.Identifier(name),
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(c, sql.SQL(t)) for c, t in zip(cols, types, strict=True)
                ),
            )
        )
        _MADE[key] = name
    table = sql.Identifier(_MADE[key])
    opts = "FORMAT csv, HEADER true" if header else "FORMAT csv"
    out = sql.SQL(", ").join(sql.SQL("{}::text").format(c) for c in cols)
    try:
        with conn.transaction() as tx:
            with conn.cursor().copy(
                sql.SQL("COPY {} ({}) FROM STDIN ({})").format(
                    table, sql.SQL(", ").join(cols), sql.SQL(opts)
                )
            ) as cp:
                cp.write(data)
            q = sql.SQL("SELECT {} FROM {} ORDER BY n").format(out, table)
            rows = [tuple(r) for r in conn.execute(q, prepare=False).fetchall()]
            raise psycopg.Rollback(tx)
    except psycopg.Error as exc:
        return f"error: {exc.diag.message_primary} ({exc.diag.context})"
    return rows


@dataclass
class Case:
    source: str  # 'csvkit/bad.csv'
    data: bytes
    table: str  # the aria-tui target table, public.<table>
    header: Header | None = None
    header_problem: str | None = None
    copy: list[tuple] | str | None = None  # COPY's rows, or its error
    # a poisoned file (see poison): the file it was made from, and the lines of the poison
    clean: bytes | None = None
    poison_lines: tuple[int, ...] = ()
    reference: list[tuple] | str | None = None  # COPY's rows of the clean file
    first: str = "text"  # the type of the first column (a vector: aria-tui's binary paths)
    gz: bool = False  # written as public.<table>.csv.gz

    @property
    def file(self) -> str:
        return f"public.{self.table}.csv" + (".gz" if self.gz else "")


def cases_from(paths: list[Path]) -> list[Case]:
    return cases_of({str(p.relative_to(CORPUS)): p.read_bytes() for p in paths})


def cases_of(files: dict[str, bytes]) -> list[Case]:
    return [Case(name, data, f"f{i:03d}") for i, (name, data) in enumerate(files.items())]


def corpus(source: str) -> dict[str, bytes]:
    return {f"{source}/{p.name}": p.read_bytes() for p in sorted((CORPUS / source).iterdir())}


# a record no header of these files fits (201 fields): COPY refuses it, aria-tui must reject it
POISON = b"poison" + b"," * 200


def poison(data: bytes) -> tuple[bytes, tuple[int, int]] | None:
    """`data` with a bad record right after the header and another after its last record, and
    their physical lines;
    None when the header has no terminator to put one after."""
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    found = exact.first_terminator(data[bom:], True)
    if found is None:
        return None
    off, eol = found
    head = bom + off + len(eol)
    term = exact.line_char(eol)
    body = data[head:]
    tail = b"" if not body or body.endswith(term) else eol
    new = data[:head] + POISON + eol + body + tail + POISON + eol
    return new, (data[:head].count(term) + 1, new.count(term))


def poisoned(files: dict[str, bytes]) -> list[Case]:
    """Each file COPY may accept, poisoned: cases that read every record with csvio."""
    cases = []
    for name, data in files.items():
        got = poison(data)
        if got is not None:
            case = Case(f"{name} (poisoned)", got[0], f"f{len(cases):03d}")
            case.clean, case.poison_lines = data, got[1]
            cases.append(case)
    return cases


VECTOR = b'"[1,2]",'


def record_starts(body: bytes, term: bytes) -> list[int]:
    """Offsets where the records of `body` begin, PostgreSQL's way: after each terminator
    preceded by an even number of quotes."""
    starts, inside = [0], False
    for i, b in enumerate(body):
        if b == 0x22:
            inside = not inside
        elif not inside and body[i : i + 1] == term and i + 1 < len(body):
            starts.append(i + 1)
    return starts


def with_vector(data: bytes) -> bytes | None:
    """`data` with a first column `emb` holding a vector in every record (header included)."""
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    found = exact.first_terminator(data[bom:], True)
    if found is None:
        return None
    term = exact.line_char(found[1])
    body = data[bom:]
    out = bytearray(data[:bom])
    starts = record_starts(body, term)
    for k, (a, b) in enumerate(zip(starts, [*starts[1:], len(body)], strict=True)):
        out += (b"emb," if k == 0 else VECTOR) + body[a:b]
    return bytes(out)


def vectored(files: dict[str, bytes]) -> dict[str, bytes]:
    out = {}
    for name, data in files.items():
        got = with_vector(data)
        if got is not None:
            out[f"{name} (vector)"] = got
    return out


def prepare(cases: list[Case], copy_conn, aria_conn, folder: Path) -> None:
    """Write the export folder, COPY each file into the reference database, create its table
    (text columns named by the header) in aria-tui's."""
    folder.mkdir(parents=True, exist_ok=True)
    for case in cases:
        path = folder / case.file
        path.write_bytes(gzip.compress(case.data, mtime=0) if case.gz else case.data)
        h = read_header(path)
        if not isinstance(h, Header):
            case.header_problem = h.sentence()
            continue
        case.header = h
        # the header as the server itself reads it (its record, HEADER false): names agree
        got = copy_rows(copy_conn, case.data[: h.bytes], len(h.columns), header=False)
        assert not isinstance(got, str) and len(got) == 1, (case.source, got)
        first = list(got[0])
        if h.has_bom:
            first[0] = first[0][1:] if first[0] and first[0].startswith("\ufeff") else first[0]
        assert tuple(first) == h.columns, (case.source, first, h.columns)
        case.copy = copy_rows(copy_conn, case.data, len(h.columns), first=case.first)
        if case.clean is not None:
            clean = copy_rows(copy_conn, case.clean, len(h.columns), first=case.first)
            case.clean = None if isinstance(clean, str) else case.clean
            case.reference = clean
        types = [case.first] + ["text"] * (len(h.columns) - 1)
        aria_conn.execute(
            sql.SQL("CREATE TABLE public.{} ({})").format(
                sql.Identifier(case.table),
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t))
                    for c, t in zip(h.columns, types, strict=True)
                ),
            )
        )


def rejects_of(path: str | None) -> list[list[str]]:
    if not path:
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))[1:]


def rejected_lines(rows: list[list[str]]) -> list[tuple[int, int]]:
    """(first, last) physical line of each rejected record."""
    spans = []
    for r in rows:
        m = re.search(r"lines (\d+)-(\d+)", r[1])
        spans.append((int(m.group(1)), int(m.group(2))) if m else (int(r[0]), int(r[0])))
    return spans


def cut_lines(data: bytes, spans: list[tuple[int, int]], eol: bytes) -> bytes:
    """`data` without the physical lines in `spans` (1-based, header = line 1)."""
    term = eol[-1:]
    lines = data.split(term)
    drop = {n for a, b in spans for n in range(a, b + 1)}
    kept = [ln for i, ln in enumerate(lines, start=1) if i not in drop]
    if len(lines) in drop and kept:
        kept.append(b"")  # the last line cut: the one before it keeps its whole terminator
    return term.join(kept)


def target_rows(aria_conn, case: Case) -> list[tuple]:
    assert case.header is not None
    cols = sql.SQL(", ").join(
        sql.SQL("{}::text").format(sql.Identifier(c)) for c in case.header.columns
    )
    q = sql.SQL("SELECT {} FROM public.{}").format(cols, sql.Identifier(case.table))
    return [tuple(r) for r in aria_conn.execute(q, prepare=False).fetchall()]


def run_cli(cli, *argv) -> tuple[int, dict, str]:
    code, out, err = cli(*argv)
    assert out.strip(), err
    return code, json.loads(out), err


def divergences(
    cases: list[Case], loaded: dict, validated: dict, aria_conn, copy_conn, accepted: bool = False
) -> dict:
    """Each file's differences between aria-tui and COPY: {source: [what differs, ...]}.
    `accepted`: validate ran with --accept-rejects for every table, so a poisoned file whose
    poison alone was rejected must be proven."""
    by_file_load = {t["file"]: t for t in loaded["tables"]}
    by_file_val = {t["file"]: t for t in validated["tables"]}
    out: dict[str, list[str]] = {}
    for case in cases:
        name = case.file
        lt, vt = by_file_load.get(name), by_file_val.get(name)
        why: list[str] = []
        if case.header is None:
            # refused whole: one sentence, and never proven
            if lt is None or lt["status"] == "loaded":
                why.append(
                    f"header refused ({case.header_problem}) but load says {lt and lt['status']}"
                )
            if vt is not None and vt["ok"]:
                why.append("validate proves a file whose header was refused")
            if why:
                out[case.source] = why
            continue
        if lt is None:
            out[case.source] = ["not in load --json"]
            continue
        status = lt["status"]
        total = lt["inserted"] + lt["updated"] + lt["duplicates"] + lt["conflicts"] + lt["rejected"]
        if status == "loaded" and lt["csv_rows"] != total:
            why.append(f"counts do not add up: {lt}")
        if isinstance(case.copy, list):
            if status != "loaded":
                why.append(f"COPY loads {len(case.copy)} records; aria-tui: {status} {lt['error']}")
            else:
                got = target_rows(aria_conn, case)
                if Counter(got) != Counter(case.copy):
                    missing = list((Counter(case.copy) - Counter(got)).elements())[:3]
                    extra = list((Counter(got) - Counter(case.copy)).elements())[:3]
                    why.append(f"rows differ: COPY has {missing} aria-tui has {extra}")
                if lt["csv_rows"] != len(case.copy) or lt["rejected"]:
                    why.append(
                        f"csv_rows {lt['csv_rows']} rejected {lt['rejected']} "
                        f"(COPY: {len(case.copy)} records) {rejects_of(lt['reject_file'])[:3]}"
                    )
            if vt is None or not vt["ok"]:
                why.append(
                    f"validate does not prove it: {vt and vt['status']} "
                    f"{vt and [c for c in vt['checks'] if not c['ok']]}"
                )
        else:
            # COPY refused the file
            if accepted:
                if case.clean is not None and (vt is None or not vt["ok"]):
                    why.append(
                        f"poisoned, its rejects accepted, validate does not prove it: "
                        f"{vt and vt['status']} {vt and [c for c in vt['checks'] if not c['ok']]}"
                    )
            elif vt is not None and vt["ok"]:
                why.append(f"validate PASS on a file COPY refuses ({case.copy})")
            if status == "loaded":
                rej = rejects_of(lt["reject_file"])
                if not rej:
                    why.append(f"COPY refuses ({case.copy}) but aria-tui rejected nothing")
                elif case.clean is not None and (
                    sorted(int(r[0]) for r in rej) != list(case.poison_lines)
                    or Counter(target_rows(aria_conn, case)) != Counter(case.reference)
                ):
                    got = sorted(int(r[0]) for r in rej)
                    rows = target_rows(aria_conn, case)
                    missing = list((Counter(case.reference) - Counter(rows)).elements())[:3]
                    extra = list((Counter(rows) - Counter(case.reference)).elements())[:3]
                    why.append(
                        f"poisoned: rejected lines {got} (the poison: {case.poison_lines}); "
                        f"COPY of the clean file has {missing}, aria-tui has {extra} "
                        f"{[r[:2] for r in rej if int(r[0]) not in case.poison_lines][:3]}"
                    )
                else:
                    eol = case.header.eol.encode()
                    # each rejected record, alone under the header, COPY refuses too
                    term = eol[-1:]
                    lines = case.data.split(term)
                    head = case.data[: case.header.bytes]
                    for r, (a, b) in zip(rej, rejected_lines(rej), strict=True):
                        # its own bytes, its own terminator (a wrong one is its fault)
                        alone = head + term.join(lines[a - 1 : b]) + term
                        got = copy_rows(
                            copy_conn, alone, len(case.header.columns), first=case.first
                        )
                        if not isinstance(got, str):
                            why.append(f"line {r[0]} rejected ({r[1]}) but COPY takes it: {got}")
                    rest = cut_lines(case.data, rejected_lines(rej), eol)
                    want = copy_rows(copy_conn, rest, len(case.header.columns), first=case.first)
                    if isinstance(want, str):
                        why.append(
                            f"COPY still refuses the rest after the rejected lines "
                            f"{[r[0] for r in rej]}: {want}"
                        )
                    elif Counter(target_rows(aria_conn, case)) != Counter(want):
                        why.append("the rows loaded are not the rest of the file as COPY reads it")
            elif not lt["error"]:
                why.append(f"{status} without a sentence")
        if why:
            out[case.source] = why
    return out
