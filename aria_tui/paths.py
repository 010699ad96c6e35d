"""Where aria-tui keeps its state, and how it writes files nobody else may read."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import IO, Any

import platformdirs

APP = "aria-tui"


def data_dir() -> Path:
    """User data dir: embedded database, reports."""
    return Path(os.environ.get("ARIA_TUI_DATA_DIR") or platformdirs.user_data_dir(APP))


def state_dir() -> Path:
    """User state dir: run journals and reject files."""
    return Path(os.environ.get("ARIA_TUI_STATE_DIR") or platformdirs.user_state_dir(APP))


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def key_for(*parts: str) -> str:
    """A short stable key for a combination such as (export folder, target)."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def open_private(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """Open a file for writing with mode 0600 from its first byte (no window where it is readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    os.chmod(path, 0o600)
    return os.fdopen(fd, mode, **kwargs)


def write_private(path: Path, text: str) -> Path:
    """Write text atomically with mode 0600."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open_private(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path
