"""How a decision names its column on the command line: `SCHEMA.TABLE.COLUMN`, each part in
double quotes when its name holds a dot, a double quote or an equals sign (a quote inside is
doubled, as in SQL), so that every name a target or an export can have is one a decision can
be given for, and every `--decide` aria-tui suggests reads back as the same decision.
"""

from __future__ import annotations

_SPECIAL = ('.', '"', "=")


def quote(part: str) -> str:
    """One part as the spelling writes it: plain when it can be, else in double quotes."""
    if part and part == part.strip() and not any(ch in part for ch in _SPECIAL):
        return part
    return '"' + part.replace('"', '""') + '"'


def spell(table: str, column: str) -> str:
    """`SCHEMA.TABLE.COLUMN` for the qualified `table` ('schema.table') and `column`."""
    schema, _, name = table.partition(".")
    return ".".join(quote(p) for p in (schema, name, column))


def split(text: str) -> tuple[list[str], str | None] | None:
    """The dotted parts before the first `=` outside double quotes, and what follows it (None:
    there is no `=`); None when a quote is left open or a part is empty."""
    parts: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] == " ":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            buf: list[str] = []
            while True:
                if i >= n:
                    return None
                if text[i] == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        buf.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                buf.append(text[i])
                i += 1
            part = "".join(buf)
            while i < n and text[i] == " ":
                i += 1
        else:
            start = i
            while i < n and text[i] not in ".=":
                i += 1
            part = text[start:i].strip()
        if not part:
            return None
        parts.append(part)
        if i >= n:
            return parts, None
        if text[i] == "=":
            return parts, text[i + 1 :]
        if text[i] != ".":
            return None
        i += 1
