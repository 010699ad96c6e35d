"""No secret in an error (issue 16, item 8): a DSN libpq cannot parse is echoed with its password
redacted in every spelling, and the process-title scrub blanks the password only, never the
arguments after it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from aria_tui.pg import dsn

SECRET = "s3cr3t-XYZ"

# each of these is refused by libpq (so password_of() cannot find the password for redact)
UNPARSEABLE = [
    f"host=h password={SECRET} dbname",  # key without '='
    f"host=h password='{SECRET} with space' nokey",
    f"host=h password='{SECRET}",  # quote never closed
    f"host=h PASSWORD = {SECRET} port=",  # no value for port... and spaces around '='
    f"postgresql://u@h/db?password={SECRET}&bogus_option=1",
    f"postgresql://u@h/db?sslmode=require&password={SECRET}&bogus=1",
    f"postgresql://u:{SECRET}@h:notaport/db",
]


@pytest.mark.parametrize("bad", UNPARSEABLE)
def test_unparseable_dsn_is_redacted_in_every_spelling(bad):
    shown = dsn.redact(f"The DSN {bad} is not valid.", bad)
    assert SECRET not in shown and "s3cr3t" not in shown, shown
    assert "***" in shown


def test_redact_keeps_what_is_not_secret():
    text = "host=h password=abc dbname=db user=u"
    assert dsn.redact(text) == "host=h password=*** dbname=db user=u"
    uri = "postgresql://u@h/db?password=abc&sslmode=require"
    assert dsn.redact(uri) == "postgresql://u@h/db?password=***&sslmode=require"
    assert dsn.redact("password='a b\\'c' port=5") == "password=*** port=5"


@pytest.mark.parametrize("bad", UNPARSEABLE)
def test_cli_echoes_an_unparseable_dsn_without_its_password(bad, cli, tmp_path):
    code, out, err = cli("scan", tmp_path, "--dsn", bad, "--json")
    assert code != 0
    assert "Traceback" not in err
    assert SECRET not in out + err and "s3cr3t" not in out + err, err


def test_scrub_stops_at_the_argument_boundary():
    """argv is NUL-separated: a password's value ends at the NUL, the next arguments stay."""
    raw = b"aria-tui\x00load\x00--dsn\x00host=h password=" + SECRET.encode() + b"\x00exp\x00--json\x00"
    cleaned = dsn.scrub_argv(raw)
    assert len(cleaned) == len(raw)
    assert cleaned == raw.replace(SECRET.encode(), b"*" * len(SECRET))
    uri = b"x\x00postgresql://u@h/db?password=" + SECRET.encode() + b"\x00a@b\x00"
    assert dsn.scrub_argv(uri) == uri.replace(SECRET.encode(), b"*" * len(SECRET))
    quoted = b"x\x00host=h password='" + SECRET.encode() + b"' port=5\x00--yes\x00"
    scrubbed = dsn.scrub_argv(quoted)
    assert SECRET.encode() not in scrubbed and len(scrubbed) == len(quoted)
    assert scrubbed.endswith(b"' port=5\x00--yes\x00") or scrubbed.endswith(b"* port=5\x00--yes\x00")
    # a URI password, then an argument with an @ in it: only the password
    userinfo = b"postgresql://u:" + SECRET.encode() + b"@h/db\x00me@example\x00"
    assert dsn.scrub_argv(userinfo) == userinfo.replace(SECRET.encode(), b"*" * len(SECRET))


def test_process_title_keeps_arguments_after_a_key_value_password(tmp_path):
    """The real thing: a running process's /proc/PID/cmdline after the scrub."""
    script = (
        "import sys, time\n"
        "from aria_tui.pg.dsn import scrub_process_title\n"
        "scrub_process_title()\n"
        "print('ready', flush=True)\n"
        "time.sleep(5)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "--dsn", f"host=h password={SECRET}", "after-it", "--json"],
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        raw = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
    finally:
        proc.kill()
        proc.wait()
        time.sleep(0)
    assert SECRET.encode() not in raw
    args = raw.split(b"\x00")
    assert b"after-it" in args and b"--json" in args, raw
    assert f"host=h password={'*' * len(SECRET)}".encode() in args
