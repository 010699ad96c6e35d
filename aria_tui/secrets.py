"""Keep a password typed on the command line out of the process title (ps, /proc/PID/cmdline)."""

from __future__ import annotations

import ctypes
import re
import sys

_URI_SECRET = re.compile(rb"(postgres(?:ql)?://[^:/@\s]*:)([^@\s]+)(@)")
_KV_SECRET = re.compile(rb"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")


def _scrub(raw: bytes) -> bytes:
    """Same length, secrets overwritten with '*' (argv memory cannot grow)."""

    def stars(m: re.Match) -> bytes:
        return m.group(1) + b"*" * len(m.group(2)) + (m.group(3) if m.lastindex >= 3 else b"")

    return _KV_SECRET.sub(stars, _URI_SECRET.sub(stars, raw))


def scrub_process_title() -> None:
    """Overwrite DSN passwords in this process's original argv memory, in place.

    CPython keeps the C argv that /proc/PID/cmdline shows; `sys.argv` is a copy, so we keep the real
    password there for our own use and blank it where other users of the machine can read it.
    """
    if not sys.platform.startswith("linux"):
        return
    # the kernel reads argv from the range /proc/self/stat records (arg_start .. arg_end)
    try:
        with open("/proc/self/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        arg_start, arg_end = int(fields[45]), int(fields[46])
    except (OSError, IndexError, ValueError):
        return
    size = arg_end - arg_start
    if size <= 0:
        return
    try:
        buf = (ctypes.c_char * size).from_address(arg_start)
        raw = bytes(buf)
        cleaned = _scrub(raw)
        if cleaned != raw:
            ctypes.memmove(arg_start, cleaned, size)
    except (ValueError, OSError):
        return
