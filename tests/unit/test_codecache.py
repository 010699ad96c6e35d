"""The compiled dataclass methods kept between runs (aria_tui/codecache.py): a second process
reads them instead of compiling, and a cached text never stands in for another."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# a process that imports aria_tui (which installs the cache), defines one dataclass from the
# source given, and prints what the class does and how many texts it had to compile
PROBE = """
import dataclasses, json, sys
import aria_tui
from aria_tui import codecache
ns = {}
exec(sys.argv[1], {"dataclasses": dataclasses}, ns)
C = ns["C"]
before = codecache._compiled
one, two = C(*json.loads(sys.argv[2])), C(*json.loads(sys.argv[2]))
try:
    one.a = 99
    frozen = False
except dataclasses.FrozenInstanceError:
    frozen = True
print(json.dumps({"repr": repr(one), "eq": one == two, "hash": hash(one) == hash(two),
                  "frozen": frozen, "fields": [f.name for f in dataclasses.fields(C)],
                  "compiled": codecache._compiled, "cached": codecache._path.exists()}))
"""


def probe(cache: Path, source: str, args: list[object]) -> dict:
    env = {**os.environ, "ARIA_TUI_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, source, json.dumps(args)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


TWO = "@dataclasses.dataclass(frozen=True)\nclass C:\n    a: int\n    b: int = 1\n"
THREE = (
    "@dataclasses.dataclass(frozen=True)\nclass C:\n    a: int\n    b: int = 1\n    c: str = 'x'\n"
)


def test_a_second_run_compiles_nothing_and_its_classes_behave_the_same(tmp_path):
    first = probe(tmp_path, TWO, [3, 4])
    assert first["compiled"] > 0  # the package's own dataclasses and this one
    files = list(tmp_path.glob("dataclass-methods.*.marshal"))
    assert len(files) == 1 and files[0].stat().st_mode & 0o077 == 0
    second = probe(tmp_path, TWO, [3, 4])
    assert second["compiled"] == 0
    for key in ("repr", "eq", "hash", "frozen", "fields"):
        assert second[key] == first[key]
    assert second["repr"] == "C(a=3, b=4)" and second["frozen"] and second["eq"]


def test_a_class_with_the_same_name_and_other_fields_gets_its_own_methods(tmp_path):
    probe(tmp_path, TWO, [3, 4])
    other = probe(tmp_path, THREE, [3, 4, "z"])
    assert other["compiled"] > 0
    assert other["repr"] == "C(a=3, b=4, c='z')"
    assert other["fields"] == ["a", "b", "c"]


def test_a_default_changed_between_runs_is_the_new_one(tmp_path):
    probe(tmp_path, TWO, [3])
    changed = probe(tmp_path, TWO.replace("b: int = 1", "b: int = 7"), [3])
    assert changed["repr"] == "C(a=3, b=7)"


def test_a_damaged_or_foreign_file_is_ignored_and_written_again(tmp_path):
    probe(tmp_path, TWO, [1, 2])
    (cache,) = tmp_path.glob("dataclass-methods.*.marshal")
    for junk in (
        b"",
        b"\x00" * 100,
        cache.read_bytes()[:4] + b"garbage",
        b"XXXX" + cache.read_bytes()[4:],
    ):
        cache.write_bytes(junk)
        again = probe(tmp_path, TWO, [1, 2])
        assert again["repr"] == "C(a=1, b=2)" and again["compiled"] > 0
        assert probe(tmp_path, TWO, [1, 2])["compiled"] == 0


def test_a_folder_that_cannot_be_written_changes_nothing(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    got = probe(blocked / "cache", TWO, [5, 6])
    assert got["repr"] == "C(a=5, b=6)" and not got["cached"]
