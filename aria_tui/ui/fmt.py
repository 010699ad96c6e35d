"""Short human forms of numbers, sizes and durations for cells that must fit in 80 columns."""

from __future__ import annotations


def count(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


def size(n: int | None) -> str:
    if n is None:
        return "—"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # unreachable; keeps type checkers quiet


def rate(per_s: float | None) -> str:
    if not per_s:
        return "—"
    if per_s >= 10_000:
        return f"{per_s / 1000:,.0f}k/s"
    return f"{per_s:,.0f}/s"


def duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def clip(text: str | None, width: int) -> str:
    """One line of at most `width` cells; the ellipsis tells the reader there is more (see the diff)."""
    if not text:
        return ""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: max(width - 1, 0)] + "…"


def error_sentence(exc: BaseException) -> str:
    """What the operator reads: an AriaError's own sentence, otherwise the type and the message."""
    from aria_tui.errors import AriaError, first_line

    if isinstance(exc, AriaError):
        return str(exc)
    text, name = first_line(exc), type(exc).__name__
    return name if text == name else f"{name}: {text}"
