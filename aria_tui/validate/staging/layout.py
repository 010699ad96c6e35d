"""How one export file lines up with its target table, and the names of the temporary tables and
internal columns staging creates (see the package's docstring for what each holds).
"""

from __future__ import annotations

from dataclasses import dataclass

from aria_tui.pg.catalog import Column, Table

RAW = "_aria_raw"
RECORDS = "_aria_records"  # as RAW, for a file whose structure the server's COPY refuses
TYPED = "_aria_typed"
CAST = "_aria_cast"
MISSING = "_aria_missing"
ODD = "_aria_odd"  # checks/measure.py: records and target rows that are not equal twins
PARENT_RAW = "_aria_praw"
PARENT_KEYS = "_aria_pkeys"  # + a number: the keys a parent's own export file holds
# internal column names nobody's table is likely to use for its own
REC = "_aria_rec"
REASON = "_aria_reason"
BROKEN = "_aria_broken"  # why the record's structure cannot be read (records mode only)
HASH = "_aria_h"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Pair:
    """One loaded column: CSV column `csv` (staged as `stage`) into target column `column`."""

    stage: str
    csv: str
    column: Column

    @property
    def name(self) -> str:
        return self.column.name


@dataclass(frozen=True)
class Layout:
    """How one file lines up with its target table."""

    table: Table
    header: tuple[str, ...]  # the CSV header
    stage_columns: tuple[str, ...]  # c1..cn, one per CSV header column
    pairs: tuple[Pair, ...]  # mapped columns (generated ones compared, not loaded), in CSV order
    key: tuple[str, ...] | None  # target columns identifying a row; None = keyless table
    uniques: tuple[tuple[str, ...], ...]  # other unique keys whose columns are all loaded
    fks: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...]], ...]  # (name, cols, ref, ref cols)
    kept: tuple[str, ...]  # target columns kept typed in the cast table

    @property
    def dropped(self) -> tuple[str, ...]:
        """CSV columns the mapping does not load."""
        loaded = {p.csv for p in self.pairs}
        return tuple(h for h in self.header if h not in loaded)

    @property
    def text_vectors(self) -> tuple[Pair, ...]:
        """Vector columns compared as text against the target's output, row by row (keyed tables).

        The export's vectors are the source server's own output, so the text of a loaded vector
        is, byte for byte, what the target prints for it: printing the stored vector is about
        twice as cheap as parsing the text, and text that differs is still parsed and compared by
        value, so a non-canonical spelling of the same vector is equal too. Keyless tables compare
        whole rows as a multiset and parse their vectors instead."""
        if not self.key:
            return ()
        return tuple(p for p in self.pairs if p.column.is_vector)

    @property
    def hashed(self) -> tuple[Pair, ...]:
        """The columns `_aria_h` covers: every loaded column but the text-compared vectors."""
        skip = {p.stage for p in self.text_vectors}
        return tuple(p for p in self.pairs if p.stage not in skip)

    @property
    def wide(self) -> dict[str, Wide]:
        """Hashed columns whose type takes some values and silently changes them (rounds, cuts,
        drops a zone): compared through a type that keeps every value, the export's text against
        the target's stored value, so a change shows as a difference instead of agreeing once
        both sides went through the same narrow type. Key columns too: rows are matched by their
        typed value (what the load stored under that key), their content compared whole."""
        out: dict[str, Wide] = {}
        for p in self.hashed:
            w = lossless(p.column)
            if w is not None:
                out[p.stage] = w
        return out

    def pair(self, column: str) -> Pair | None:
        for p in self.pairs:
            if p.column.name == column:
                return p
        return None


@dataclass(frozen=True)
class Wide:
    """How one column is compared without its narrowing: the export's text as `export`, the
    target's value as `target` ({} is the value's SQL)."""

    export: str
    target: str


