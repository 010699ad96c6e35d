"""Target specs (`embedded`, `embedded:DIR`, a libpq URI or key=value string) and their safe display.

A password is never shown: everything meant for a human goes through `display_dsn` or `redact`.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

EMBEDDED = "embedded"
DEFAULT_DATABASE = "aria_warehouse"


@dataclass(frozen=True)
class TargetSpec:
    """What the operator asked for, before anything is started or connected."""

    raw: str
    embedded_dir: Path | None  # set for `embedded` / `embedded:DIR`

    @property
    def is_embedded(self) -> bool:
        return self.embedded_dir is not None


def default_embedded_dir() -> Path:
    from aria_tui.paths import data_dir

    return data_dir() / "pgdata"


def parse_spec(spec: str | None) -> TargetSpec:
    """`--dsn` wins, then ARIA_TUI_DSN, then the embedded server."""
    raw = (spec if spec is not None else os.environ.get("ARIA_TUI_DSN", "")).strip() or EMBEDDED
    if raw == EMBEDDED:
        return TargetSpec(raw, default_embedded_dir())
    if raw.startswith(EMBEDDED + ":"):
        directory = raw[len(EMBEDDED) + 1 :].strip()
        if not directory:
            return TargetSpec(raw, default_embedded_dir())
        return TargetSpec(raw, Path(directory).expanduser().resolve())
    return TargetSpec(raw, None)


def _parts(conninfo: str) -> dict[str, str]:
    # psycopg only here: main() scrubs the process title first thing, and `--help` or `sample`
    # must not pay for importing psycopg (a tenth of a second) to do it
    from psycopg.conninfo import conninfo_to_dict

    try:
        return {k: str(v) for k, v in conninfo_to_dict(conninfo).items() if v is not None}
    except Exception:
        return {}


def password_of(conninfo: str) -> str | None:
    return _parts(conninfo).get("password") or None


def location(conninfo: str) -> str:
    """host:port/database as libpq would resolve them (PG* variables included), never the password."""
    parts = _parts(conninfo)
    host = parts.get("host") or parts.get("hostaddr") or os.environ.get("PGHOST") or "localhost"
    port = parts.get("port") or os.environ.get("PGPORT") or "5432"
    user = parts.get("user") or os.environ.get("PGUSER") or ""
    database = parts.get("dbname") or os.environ.get("PGDATABASE") or user or "postgres"
    if host.startswith("/"):
        return f"socket {host} (port {port}), database {database}"
    return f"{host}:{port}, database {database}"


def display_dsn(conninfo: str) -> str:
    """A URI for people: user, host, port, database; the password, if any, as ***."""
    parts = _parts(conninfo)
    if not parts:
        return redact(conninfo, conninfo)
    user = parts.get("user", "")
    secret = ":***" if parts.get("password") else ""
    auth = f"{user}{secret}@" if user or secret else ""
    host = parts.get("host") or parts.get("hostaddr") or ""
    port = f":{parts['port']}" if parts.get("port") else ""
    database = parts.get("dbname", "")
    if host.startswith("/"):
        return f"postgresql://{auth}/{database}?host={host}"
    return f"postgresql://{auth}{host}{port}/{database}"


def redact(text: str, *conninfos: str) -> str:
    """Replace every password of the given conninfos, and any password spelled in `text` itself
    (a URI's user:secret@, a `?password=` / `&password=` query parameter, a key=value
    `password=...` quoted or not), with ***. The spelled forms are found without libpq, so a DSN
    libpq cannot parse is redacted too."""
    for conninfo in conninfos:
        secret = password_of(conninfo) if conninfo else None
        if secret:
            text = text.replace(secret, "***")
    for pattern in _TEXT_SECRETS:
        text = pattern.sub(lambda m: m.group(1) + "***" + (m.group(3) or ""), text)
    return text


# --- where a password can be spelled: in a URI's userinfo, in a URI's query, as key=value ---------
# (text patterns for messages; the byte patterns below never cross a NUL, which separates argv)
_TEXT_SECRETS = (
    re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)([^@\s]+)(@)"),
    re.compile(r"([?&]password=)([^&#\s]*)()", re.IGNORECASE),
    re.compile(r"((?<![?&])\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s'][^\s]*)()", re.IGNORECASE),
)

# --- the process title: a password typed on the command line stays out of ps and /proc/PID/cmdline
_URI_SECRET = re.compile(rb"(postgres(?:ql)?://[^:/@\s\x00]*:)([^@\s\x00]+)(@)")
_QUERY_SECRET = re.compile(rb"([?&]password=)([^&#\s\x00]+)()", re.IGNORECASE)
_KV_SECRET = re.compile(
    rb"((?<![?&])\bpassword\s*=\s*)('(?:[^'\\\x00]|\\[^\x00])*'?|[^\s\x00'][^\s\x00]*)()", re.IGNORECASE
)


def scrub_argv(raw: bytes) -> bytes:
    """The NUL-separated argv bytes `raw`, secrets overwritten with '*': the same length (argv
    memory cannot grow), every other argument unchanged."""

    def stars(m: re.Match[bytes]) -> bytes:
        return m.group(1) + b"*" * len(m.group(2)) + m.group(3)

    for pattern in (_URI_SECRET, _QUERY_SECRET, _KV_SECRET):
        raw = pattern.sub(stars, raw)
    return raw


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
        cleaned = scrub_argv(raw)
        if cleaned != raw:
            ctypes.memmove(arg_start, cleaned, size)
    except (ValueError, OSError):
        return
