"""How the checks' sentences write numbers, rows and keys."""

from __future__ import annotations


def number(value: int) -> str:
    return f"{value:,}"


def records_text(n: int) -> str:
    return f"{number(n)} record" + ("" if n == 1 else "s")


def rows_text(n: int) -> str:
    return f"{number(n)} row" + ("" if n == 1 else "s")


def key_label(cols: tuple[str, ...], values: tuple[str | None, ...]) -> str:
    """`id=42` or `(category, key)=(a, b)`: how a row is named in a detail."""
    shown = tuple("NULL" if v is None else (v if len(v) <= 60 else v[:57] + "...") for v in values)
    if len(cols) == 1:
        return f"{cols[0]}={shown[0]}"
    return f"({', '.join(cols)})=({', '.join(shown)})"


def short_digest(digest: str) -> str:
    return digest[:12]


def join_details(parts: list[str]) -> str:
    # details start with identifiers and numbers as often as with words: no capitalising
    return "; ".join(p.rstrip(".") for p in parts if p)
