"""The methods `@dataclass` writes, compiled once and kept between runs (issue 17: start-up).

`@dataclass` writes `__init__`, `__eq__`, `__repr__`, `__hash__`, `__setattr__`... of each class as
Python source and compiles it with `exec` when the class is created; Python's .pyc files keep
none of it. The ninety dataclasses a load imports cost 25 ms of CPU to compile at every start
(an eighth of the 0.2 s its imports take; measured with benchmarks/startup.py). Here the
dataclasses module's `exec` is a version that compiles each source text once, keeps the code
objects in a marshal file of the user's cache folder (as .pyc files keep a module's code), and
reads them back at the next start.

Nothing else in `dataclasses` changes: it builds the same text and calls `exec(text, globals,
locals)` as always (3.11 to 3.13 all do); only the compile step is skipped for a text seen
before. The cache is keyed by the whole text, so a stale or foreign entry can never be used for
another text; a file from another Python (its bytecode magic number differs), an unreadable or
damaged file, or a folder that cannot be written: the methods compile as without the cache.
"""

from __future__ import annotations

import atexit
import builtins
import dataclasses
import importlib.util
import marshal
import os
import sys
from pathlib import Path
from types import CodeType
from typing import Any

CACHE_ENV = "ARIA_TUI_CACHE_DIR"  # where the file goes (default: platformdirs' user cache dir)
MAX_BYTES = 8 << 20  # beyond this the file starts again from this run's texts (old code piles up)
_MAGIC = importlib.util.MAGIC_NUMBER

_codes: dict[str, CodeType] = {}
_used: set[str] = set()
_compiled = 0
_path: Path | None = None


def _cache_file() -> Path:
    folder = os.environ.get(CACHE_ENV)
    if not folder:
        import platformdirs

        folder = platformdirs.user_cache_dir("aria-tui")
    return Path(folder) / f"dataclass-methods.{sys.implementation.cache_tag}.marshal"


def _exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:
    """`exec` as dataclasses calls it, with the compiled text kept."""
    global _compiled
    if not isinstance(source, str):
        builtins.exec(source, globals, locals)
        return
    code = _codes.get(source)
    if code is None:
        # flags 0 and dont_inherit: what dataclasses' own exec of a string compiles with (its
        # module has no __future__ import; this one has)
        code = compile(source, "<string>", "exec", 0, True)
        _codes[source] = code
        _compiled += 1
    _used.add(source)
    builtins.exec(code, globals, locals)


def _read(path: Path) -> dict[str, CodeType]:
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    if not data.startswith(_MAGIC) or len(data) > MAX_BYTES:
        return {}
    try:
        codes = marshal.loads(data[len(_MAGIC) :])
    except (EOFError, ValueError, TypeError):
        return {}
    if not isinstance(codes, dict):
        return {}
    return {k: v for k, v in codes.items() if isinstance(k, str) and isinstance(v, CodeType)}


def _save() -> None:
    """At exit, when this run compiled a text the file did not hold: write it back, atomically."""
    if not _compiled or _path is None:
        return
    try:
        keep = _codes
        data = _MAGIC + marshal.dumps(keep)
        if len(data) > MAX_BYTES:
            data = _MAGIC + marshal.dumps({k: _codes[k] for k in _used})
        _path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = _path.with_name(f".{_path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, _path)
    except (OSError, ValueError):
        pass  # a read-only home, a full disk: the next run compiles again


def install() -> None:
    """Route dataclasses' exec through the cache (once per process; before any dataclass)."""
    global _path
    if getattr(dataclasses, "exec", None) is _exec:
        return
    try:
        _path = _cache_file()
    except Exception:
        return  # no cache folder to be had: nothing changes
    _codes.update(_read(_path))
    # a module global shadows the builtin: only `dataclasses` sees this exec
    dataclasses.exec = _exec  # type: ignore[attr-defined]
    atexit.register(_save)