def lossless(col: Column) -> Wide | None:
    """The comparison that keeps every value of `col`'s narrowing type, or None when its input
    function keeps every value it accepts (or no safe wider type is known)."""
    if col.element is not None:
        typname, format_, kind = col.element
        if kind in ("c", "r", "m"):  # an array of composites or of ranges: see the parts below
            return Wide("{}", "{}::text")
        return _each_element(col, lossless(col.as_type(typname, format_)))
    if col.parts:
        # a range's bounds or a composite's attributes of such a type: no wider twin of the whole
        # type exists, so the export's text is compared with the text the target prints. What
        # PostgreSQL exported is its own output, which the same value prints again; a value
        # the type changed prints otherwise (a spelling of the same value that is not the
        # server's own, hand-written, differs too: shown, never passed)
        if any(
            _kept_whole(part[2]) or lossless(col.as_type(part[0], part[1])) is not None
            for part in col.parts
        ):
            return Wide("{}", "{}::text")
        return None
    base, typ = col.base_type, col.base_format.lower()
    # numbers as trim_scale(numeric): the checksum compares bytes, and 1.5 and 1.50 are one value
    if base == "numeric" and "(" in typ:
        return Wide("trim_scale({}::numeric)", "trim_scale({}::numeric)")
    if base == "timestamp":
        # seconds rounded to the precision show in the text; a zone the type drops shows as a
        # mark where the text's instant is not its wall clock's in this session. (Not both
        # sides as timestamptz: in a zone with summer time that is not one to one, 02:30 and
        # 03:30 of the night clocks go forward are one instant.)
        return Wide(
            "{0}::timestamp::text || CASE WHEN {0}::timestamptz IS DISTINCT FROM "
            "{0}::timestamp::timestamptz THEN ' (a zone dropped)' ELSE '' END",
            "{0}::text",
        )
    if base == "timestamptz" and "(" in typ:
        return Wide("{}::timestamptz", "{}::timestamptz")
    if base == "date":  # a time of day is dropped
        return Wide("{}::timestamp", "{}::timestamp")
    if base == "money":  # rounded to the currency's cents
        return Wide(
            "trim_scale(CASE WHEN pg_input_is_valid({0}, 'numeric') THEN {0}::numeric "
            "ELSE {0}::money::numeric END)",
            "trim_scale({}::numeric)",
        )
    if base == "time":
        return Wide("{}::timetz", "{}::timetz")
    if base == "timetz" and "(" in typ:
        return Wide("{}::timetz", "{}::timetz")
    if base == "interval" and typ != "interval":
        return Wide("{}::interval::text", "{}::text")  # as text: '1 day' = '24 hours' as intervals
    if base in ("name", "char") or (base == "varchar" and "(" in typ):
        return Wide("{}::text", "{}::text")
    if base in ("float4", "float8"):
        # the target prints the shortest text that reads back exactly: compared as numbers,
        # and a zero by its sign too (as numbers -0 and 0 are one, as floats not: COPY keeps it).
        # Float text numeric cannot read (0x1p3, -nan) is read as the float, as the load did;
        # text neither reads is marked, never NULL (which would equal a NULL in the target)
        stored = (
            "trim_scale({0}::text::numeric)::text "
            "|| CASE WHEN {0} = 0 AND {0}::text LIKE '-%%' THEN '-' ELSE '' END"
        )
        as_float = stored.replace("{0}", "({0}::" + col.type + ")")
        return Wide(
            "CASE WHEN pg_input_is_valid({0}, 'numeric') THEN trim_scale({0}::numeric)::text "
            "|| CASE WHEN {0}::numeric = 0 AND {0} ~ '^\\s*-' THEN '-' ELSE '' END "
            f"WHEN pg_input_is_valid({{0}}, '{col.type}') THEN {as_float} "
            "ELSE 'not a number: ' || {0} END",
            stored,
        )
    return None


def _each_element(col: Column, element: Wide | None) -> Wide | None:
    """An array compared element by element through its element type's wider twin, in storage
    order (the export's text read as text[], which has the same shape as the typed array), and
    by its shape: its dimensions with their bounds ('[0:1][1:2]'; '{}' for an empty array),
    which unnest and array_agg alone would flatten."""
    if element is None:
        return None

    def each(template: str, array: str) -> str:
        # the element's template, over u.e (its placeholder is {} or {0}; literal braces are
        # doubled and stay so, for the caller's format)
        one = template.replace("{0}", "u.e").replace("{}", "u.e")
        elements = (
            f"(SELECT array_agg(({one}) ORDER BY u.i) FROM unnest({array}) WITH ORDINALITY AS u(e, i))"
        )
        return (
            f"CASE WHEN {array} IS NULL THEN NULL ELSE coalesce(array_dims({array}), '{{{{}}}}') "
            f"|| coalesce(({elements})::text, '') END"
        )

    return Wide(each(element.export, "({0})::text[]"), each(element.target, "({0})"))


def _kept_whole(kind: str) -> bool:
    """A part of a range or composite type (its pg_type kind, catalog.Column.parts) that no rule
    of lossless() sees into (a domain, an array, a range, a composite one level further down):
    only the whole text can tell."""
    return kind in ("d", "c", "r", "m", "A")


def layout(table: Table, header: tuple[str, ...], mapping: tuple[tuple[str, str | None], ...]) -> Layout:
    """Pair the CSV header with the target columns through the scan's mapping."""
    stage_columns = tuple(f"c{i + 1}" for i in range(len(header)))
    mapped = dict(mapping)
    pairs: list[Pair] = []
    seen: set[str] = set()
    for i, csv_col in enumerate(header):
        target_col = mapped.get(csv_col)
        if target_col is None and (same := table.column(csv_col)) is not None and same.generated:
            target_col = csv_col  # not loaded (the scan maps it to nothing), but compared
        col = table.column(target_col) if target_col else None
        # two CSV columns into one target column would make the loader pick one: compare the
        # first, as the mapping lists it. A generated column is not loaded, but the target's
        # computed value is compared with the export's: values it holds elsewhere are not lost
        if col is None or col.name in seen:
            continue
        seen.add(col.name)
        pairs.append(Pair(stage_columns[i], csv_col, col))
    loaded = {p.column.name for p in pairs}

    def all_loaded(cols: tuple[str, ...]) -> bool:
        return bool(cols) and all(c in loaded for c in cols)

    key: tuple[str, ...] | None = None
    if table.primary_key and all_loaded(table.primary_key):
        key = tuple(table.primary_key)
    else:
        for uk in table.unique_keys:
            if all_loaded(uk.columns):
                key = tuple(uk.columns)
                break
    uniques = tuple(
        tuple(uk.columns)
        for uk in table.unique_keys
        if all_loaded(uk.columns) and tuple(uk.columns) != key
    )
    fks = tuple(
        (fk.name, tuple(fk.columns), fk.ref_table, tuple(fk.ref_columns))
        for fk in table.foreign_keys
        if all_loaded(fk.columns)
    )
    kept: list[str] = []
    for cols in [key or ()] + [u for u in uniques] + [f[1] for f in fks]:
        for c in cols:
            if c not in kept:
                kept.append(c)
    return Layout(table, tuple(header), stage_columns, tuple(pairs), key, uniques, fks, tuple(kept))
